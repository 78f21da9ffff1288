"""Students built from the teacher by measured importance, or loaded pretrained.

Depth: a layer's importance is the calibration perplexity of the model with that layer removed (drop-ppl);
block influence (BI = 1 − cos(layer input, layer output), ShortGPT) is one pass and ranks the ends right but,
on SmolLM2-135M, calls layers 8 and 11 unimportant although removing either costs 4–6× perplexity
(docs/facts.md). So BI only shortlists candidates and drop-ppl decides among them.
Layers are removed one at a time and the rest re-measured after each removal (:func:`iterative_drop`): the
cost of removing a layer depends on which others are already gone, so the k best single drops taken together
are not the best k-layer removal.
Width (Minitron-style activation × weight): MLP channel j ranked by mean |act(gate(x)) · up(x)|_j over calibration
tokens (the input of down_proj) times ‖down_proj[:, j]‖₂, i.e. the mean size of its contribution to the output.
Every measurement goes into ``report`` (→ student_build.json).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from costlab.errors import CostlabError
from costlab.student.families import family_of


def decoder_layers(model) -> nn.ModuleList:
    inner = getattr(model, "model", None)
    layers = getattr(inner, "layers", None)
    if not isinstance(layers, nn.ModuleList):
        raise CostlabError(
            f"{type(model).__name__}: no model.layers ModuleList",
            "pruning supports the decoder families in docs/families.md; use student=pretrained instead",
        )
    return layers


def _per_layer_config(config) -> dict[str, list]:
    """Config lists with one entry per decoder layer (``layer_types``: sliding vs full attention per layer)."""
    n = config.num_hidden_layers
    return {
        k: list(v) for k in ("layer_types",) if isinstance(v := getattr(config, k, None), (list, tuple)) and len(v) == n
    }


def set_layers(model, keep: list[int]) -> None:
    """Keep only the current decoder layers ``keep`` (in order), fixing layer_idx (KV cache) and every per-layer
    config list (``layer_types`` must stay as long as ``num_hidden_layers``: transformers indexes it per layer)."""
    layers = decoder_layers(model)
    lists = _per_layer_config(model.config)
    if getattr(model.config, "layer_types", None) is not None and "layer_types" not in lists:
        raise CostlabError(
            f"config.layer_types has {len(model.config.layer_types)} entries for {len(layers)} layers",
            "the model config is inconsistent; reload the model",
        )
    new = nn.ModuleList([layers[i] for i in keep])
    for j, layer in enumerate(new):
        attn = getattr(layer, "self_attn", None)
        if attn is not None and hasattr(attn, "layer_idx"):
            attn.layer_idx = j
    model.model.layers = new
    model.config.num_hidden_layers = len(keep)
    for k, v in lists.items():
        setattr(model.config, k, [v[i] for i in keep])


def snapshot_layers(model) -> dict[str, Any]:
    """What set_layers changes, so a trial removal can be undone exactly (see restore_layers)."""
    layers = list(decoder_layers(model))
    return {
        "layers": layers,
        "num_hidden_layers": model.config.num_hidden_layers,
        "lists": _per_layer_config(model.config),
        "layer_idx": [getattr(getattr(l, "self_attn", None), "layer_idx", None) for l in layers],
    }


def restore_layers(model, snap: dict[str, Any]) -> None:
    model.model.layers = nn.ModuleList(snap["layers"])
    for layer, idx in zip(snap["layers"], snap["layer_idx"]):
        if idx is not None:
            layer.self_attn.layer_idx = idx
    model.config.num_hidden_layers = snap["num_hidden_layers"]
    for k, v in snap["lists"].items():
        setattr(model.config, k, list(v))


@torch.no_grad()
def calib_nll(model, batches: list[torch.Tensor]) -> float:
    tot, n = 0.0, 0
    for ids in batches:
        logits = model(input_ids=ids).logits[:, :-1].float()
        nll = torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1), reduction="sum"
        )
        tot += float(nll)
        n += ids[:, 1:].numel()
    return tot / max(n, 1)


@torch.no_grad()
def block_influence(model, batches: list[torch.Tensor]) -> list[float]:
    """BI_i = 1 − mean cos(h_in, h_out) of decoder layer i over calibration tokens."""
    layers = decoder_layers(model)
    sums = [0.0] * len(layers)
    counts = [0] * len(layers)
    hooks = []

    def mk(i):
        def hook(mod, args, kwargs, out):
            h_in = args[0] if args else kwargs["hidden_states"]
            h_out = out[0] if isinstance(out, tuple) else out
            cos = torch.nn.functional.cosine_similarity(h_in.float(), h_out.float(), dim=-1)
            sums[i] += float((1 - cos).sum())
            counts[i] += cos.numel()

        return hook

    for i, layer in enumerate(layers):
        hooks.append(layer.register_forward_hook(mk(i), with_kwargs=True))
    try:
        for ids in batches:
            model(input_ids=ids)
    finally:
        for h in hooks:
            h.remove()
    return [s / max(c, 1) for s, c in zip(sums, counts)]


@torch.no_grad()
def drop_ppl(model, batches: list[torch.Tensor], candidates: list[int]) -> dict[int, float]:
    """Calibration perplexity with each candidate layer (current index) removed, one pass per candidate; the
    model (layers, layer_idx, num_hidden_layers, layer_types) is restored after every trial."""
    n = len(decoder_layers(model))
    snap = snapshot_layers(model)
    out = {}
    try:
        for i in tqdm(candidates, desc="drop-ppl per layer", leave=False):
            set_layers(model, [j for j in range(n) if j != i])
            out[i] = math.exp(min(calib_nll(model, batches), 700.0))
            restore_layers(model, snap)
    finally:
        restore_layers(model, snap)
    return out


def iterative_drop(
    model, batches: list[torch.Tensor], k: int, importance: str = "drop_ppl", shortlist: int = 0
) -> tuple[list[int], list[dict]]:
    """Remove ``k`` layers one at a time, re-measuring after each removal (the cost of removing a layer depends on
    which others are already gone). drop_ppl: block influence of the full model shortlists the ``shortlist``
    lowest-BI layers (0 = all), then each round measures calibration perplexity with each remaining candidate
    removed and drops the cheapest. block_influence: BI is recomputed on the current model each round.

    Mutates ``model`` (the layers are removed). Returns (dropped layers as indices of the original model,
    one record per round with every measurement, keyed by original index).
    """
    n = len(decoder_layers(model))
    kept = list(range(n))  # original index of each current layer
    bi0 = block_influence(model, batches)
    if importance == "drop_ppl":
        order = sorted(range(n), key=lambda i: bi0[i])
        cands = order if not shortlist else order[: max(int(shortlist), k)]
    rounds: list[dict] = []
    for r in range(k):
        rec: dict[str, Any] = {
            "round": r + 1,
            "layers_before": len(kept),
            "ppl_before": round(math.exp(min(calib_nll(model, batches), 700.0)), 4),
        }
        if importance == "drop_ppl":
            cur = [kept.index(c) for c in cands if c in kept]
            dp = drop_ppl(model, batches, cur)
            scores = {kept[i]: v for i, v in dp.items()}
            rec["drop_ppl"] = {str(i): round(v, 4) for i, v in sorted(scores.items())}
        else:
            bi = bi0 if r == 0 else block_influence(model, batches)
            scores = {kept[i]: v for i, v in enumerate(bi)}
            rec["block_influence"] = {str(i): round(v, 6) for i, v in sorted(scores.items())}
        best = min(scores, key=scores.get)
        rec["dropped"] = best
        rounds.append(rec)
        set_layers(model, [j for j, orig in enumerate(kept) if orig != best])
        kept.remove(best)
    return sorted(set(range(n)) - set(kept)), rounds


@torch.no_grad()
def mlp_activation_means(model, batches: list[torch.Tensor]) -> list[torch.Tensor]:
    """Mean |act(gate)·up| per MLP channel per layer over calibration tokens (the input of down_proj)."""
    layers = decoder_layers(model)
    acc = [None] * len(layers)
    count = [0]
    hooks = []
    for i, layer in enumerate(layers):
        down = layer.mlp.down_proj

        def hook(mod, args, i=i):
            a = args[0].detach().abs().float().reshape(-1, args[0].shape[-1]).sum(0)
            acc[i] = a if acc[i] is None else acc[i] + a

        hooks.append(down.register_forward_pre_hook(hook))
    try:
        for ids in batches:
            model(input_ids=ids)
            count[0] += ids.numel()
    finally:
        for h in hooks:
            h.remove()
    return [a / max(count[0], 1) for a in acc]


def down_proj_column_norms(model) -> list[torch.Tensor]:
    """‖down_proj[:, j]‖₂ per channel j: how much channel j can move the residual stream per unit activation."""
    return [layer.mlp.down_proj.weight.detach().float().norm(dim=0) for layer in decoder_layers(model)]


@torch.no_grad()
def mlp_channel_importance(model, batches: list[torch.Tensor]) -> list[torch.Tensor]:
    """Minitron-style channel importance: mean |act(gate)·up| × ‖down_proj column‖₂ — the mean magnitude of each
    channel's contribution to the layer output (activation alone ignores that down_proj may scale it away)."""
    return [a * w for a, w in zip(mlp_activation_means(model, batches), down_proj_column_norms(model))]


def _slice_linear(lin: nn.Linear, rows: torch.Tensor | None = None, cols: torch.Tensor | None = None) -> nn.Linear:
    w = lin.weight.data
    w = w[rows] if rows is not None else w
    w = w[:, cols] if cols is not None else w
    new = nn.Linear(w.shape[1], w.shape[0], bias=lin.bias is not None, dtype=w.dtype)
    new.weight.data = w.clone()
    if lin.bias is not None:
        new.bias.data = (lin.bias.data[rows] if rows is not None else lin.bias.data).clone()
    return new


def prune_mlp(model, importance: list[torch.Tensor], width: int) -> list[torch.Tensor]:
    """Keep the ``width`` most important channels of every MLP; returns the kept channel indices per layer."""
    kept = []
    for layer, imp in zip(decoder_layers(model), importance):
        keep = imp.topk(width).indices.sort().values
        kept.append(keep)
        mlp = layer.mlp
        if hasattr(mlp, "gate_up_proj"):  # fused (Phi-3): rows [0, I) are the gate, [I, 2I) the up projection
            inter = mlp.gate_up_proj.out_features // 2
            mlp.gate_up_proj = _slice_linear(mlp.gate_up_proj, rows=torch.cat([keep, keep + inter]))
        else:
            for name in ("gate_proj", "up_proj"):
                setattr(mlp, name, _slice_linear(getattr(mlp, name), rows=keep))
        mlp.down_proj = _slice_linear(mlp.down_proj, cols=keep)
        if hasattr(mlp, "intermediate_size"):
            mlp.intermediate_size = width
    model.config.intermediate_size = width
    return kept


def n_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


@dataclass
class PrunedStudent:
    """Teacher copy with ``drop_layers`` decoder layers removed and MLP width cut to ``mlp_width``."""

    drop_layers: int = 2
    importance: str = "drop_ppl"
    shortlist: int = 8
    mlp_width: int | None = None
    calib_tokens: int = 2048
    calib_seq_len: int = 128
    report: dict = field(default_factory=dict)

    def build(self, teacher, tokenizer, calib_ids: list[list[int]]):
        if self.importance not in ("drop_ppl", "block_influence"):
            raise CostlabError(f"student.importance={self.importance!r}", "use drop_ppl or block_influence")
        fam = family_of(teacher, f"teacher {getattr(teacher, 'name_or_path', '') or ''}".strip())
        n = teacher.config.num_hidden_layers
        if not 0 <= self.drop_layers < n:
            raise CostlabError(
                f"student.drop_layers={self.drop_layers} but the teacher has {n} layers", f"use 0..{n - 1}"
            )
        cur = teacher.config.intermediate_size
        if self.mlp_width is not None and not 0 < self.mlp_width <= cur:
            raise CostlabError(
                f"student.mlp_width={self.mlp_width} must be in (0, {cur}]",
                "set a smaller width, or null to keep the teacher's",
            )
        batches = make_calib_batches(calib_ids, self.calib_tokens, self.calib_seq_len)
        student = copy.deepcopy(teacher).float().eval()
        rep: dict[str, Any] = {
            "teacher_params": n_params(teacher),
            "teacher_layers": n,
            "same_tokenizer": True,
            "family": fam.model_type,
            "calib_tokens": sum(b.numel() for b in batches),
            "base_ppl": round(math.exp(min(calib_nll(student, batches), 700.0)), 4),
        }
        if self.drop_layers:
            dropped, rounds = iterative_drop(
                student, batches, int(self.drop_layers), self.importance, int(self.shortlist or 0)
            )
            rep["depth"] = {
                "method": f"iterative {self.importance}: remove the cheapest layer, re-measure the rest",
                "shortlist": int(self.shortlist or 0),
                "rounds": rounds,
            }
            rep["dropped_layers"] = dropped
        if self.mlp_width:
            act = mlp_activation_means(student, batches)
            col = down_proj_column_norms(student)
            imp = [a * w for a, w in zip(act, col)]
            kept = prune_mlp(student, imp, int(self.mlp_width))
            rep["mlp_width"] = [cur, int(self.mlp_width)]
            rep["width"] = {
                "method": "mean |act(gate)·up| × ‖down_proj column‖₂ (Minitron), per layer top-k",
                "layers": [_width_record(a, w, i, k) for a, w, i, k in zip(act, col, imp, kept)],
            }
        for p in student.parameters():  # a copy of a frozen teacher inherits requires_grad=False
            p.requires_grad_(True)
        rep["student_params"] = n_params(student)
        rep["param_ratio"] = round(rep["student_params"] / rep["teacher_params"], 4)
        rep["student_ppl_calib"] = round(math.exp(min(calib_nll(student, batches), 700.0)), 4)
        self.report = rep
        return student


def _width_record(act: torch.Tensor, col: torch.Tensor, imp: torch.Tensor, keep: torch.Tensor) -> dict:
    """Per-layer summary of the channel measurements (the full vectors would be ~100k numbers on a real model)."""
    mask = torch.zeros_like(imp, dtype=torch.bool)
    mask[keep] = True
    q = torch.tensor([0.0, 0.5, 1.0])
    r = lambda t: [round(float(x), 6) for x in t]  # noqa: E731
    return {
        "channels": int(imp.numel()),
        "kept": int(mask.sum()),
        "importance_share_kept": round(float(imp[mask].sum() / imp.sum().clamp(min=1e-30)), 5),
        "activation_share_kept": round(float(act[mask].sum() / act.sum().clamp(min=1e-30)), 5),
        "importance_min_max_kept": r([imp[mask].min(), imp[mask].max()]) if mask.any() else None,
        "importance_max_dropped": round(float(imp[~mask].max()), 6) if (~mask).any() else None,
        "activation_quantiles": r(act.quantile(q)),
        "down_col_norm_quantiles": r(col.quantile(q)),
        "kept_by_activation_alone": int(mask[act.topk(int(mask.sum())).indices].sum()),
    }


@dataclass
class PretrainedStudent:
    """A smaller pretrained model (must share the teacher's tokenizer for logit KD)."""

    source: str = "hf"
    path: str = "???"
    dtype: str = "float32"
    cache_dir: str = ".cache"  # where a GGUF student is dequantized once
    report: dict = field(default_factory=dict)

    def build(self, teacher, tokenizer, calib_ids: list[list[int]]):
        from costlab.models import load_causal_lm, load_tokenizer, resolve_hf_dir

        # Same tokenizer = same token→id map, checked first: before the weights are loaded (or a GGUF student is
        # dequantized into the cache). The training data is in the teacher's token ids, so a student with another
        # tokenizer would learn from the wrong ids under every teacher_signal. Vocab *sizes* may still differ
        # (padded embedding rows, e.g. Qwen2.5-7B 152064 vs 0.5B 151936); KD then compares the first len(tokenizer).
        if self.source == "gguf":
            from pathlib import Path

            from transformers import AutoTokenizer

            g = Path(self.path)
            if not g.is_file():
                raise CostlabError(f"student GGUF not found: {g}", "check student.path")
            stok = AutoTokenizer.from_pretrained(g.parent, gguf_file=g.name)
        else:
            stok = load_tokenizer(resolve_hf_dir({"source": self.source, "path": self.path}, self.cache_dir))
        if stok.get_vocab() != tokenizer.get_vocab():
            t_name = getattr(teacher, "name_or_path", "") or "the teacher"
            raise CostlabError(
                f"tokenizer mismatch: the student {self.path} ({len(stok)} tokens) does not share the tokenizer of "
                f"{t_name} ({len(tokenizer)} tokens); the teacher data and the KD loss are in the teacher's "
                "token ids",
                "pick a student from the teacher's model family that uses the same tokenizer "
                "(e.g. Qwen2.5-0.5B-Instruct for Qwen2.5-7B-Instruct), or student=pruned",
            )
        path = resolve_hf_dir({"source": self.source, "path": self.path}, self.cache_dir)
        student = load_causal_lm(path, self.dtype)
        for p in student.parameters():
            p.requires_grad_(True)
        self.report = {
            "pretrained": str(self.path),
            "same_tokenizer": True,
            "student_params": n_params(student),
            "family": getattr(student.config, "model_type", None),
            "teacher_params": n_params(teacher),
            "param_ratio": round(n_params(student) / n_params(teacher), 4),
        }
        return student


def make_calib_batches(seqs: list[list[int]], total_tokens: int, seq_len: int, batch: int = 4) -> list[torch.Tensor]:
    """Pack token sequences into [batch, seq_len] tensors until ``total_tokens``."""
    flat: list[int] = []
    for s in seqs:
        flat.extend(s)
        if len(flat) >= total_tokens:
            break
    n = min(len(flat), total_tokens) // seq_len
    if n == 0:
        raise CostlabError(
            f"calibration text has {len(flat)} tokens, fewer than one sequence of {seq_len}",
            "generate more teacher data or lower student.calib_seq_len",
        )
    rows = torch.tensor(flat[: n * seq_len]).view(n, seq_len)
    return [rows[i : i + batch] for i in range(0, n, batch)]
