"""Fidelity to the teacher, one method for every format.

The teacher's top-k log-probs (T=1, float32) on the held-out token sequences are computed once from the
reference variant (teacher-fp32, HF) and stored in ``eval/reference/``; every variant is then compared to that
file: mean KL(teacher‖variant) between (k+1)-way distributions (top-k + tail bucket, a lower bound of the dense
KL), top-1 agreement and perplexity — via ``costlab.fidelity`` (the same accumulator the distillation healing
report uses), fed with HF logits or with llama.cpp logits (``Llama(logits_all=True).eval(tokens)``).

All variants are scored on the same token ids (the teacher tokenizer's); a variant with another vocabulary is
an error, not a silent re-tokenization.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch
import torch.nn.functional as F

from costlab.errors import CostlabError
from costlab.fidelity import FidelityAccumulator, batch_logits, hf_fidelity
from costlab.io import atomic_write_json, read_json

REF_NPZ = "teacher_topk.npz"
REF_META = "teacher_topk.json"


# ---------------------------------------------------------------------------------------------- sequences
def load_sequences(fcfg: Mapping[str, Any], run_dir: Path, tokenizer) -> tuple[list[dict], str]:
    """Held-out token sequences ``[{input_ids, start}]`` (targets are positions start..L-1) and a description.

    ``fcfg.source``: ``heldout`` = the run's teacher_data/heldout.jsonl (prompt ids + teacher response ids;
    the response tokens are scored), or a path to a plain-text file (tokenized, cut into ``seq_len`` chunks).
    """
    src = str(fcfg.get("source", "heldout"))
    seq_len = int(fcfg.get("seq_len", 256))
    max_seqs = fcfg.get("max_sequences")
    max_tokens = int(fcfg.get("max_tokens", 2048))
    seqs: list[dict] = []
    if src == "heldout":
        path = Path(run_dir) / "teacher_data" / "heldout.jsonl"
        if not path.exists():
            raise CostlabError(f"{path}: not found (eval.fidelity.source=heldout)",
                               "run generate_teacher first, or set eval.fidelity.source to a text file")
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
            chunk = ids[i: i + seq_len]
            if len(chunk) >= 2:
                seqs.append({"input_ids": chunk, "start": 1})
        desc = str(path)
    out, n = [], 0
    for s in seqs:
        if (max_seqs is not None and len(out) >= int(max_seqs)) or n >= max_tokens:
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
def build_reference(model, seqs: list[dict], k: int, out_dir: Path, source: str, batch_size: int = 4,
                    model_name: str = "") -> dict:
    """Teacher top-k (T=1) log-probs at every target position, stored once as ``out_dir/teacher_topk.npz``."""
    ids_all, lp_all, tok_all, starts, lens = [], [], [], [], []
    for i in range(0, len(seqs), batch_size):
        batch = seqs[i: i + batch_size]
        logits = batch_logits(model, batch)
        for j, s in enumerate(batch):
            L, st = len(s["input_ids"]), int(s["start"])
            logp = F.log_softmax(logits[j, st - 1: L - 1].float(), dim=-1)
            v, ix = logp.topk(k, dim=-1)
            ids_all.append(ix.numpy().astype(np.int32))
            lp_all.append(v.numpy().astype(np.float32))
            tok_all.append(np.asarray(s["input_ids"], dtype=np.int32))
            starts.append(st)
            lens.append(L)
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / ("." + REF_NPZ + ".tmp.npz")
    np.savez(tmp, topk_ids=np.concatenate(ids_all), topk_logprobs=np.concatenate(lp_all),
             tokens=np.concatenate(tok_all), starts=np.asarray(starts, np.int64), lens=np.asarray(lens, np.int64))
    tmp.replace(out_dir / REF_NPZ)
    meta = {"model": model_name, "k": k, "temperature": 1.0, "n_sequences": len(seqs),
            "n_tokens": int(sum(L - s for L, s in zip(lens, starts))), "digest": _digest(seqs), "source": source,
            "vocab_size": int(logits.shape[-1])}
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
        seqs.append({"input_ids": z["tokens"][tpos: tpos + L].tolist(), "start": st,
                     "topk_ids": z["topk_ids"][kpos: kpos + n], "topk_logprobs": z["topk_logprobs"][kpos: kpos + n]})
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
            raise CostlabError(f"variant {name}: vocabulary {vocab} < teacher's {meta['vocab_size']}",
                               "fidelity compares token distributions; the variant must share the teacher tokenizer")


def hf_variant_fidelity(model, ref_seqs: list[dict], meta: dict, name: str, batch_size: int = 4) -> dict:
    vocab = model.get_output_embeddings().weight.shape[0]
    _check_vocab(meta, vocab, name)
    res = hf_fidelity(model, _as_tensors(ref_seqs), batch_size=batch_size, desc=f"fidelity {name}")
    return _finish(res, meta)


def llamacpp_fidelity(llm, ref_seqs: list[dict], meta: dict, name: str) -> dict:
    """Same accumulator on llama.cpp logits: ``llm`` must be created with ``logits_all=True`` and an n_ctx
    that holds the longest sequence."""
    _check_vocab(meta, llm.n_vocab(), name)
    acc = FidelityAccumulator()
    for s in ref_seqs:
        ids, st = s["input_ids"], int(s["start"])
        L = len(ids)
        if L > llm.n_ctx():
            raise CostlabError(f"fidelity sequence of {L} tokens > llama.cpp n_ctx {llm.n_ctx()}",
                               "raise eval.llama_cpp.n_ctx or lower eval.fidelity.seq_len")
        llm.reset()
        llm.eval(ids)
        logits = torch.from_numpy(np.array(llm.scores[st - 1: L - 1, :], dtype=np.float32))
        acc.add(logits, torch.tensor(ids[st:L]), teacher_topk_ids=torch.as_tensor(s["topk_ids"]),
                teacher_topk_logprobs=torch.as_tensor(s["topk_logprobs"]))
    return _finish(acc.result(), meta)


def _as_tensors(seqs: list[dict]) -> list[dict]:
    return [{**s, "topk_ids": torch.as_tensor(np.asarray(s["topk_ids"], dtype=np.int64)),
             "topk_logprobs": torch.as_tensor(np.asarray(s["topk_logprobs"], dtype=np.float32))} for s in seqs]


def _finish(res: dict, meta: dict) -> dict:
    out = {"kl_mean": res.get("kl"), "top1_agreement": res.get("top1_agreement"), "perplexity": res.get("ppl"),
           "nll_mean": res.get("nll"), "n_tokens": res.get("n_tokens"),
           "method": f"KL(teacher||variant) over top-{meta.get('k')} + tail bucket (lower bound of dense KL), T=1",
           "reference_digest": meta.get("digest"), "reference_model": meta.get("model")}
    return out

