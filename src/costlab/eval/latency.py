"""Latency and throughput harness: TTFT, TPOT, decode and prefill tokens/s, p50/p95 and spread over repetitions.

Every variant gets the same work: prompts of exactly ``prompt_tokens`` tokens (cut from a fixed local text),
greedy decoding of exactly ``new_tokens`` tokens (EOS ignored, so every rep does the same work), ``warmup``
reps discarded, then ``reps`` timed reps at batch 1, and — only when every backend of the run can decode
concurrent requests for real — at ``concurrency``:

* ``batch1`` (every backend): one request at a time. This is the throughput basis the cost table uses, so
  HF and llama.cpp variants are measured the same way.
* ``batched_forward`` (HF): the ``concurrency`` requests run as one batch (equal-length prompts, no padding):
  TTFT = the batch's prefill, TPOT = one batched decode step, aggregate decode tok/s = concurrency / step.
  llama-cpp-python's ``Llama`` decodes one sequence at a time, so a run with GGUF variants must use
  ``eval.latency.concurrency: 1`` (the stage refuses otherwise — 4 queued requests are not concurrency).

TTFT = prefill + first token; prefill tok/s = prompt tokens / TTFT; TPOT = mean time per later token.
Spread across reps: ``costlab.stats.spread`` (p50, p95, min, max, mean, n, rel_spread).
"""

from __future__ import annotations

import os
import resource
import statistics
import time
from typing import Any, Callable, Mapping, Sequence

from costlab.errors import CostlabError
from costlab.paths import DATA_DIR
from costlab.stats import spread

PROMPT_TEXT_FILE = DATA_DIR / "eval" / "summarization.jsonl"


def prompt_text() -> str:
    """A fixed English text (the summarization passages) used to cut latency prompts from."""
    import json

    if not PROMPT_TEXT_FILE.exists():
        raise CostlabError(f"{PROMPT_TEXT_FILE}: not found", "run python data/eval/build_eval_data.py")
    rows = [json.loads(line) for line in PROMPT_TEXT_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
    return " ".join(r["passage"] for r in rows)


def make_prompts(token_ids: Sequence[int], n: int, length: int) -> list[list[int]]:
    """``n`` different prompts of exactly ``length`` tokens (windows at different offsets, wrapped)."""
    ids = list(token_ids)
    if not ids:
        raise CostlabError("latency prompt text tokenized to nothing")
    while len(ids) < length + 7 * n:
        ids = ids + ids
    return [ids[7 * i : 7 * i + length] for i in range(n)]


def cv(xs: Sequence[float]) -> float | None:
    """Coefficient of variation (stdev / mean) — the run-to-run noise the report states."""
    if len(xs) < 2 or statistics.mean(xs) == 0:
        return None
    return statistics.stdev(xs) / statistics.mean(xs)


def rss_mb() -> float:
    try:
        with open(f"/proc/{os.getpid()}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    except OSError:
        import psutil

        return psutil.Process().memory_info().rss / 1e6


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6  # Linux reports KiB


# ---------------------------------------------------------------------------------------------- runners
# A runner takes a list of prompts (token ids) and returns (ttft_s, [step_s, ...]) for the whole batch.
Runner = Callable[[list[list[int]], int], tuple[float, list[float]]]


def hf_runner(model) -> Runner:
    import inspect

    import torch

    dev = next(model.parameters()).device
    params = inspect.signature(model.forward).parameters
    cache_kw = "cache" if "cache" in params else "past_key_values"  # transformers 5.x renamed it
    keep = {"logits_to_keep": 1} if "logits_to_keep" in params else {}  # prefill computes last-token logits only

    def _past(out):
        return getattr(out, "cache", None) or getattr(out, "past_key_values", None)

    @torch.no_grad()
    def run(prompts: list[list[int]], new_tokens: int) -> tuple[float, list[float]]:
        ids = torch.tensor(prompts, dtype=torch.long, device=dev)
        sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
        t0 = time.perf_counter()
        out = model(input_ids=ids, use_cache=True, **keep)
        nxt = out.logits[:, -1].argmax(-1, keepdim=True)
        sync()
        ttft = time.perf_counter() - t0
        past, steps = _past(out), []
        for _ in range(new_tokens - 1):
            t = time.perf_counter()
            out = model(input_ids=nxt, use_cache=True, **{cache_kw: past}, **keep)
            past, nxt = _past(out), out.logits[:, -1].argmax(-1, keepdim=True)
            sync()
            steps.append(time.perf_counter() - t)
        return ttft, steps

    return run


def llamacpp_runner(llm) -> Runner:
    def run(prompts: list[list[int]], new_tokens: int) -> tuple[float, list[float]]:
        if len(prompts) != 1:
            raise ValueError("llama.cpp runner takes one prompt at a time")
        llm.reset()  # no prefix reuse between reps: every rep pays the full prefill
        t0 = time.perf_counter()
        stamps = []
        for _tok in llm.generate(prompts[0], temp=0.0, top_k=1, repeat_penalty=1.0, reset=True):
            stamps.append(time.perf_counter())
            if len(stamps) >= new_tokens:
                break
        return stamps[0] - t0, [b - a for a, b in zip(stamps, stamps[1:])]

    return run


# ---------------------------------------------------------------------------------------------- harness
def measure(
    runner: Runner, prompts: list[list[int]], lcfg: Mapping[str, Any], concurrency_method: str
) -> dict[str, Any]:
    """Batch-1 measurements, plus ``concurrency`` requests as one batch when ``concurrency_method`` is
    ``batched_forward`` (the runner then accepts several prompts at once)."""
    new_tokens, reps, warmup, conc = lcfg["new_tokens"], lcfg["reps"], lcfg["warmup"], lcfg["concurrency"]
    if new_tokens < 2 or reps < 1:
        raise CostlabError(
            f"eval.latency: new_tokens={new_tokens} must be >= 2 and reps={reps} >= 1",
            "set eval.latency.new_tokens >= 2 and eval.latency.reps >= 1",
        )
    P = len(prompts[0])
    for i in range(warmup):
        runner([prompts[i % len(prompts)]], new_tokens)
    ttft, tpot_all, dec, pre = [], [], [], []
    for i in range(reps):
        t, steps = runner([prompts[i % len(prompts)]], new_tokens)
        m = sum(steps) / len(steps)
        ttft.append(t * 1e3)
        tpot_all += [s * 1e3 for s in steps]
        dec.append(1.0 / m)
        pre.append(P / t)
    out: dict[str, Any] = {
        "concurrency_method": concurrency_method if conc > 1 else "batch1",
        "batch1": {
            "ttft_ms": spread(ttft),
            "tpot_ms": spread(tpot_all),
            "decode_tok_s": spread(dec),
            "prefill_tok_s": spread(pre),
            "cv": {"ttft": cv(ttft), "decode_tok_s": cv(dec)},
        },
        "concurrency": None,
    }
    if conc > 1:
        if concurrency_method != "batched_forward":
            raise CostlabError(
                f"eval.latency.concurrency={conc} needs a backend that decodes concurrent requests "
                f"(got method '{concurrency_method}')",
                "set eval.latency.concurrency: 1",
            )
        out["concurrency"] = _batched(runner, prompts, conc, new_tokens, reps, warmup)
    return out


def _batched(runner: Runner, prompts, conc: int, new_tokens: int, reps: int, warmup: int) -> dict[str, Any]:
    batch = [prompts[i % len(prompts)] for i in range(conc)]
    for _ in range(warmup):
        runner(batch, new_tokens)
    ttft, tpot, agg, wall_tok = [], [], [], []
    for _ in range(reps):
        t0 = time.perf_counter()
        t, steps = runner(batch, new_tokens)
        wall = time.perf_counter() - t0
        m = sum(steps) / len(steps)
        ttft.append(t * 1e3)
        tpot += [s * 1e3 for s in steps]
        agg.append(conc / m)
        wall_tok.append(conc * new_tokens / wall)
    return {
        "n": conc,
        "mode": "batched_forward (one forward pass for all requests)",
        "ttft_ms": spread(ttft),
        "tpot_ms": spread(tpot),
        "aggregate_decode_tok_s": spread(agg),
        "aggregate_tok_s": spread(wall_tok),
    }


def summarize(lat: Mapping[str, Any], threads: int) -> dict[str, Any]:
    """The flat numbers the tables use. Throughput basis: batch 1 (measured the same way for every backend)."""
    b1 = lat["batch1"]
    c = lat.get("concurrency") or {}
    return {
        "ttft_ms_p50": b1["ttft_ms"]["p50"],
        "ttft_ms_p95": b1["ttft_ms"]["p95"],
        "tpot_ms_p50": b1["tpot_ms"]["p50"],
        "tpot_ms_p95": b1["tpot_ms"]["p95"],
        "decode_tok_s_p50": b1["decode_tok_s"]["p50"],
        "decode_tok_s_min": b1["decode_tok_s"]["min"],
        "decode_tok_s_max": b1["decode_tok_s"]["max"],
        "prefill_tok_s_p50": b1["prefill_tok_s"]["p50"],
        "prefill_tok_s_min": b1["prefill_tok_s"]["min"],
        "prefill_tok_s_max": b1["prefill_tok_s"]["max"],
        "threads": threads,
        "throughput_basis": "batch1",
        "concurrency_method": lat["concurrency_method"],
        "concurrency": c.get("n", 1),
        "aggregate_decode_tok_s_p50": (c.get("aggregate_decode_tok_s") or {}).get("p50"),
    }
