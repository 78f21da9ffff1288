"""Fidelity to the reference, one method for every format.

The reference's top-k log-probs (T=1, float32) on the held-out token sequences are computed once from the
reference variant (``eval.reference``, an HF variant) and stored in ``eval/reference/``; every variant is then
compared to that file: mean KL(reference‖variant) between (k+1)-way distributions (top-k + tail bucket: a lower
bound of the dense KL, named ``kl_topk_lower_bound`` in every file), top-1 agreement and perplexity — via
``costlab.fidelity`` (the same accumulator the distillation healing report uses), fed with the logits any eval
backend yields (HF forward, llama.cpp ``Llama(logits_all=True).eval(tokens)``). Each figure carries a bootstrap
interval over sequences (``costlab.stats.mean_ci``, token-weighted).

All variants are scored on the same token ids (the teacher tokenizer's); a variant with another vocabulary is
an error, not a silent re-tokenization.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import torch
import torch.nn.functional as F

from costlab.errors import CostlabError
from costlab.eval.schema import KL_METHOD
from costlab.fidelity import FidelityAccumulator
from costlab.io import atomic_write_json, read_json
from costlab.stats import mean_ci

REF_NPZ = "teacher_topk.npz"
REF_META = "teacher_topk.json"


# ---------------------------------------------------------------------------------------------- sequences
def load_sequences(fcfg: Mapping[str, Any], run_dir: Path, tokenizer) -> tuple[list[dict], str]:
    """Held-out token sequences ``[{input_ids, start}]`` (targets are positions start..L-1) and a description.

    ``fcfg.source``: ``heldout`` = the run's teacher_data/heldout.jsonl (prompt ids + teacher response ids;
    the response tokens are scored), or a path to a plain-text file (tokenized, cut into ``seq_len`` chunks).
    """
    src, seq_len = str(fcfg["source"]), fcfg["seq_len"]
    max_seqs, max_tokens = fcfg["max_sequences"], fcfg["max_tokens"]
    seqs: list[dict] = []
    if src == "heldout":
        path = Path(run_dir) / "teacher_data" / "heldout.jsonl"
        if not path.exists():
            raise CostlabError(
                f"{path}: not found (eval.fidelity.source=heldout)",
                "run generate_teacher first, or set eval.fidelity.source to a text file",
            )
        from costlab.distill.data import load_teacher_rows, row_tokens

        for row in load_teacher_rows(path):
            p, r = row_tokens(row, tokenizer)
            ids = (p + r)[:seq_len]
            if len(ids) - len(p) >= 1 and len(p) >= 1:
                seqs.append({"input_ids": ids, "start": len(p)})
        desc = f"{path} (teacher responses to held-out prompts)"
    else:
        path = Path(src)
        if not path.is_file():
            raise CostlabError(f"eval.fidelity.source: {path} is not a file", "use 'heldout' or a path to a .txt file")
        ids = tokenizer(path.read_text(encoding="utf-8"), add_special_tokens=False)["input_ids"]
        for i in range(0, len(ids) - 1, seq_len):
            chunk = ids[i : i + seq_len]
            if len(chunk) >= 2:
                seqs.append({"input_ids": chunk, "start": 1})
        desc = str(path)
    out, n = [], 0
    for s in seqs:
        if (max_seqs is not None and len(out) >= max_seqs) or n >= max_tokens:
            break
        out.append(s)
        n += len(s["input_ids"]) - s["start"]
    if not out:
        raise CostlabError(f"fidelity text {desc}: no usable sequences", "check eval.fidelity.source")
    return out, desc


def _digest(seqs: list[dict]) -> str:
    h = hashlib.sha256()
    for s in seqs:
        h.update(np.asarray(s["input_ids"], dtype=np.int64).tobytes())
        h.update(str(s["start"]).encode())
    return h.hexdigest()[:16]


# ---------------------------------------------------------------------------------------------- reference
@torch.no_grad()
def build_reference(
    logits_iter: Iterable[torch.Tensor], seqs: list[dict], k: int, out_dir: Path, source: str, model_name: str = ""
) -> dict:
    """Reference top-k (T=1) log-probs at every target position (``logits_iter`` yields [L - start, V] per
    sequence, from any eval backend), stored once as ``out_dir/teacher_topk.npz``."""
    ids_all, lp_all, tok_all, starts, lens = [], [], [], [], []
    vocab = None
    for s, logits in zip(seqs, logits_iter):
        L, st = len(s["input_ids"]), int(s["start"])
        logp = F.log_softmax(logits.float(), dim=-1)
        vocab = int(logits.shape[-1])
        v, ix = logp.topk(k, dim=-1)
        ids_all.append(ix.numpy().astype(np.int32))
        lp_all.append(v.numpy().astype(np.float32))
        tok_all.append(np.asarray(s["input_ids"], dtype=np.int32))
        starts.append(st)
        lens.append(L)
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / ("." + REF_NPZ + ".tmp.npz")
    np.savez(
        tmp,
        topk_ids=np.concatenate(ids_all),
        topk_logprobs=np.concatenate(lp_all),
        tokens=np.concatenate(tok_all),
        starts=np.asarray(starts, np.int64),
        lens=np.asarray(lens, np.int64),
    )
    tmp.replace(out_dir / REF_NPZ)
    meta = {
        "model": model_name,
        "k": k,
        "temperature": 1.0,
        "n_sequences": len(seqs),
        "n_tokens": int(sum(L - s for L, s in zip(lens, starts))),
        "digest": _digest(seqs),
        "source": source,
        "vocab_size": vocab,
    }
    atomic_write_json(out_dir / REF_META, meta)
    return meta


def load_reference(ref_dir: Path) -> tuple[list[dict], dict]:
    """Sequences with ``topk_ids``/``topk_logprobs`` aligned to their target positions (costlab.fidelity format)."""
    npz, meta_p = Path(ref_dir) / REF_NPZ, Path(ref_dir) / REF_META
    if not npz.exists() or not meta_p.exists():
        raise CostlabError(f"{ref_dir}: no teacher reference log-probs", "the evaluate stage builds them first")
    meta = read_json(meta_p)
    z = np.load(npz)
    seqs, tpos, kpos = [], 0, 0
    for st, L in zip(z["starts"].tolist(), z["lens"].tolist()):
        n = L - st
        seqs.append(
            {
                "input_ids": z["tokens"][tpos : tpos + L].tolist(),
                "start": st,
                "topk_ids": z["topk_ids"][kpos : kpos + n],
                "topk_logprobs": z["topk_logprobs"][kpos : kpos + n],
            }
        )
        tpos += L
        kpos += n
    return seqs, meta


def reference_matches(ref_dir: Path, seqs: list[dict], k: int, model_name: str) -> bool:
    p = Path(ref_dir) / REF_META
    if not p.exists() or not (Path(ref_dir) / REF_NPZ).exists():
        return False
    m = read_json(p)
    return m.get("digest") == _digest(seqs) and m.get("k") == k and m.get("model") == model_name


# ---------------------------------------------------------------------------------------------- variants
def _check_vocab(meta: dict, vocab: int, name: str) -> None:
    if meta.get("vocab_size") is not None and int(meta["vocab_size"]) != int(vocab):
        # HF pads some vocabularies (extra rows never predicted); only a smaller vocab breaks the comparison.
        if int(vocab) < int(meta["vocab_size"]):
            raise CostlabError(
                f"variant {name}: vocabulary {vocab} < teacher's {meta['vocab_size']}",
                "fidelity compares token distributions; the variant must share the teacher tokenizer",
            )


def variant_fidelity(
    logits_iter: Iterable[torch.Tensor],
    vocab: int,
    ref_seqs: list[dict],
    meta: dict,
    name: str,
    *,
    confidence: float,
    n_boot: int,
    seed: int,
) -> dict:
    """KL (top-k lower bound), top-1 agreement and perplexity of one variant vs the stored reference, each with a
    token-weighted bootstrap interval over sequences."""
    _check_vocab(meta, vocab, name)
    acc = FidelityAccumulator()
    for s, logits in zip(ref_seqs, logits_iter):
        ids, st = s["input_ids"], int(s["start"])
        acc.add(
            logits,
            torch.tensor(ids[st:]),
            teacher_topk_ids=torch.as_tensor(np.asarray(s["topk_ids"], np.int64)),
            teacher_topk_logprobs=torch.as_tensor(np.asarray(s["topk_logprobs"], np.float32)),
        )
    return _finish(acc, meta, confidence=confidence, n_boot=n_boot, seed=seed)


def _finish(acc: FidelityAccumulator, meta: dict, *, confidence: float, n_boot: int, seed: int) -> dict:
    res = acc.result()
    if not acc.per_seq:
        raise CostlabError("fidelity: 0 sequences scored", "check eval.fidelity.source / max_tokens")
    w = [r["n"] for r in acc.per_seq]
    kw = {"weights": w, "confidence": confidence, "n_boot": n_boot, "seed": seed}
    kl = mean_ci([r["kl"] for r in acc.per_seq], **kw)
    top1 = mean_ci([r["top1"] for r in acc.per_seq], **kw)
    nll = mean_ci([r["nll"] for r in acc.per_seq], **kw)
    out = {
        "kl_method": KL_METHOD,
        KL_METHOD: kl.mean,
        f"{KL_METHOD}_lo": kl.lo,
        f"{KL_METHOD}_hi": kl.hi,
        "top1": top1.mean,
        "top1_lo": top1.lo,
        "top1_hi": top1.hi,
        "perplexity": math.exp(nll.mean),
        "perplexity_lo": math.exp(nll.lo),
        "perplexity_hi": math.exp(nll.hi),
        "nll_mean": res["nll"],
        "n_sequences": len(acc.per_seq),
        "n_tokens": res["n_tokens"],
        "top_k": meta.get("k"),
        "confidence": confidence,
        "ci_method": kl.method,
        "kl_definition": f"KL(reference||variant) over top-{meta.get('k')} + tail bucket (lower bound of the "
        "dense KL), T=1, mean per token",
        "source": meta.get("source"),
        "reference_digest": meta.get("digest"),
        "reference_model": meta.get("model"),
    }
    return out
