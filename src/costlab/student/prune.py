"""Students built from the teacher by measured importance, or loaded pretrained.

Depth: a layer's importance is the calibration perplexity of the model with that layer removed (drop-ppl);
block influence (BI = 1 − cos(layer input, layer output), ShortGPT) is one pass and ranks the ends right but,
on SmolLM2-135M, calls layers 8 and 11 unimportant although removing either costs 4–6× perplexity
(docs/facts.md). So BI only shortlists candidates and drop-ppl decides among them.
Width: MLP channels ranked by mean |act(gate(x)) · up(x)| over calibration tokens (the input of down_proj).
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


def decoder_layers(model) -> nn.ModuleList:
    inner = getattr(model, "model", None)
    layers = getattr(inner, "layers", None)
    if not isinstance(layers, nn.ModuleList):
        raise CostlabError(f"{type(model).__name__}: no model.layers ModuleList",
                           "pruning supports Llama/Qwen/Mistral-style decoders; use student=pretrained instead")
    return layers


def set_layers(model, keep: list[int]) -> None:
    """Keep only decoder layers ``keep`` (in order), fixing layer_idx (KV cache) and the config."""
    layers = decoder_layers(model)
    new = nn.ModuleList([layers[i] for i in keep])
    for j, layer in enumerate(new):
        attn = getattr(layer, "self_attn", None)
        if attn is not None and hasattr(attn, "layer_idx"):
            attn.layer_idx = j
    model.model.layers = new
    model.config.num_hidden_layers = len(keep)
    lt = getattr(model.config, "layer_types", None)
    if lt is not None and len(lt) > max(keep, default=-1):
        model.config.layer_types = [lt[i] for i in keep]


@torch.no_grad()
def calib_nll(model, batches: list[torch.Tensor]) -> float:
    tot, n = 0.0, 0
    for ids in batches:
        logits = model(input_ids=ids).logits[:, :-1].float()
        nll = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1),
                                                reduction="sum")
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
    """Calibration perplexity with each candidate layer removed (one pass per candidate)."""
    n = len(decoder_layers(model))
    original = list(decoder_layers(model))
    out = {}
    try:
        for i in tqdm(candidates, desc="drop-ppl per layer", leave=False):
            set_layers(model, [j for j in range(n) if j != i])
            out[i] = math.exp(min(calib_nll(model, batches), 700.0))
            model.model.layers = nn.ModuleList(original)
            for j, layer in enumerate(original):
                if hasattr(getattr(layer, "self_attn", None), "layer_idx"):
                    layer.self_attn.layer_idx = j
            model.config.num_hidden_layers = n
    finally:
        model.model.layers = nn.ModuleList(original)
        model.config.num_hidden_layers = n
    return out


@torch.no_grad()
def mlp_channel_importance(model, batches: list[torch.Tensor]) -> list[torch.Tensor]:
    """Mean |act(gate)·up| per MLP channel per layer (the input of down_proj)."""
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


def prune_mlp(model, importance: list[torch.Tensor], width: int) -> None:
    for layer, imp in zip(decoder_layers(model), importance):
        keep = imp.topk(width).indices.sort().values
        mlp = layer.mlp
        for name in ("gate_proj", "up_proj"):
            lin = getattr(mlp, name)
            new = nn.Linear(lin.in_features, width, bias=lin.bias is not None, dtype=lin.weight.dtype)
            new.weight.data = lin.weight.data[keep].clone()
            if lin.bias is not None:
                new.bias.data = lin.bias.data[keep].clone()
            setattr(mlp, name, new)
        d = mlp.down_proj
        new = nn.Linear(width, d.out_features, bias=d.bias is not None, dtype=d.weight.dtype)
        new.weight.data = d.weight.data[:, keep].clone()
        if d.bias is not None:
            new.bias.data = d.bias.data.clone()
        mlp.down_proj = new
        if hasattr(mlp, "intermediate_size"):
            mlp.intermediate_size = width
    model.config.intermediate_size = width


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
        batches = make_calib_batches(calib_ids, self.calib_tokens, self.calib_seq_len)
        student = copy.deepcopy(teacher).float().eval()
        n = len(decoder_layers(student))
        if not 0 <= self.drop_layers < n:
            raise CostlabError(f"student.drop_layers={self.drop_layers} but the teacher has {n} layers")
        rep: dict[str, Any] = {"teacher_params": n_params(teacher), "teacher_layers": n, "same_tokenizer": True,
                               "calib_tokens": sum(b.numel() for b in batches)}
        if self.drop_layers:
            bi = block_influence(student, batches)
            rep["block_influence"] = [round(x, 5) for x in bi]
            order = sorted(range(n), key=lambda i: bi[i])
            if self.importance == "drop_ppl":
                cands = order if not self.shortlist else order[: max(self.shortlist, self.drop_layers)]
                dp = drop_ppl(student, batches, cands)
                rep["drop_ppl"] = {str(k): round(v, 3) for k, v in dp.items()}
                rep["base_ppl"] = round(math.exp(calib_nll(student, batches)), 3)
                order = sorted(dp, key=dp.get)
            dropped = sorted(order[: self.drop_layers])
            set_layers(student, [i for i in range(n) if i not in dropped])
            rep["dropped_layers"] = dropped
        if self.mlp_width:
            cur = student.config.intermediate_size
            if not 0 < self.mlp_width <= cur:
                raise CostlabError(f"student.mlp_width={self.mlp_width} must be in (0, {cur}]")
            prune_mlp(student, mlp_channel_importance(student, batches), int(self.mlp_width))
            rep["mlp_width"] = [cur, int(self.mlp_width)]
        for p in student.parameters():  # a copy of a frozen teacher inherits requires_grad=False
            p.requires_grad_(True)
        rep["student_params"] = n_params(student)
        rep["param_ratio"] = round(rep["student_params"] / rep["teacher_params"], 4)
        rep["student_ppl_calib"] = round(math.exp(min(calib_nll(student, batches), 700.0)), 3)
        self.report = rep
        return student


@dataclass
class PretrainedStudent:
    """A smaller pretrained model (must share the teacher's tokenizer for logit KD)."""

    source: str = "hf"
    path: str = "???"
    dtype: str = "float32"
    cache_dir: str = ".cache"  # where a GGUF student is dequantized once
    report: dict = field(default_factory=dict)

    def build(self, teacher, tokenizer, calib_ids: list[list[int]]):
        from costlab.models import load_causal_lm, resolve_hf_dir

        from costlab.models import load_tokenizer

        path = resolve_hf_dir({"source": self.source, "path": self.path}, self.cache_dir)
        student = load_causal_lm(path, self.dtype)
        for p in student.parameters():
            p.requires_grad_(True)
        # Same tokenizer = same token→id map. Vocab *sizes* may still differ (padded embedding rows, e.g.
        # Qwen2.5-7B 152064 vs 0.5B 151936); KD then compares the first len(tokenizer) logits.
        same = load_tokenizer(path).get_vocab() == tokenizer.get_vocab()
        self.report = {"pretrained": str(self.path), "same_tokenizer": same, "student_params": n_params(student),
                       "teacher_params": n_params(teacher),
                       "param_ratio": round(n_params(student) / n_params(teacher), 4)}
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
        raise CostlabError(f"calibration text has {len(flat)} tokens, fewer than one sequence of {seq_len}",
                           "generate more teacher data or lower student.calib_seq_len")
    rows = torch.tensor(flat[: n * seq_len]).view(n, seq_len)
    return [rows[i: i + batch] for i in range(0, n, batch)]
