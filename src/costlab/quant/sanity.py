"""Quick per-variant sanity check: it loads, it generates, its perplexity on held-out tokens is finite.

Both backends score the same token ids (the base model's HF tokenizer; the GGUF carries the same vocab) in the
same independent windows, so the numbers are comparable across formats. Full measurement is costlab.eval's job.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from costlab.llamacpp import capture_llama_log as capture_llama_log  # re-export: quant/gguf.py uses it
from costlab.llamacpp import load_llama


def _windows(ids: Sequence[int], window: int) -> list[list[int]]:
    return [list(ids[i : i + window]) for i in range(0, len(ids), window) if len(ids[i : i + window]) >= 2]


def _nll_from_logits(logits: np.ndarray, targets: Sequence[int]) -> float:
    """Sum of -log p(target) for rows of ``logits`` (float64 log-softmax)."""
    x = logits.astype(np.float64)
    m = x.max(axis=-1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(x - m).sum(axis=-1))
    return float((lse - x[np.arange(len(targets)), np.asarray(targets)]).sum())


def _ppl(nll: float, n: int) -> float:
    try:
        return math.exp(nll / max(n, 1))
    except OverflowError:
        return float("inf")


# ---------------------------------------------------------------- HF (fp32, bnb)


def hf_perplexity(model, ids: Sequence[int], window: int = 512) -> tuple[float, int]:
    import torch

    nll, n = 0.0, 0
    dev = next(model.parameters()).device
    with torch.inference_mode():
        for w in _windows(ids, window):
            logits = model(torch.tensor([w], device=dev)).logits[0, :-1].float().cpu().numpy()
            nll += _nll_from_logits(logits, w[1:])
            n += len(w) - 1
    return _ppl(nll, n), n


def chat_ids(tokenizer, prompt: str) -> list[int]:
    if getattr(tokenizer, "chat_template", None):
        out = tokenizer.apply_chat_template(
            [{"role": "user", "content": prompt}], add_generation_prompt=True, tokenize=True
        )
        ids = out["input_ids"] if hasattr(out, "keys") else out
        if ids and isinstance(ids[0], list):
            ids = ids[0]
        return list(ids)
    return tokenizer(prompt)["input_ids"]


def hf_generate(model, tokenizer, prompt: str, max_new_tokens: int) -> tuple[str, list[int]]:
    import torch

    ids = chat_ids(tokenizer, prompt)
    dev = next(model.parameters()).device
    with torch.inference_mode():
        out = model.generate(
            torch.tensor([ids], device=dev),
            attention_mask=torch.ones(1, len(ids), dtype=torch.long, device=dev),
            max_new_tokens=max_new_tokens,
            do_sample=False,
            pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id,
        )
    new = out[0, len(ids) :].tolist()
    return tokenizer.decode(new, skip_special_tokens=True), new


def hf_sanity(model, tokenizer, ids: Sequence[int], prompt: str, gen_tokens: int, window: int) -> dict[str, Any]:
    ppl, n = hf_perplexity(model, ids, window)
    sample, _ = hf_generate(model, tokenizer, prompt, gen_tokens)
    return {"ppl": round(ppl, 4) if math.isfinite(ppl) else ppl, "n_tokens": n, "sample": sample}


# ---------------------------------------------------------------- llama.cpp (GGUF)


def llama_perplexity(llm, ids: Sequence[int], window: int) -> tuple[float, int]:
    nll, n = 0.0, 0
    for w in _windows(ids, min(window, llm.n_ctx())):
        llm.reset()
        llm.eval(w)
        logits = np.asarray(llm.scores[: len(w) - 1])
        nll += _nll_from_logits(logits, w[1:])
        n += len(w) - 1
    return _ppl(nll, n), n


def llama_generate(llm, prompt: str, max_new_tokens: int) -> str:
    out = llm.create_chat_completion(
        messages=[{"role": "user", "content": prompt}], max_tokens=max_new_tokens, temperature=0.0, seed=0
    )
    return out["choices"][0]["message"]["content"] or ""


def gguf_sanity(
    path: str, ids: Sequence[int], prompt: str, gen_tokens: int, window: int, threads: int
) -> dict[str, Any]:
    llm = load_llama(path, n_ctx=window, threads=threads, logits_all=True, n_batch=window)
    try:
        ppl, n = llama_perplexity(llm, ids, window)
        llm.reset()
        sample = llama_generate(llm, prompt, gen_tokens)
    finally:
        llm.close()
    return {"ppl": round(ppl, 4) if math.isfinite(ppl) else ppl, "n_tokens": n, "sample": sample}
