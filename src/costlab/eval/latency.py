"""Latency and throughput harness: TTFT, TPOT, decode and prefill tokens/s, p50/p95 over repetitions.

Every variant gets the same work: prompts of exactly ``prompt_tokens`` tokens (cut from a fixed local text),
greedy decoding of exactly ``new_tokens`` tokens (EOS ignored, so every rep does the same work), ``warmup``
reps discarded, then ``reps`` timed reps at batch 1 and at ``concurrency``:

* HF backend: the concurrent requests run as one batch (``concurrency`` prompts of equal length, no padding):
  TTFT = the batch's prefill, TPOT = one batched decode step, aggregate decode tok/s = concurrency / step.
* llama.cpp backend: llama-cpp-python runs one sequence at a time per ``Llama`` (its server serializes requests
  behind a lock the same way), so ``concurrency`` client threads share one model behind a lock: TTFT includes
  the queueing wait, aggregate tok/s = all generated tokens / wall time.

TTFT = prefill + first token; prefill tok/s = prompt tokens / TTFT; TPOT = mean time per later token.
"""

from __future__ import annotations

import os
import resource
import statistics
import threading
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from costlab.errors import CostlabError

PROMPT_TEXT_FILE = Path(__file__).resolve().parents[3] / "data" / "eval" / "summarization.jsonl"


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
    return [ids[7 * i: 7 * i + length] for i in range(n)]


def stats(xs: Sequence[float]) -> dict[str, float | None]:
    if not xs:
        return {"p50": None, "p95": None, "mean": None, "n": 0}
    a = np.asarray(xs, dtype=np.float64)
    return {"p50": float(np.percentile(a, 50)), "p95": float(np.percentile(a, 95)), "mean": float(a.mean()),
            "n": int(a.size)}


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
def measure(runner: Runner, prompts: list[list[int]], lcfg: Mapping[str, Any], batched: bool) -> dict[str, Any]:
    """Batch-1 and concurrency measurements. ``batched``: the runner accepts several prompts at once (HF)."""
    new_tokens, reps, warmup = int(lcfg["new_tokens"]), int(lcfg["reps"]), int(lcfg.get("warmup", 1))
    conc = int(lcfg.get("concurrency", 1))
    if new_tokens < 2 or reps < 1:
        raise CostlabError("eval.latency: new_tokens must be ≥ 2 and reps ≥ 1")
    P = len(prompts[0])
    for i in range(warmup):
        runner([prompts[i % len(prompts)]], new_tokens)
    ttft, tpot_all, tpot_rep, dec, pre = [], [], [], [], []
    for i in range(reps):
        t, steps = runner([prompts[i % len(prompts)]], new_tokens)
        m = sum(steps) / len(steps)
        ttft.append(t * 1e3)
        tpot_all += [s * 1e3 for s in steps]
        tpot_rep.append(m * 1e3)
        dec.append(1.0 / m)
        pre.append(P / t)
    out: dict[str, Any] = {
        "batch1": {"ttft_ms": stats(ttft), "tpot_ms": stats(tpot_all), "decode_tok_s": stats(dec),
                   "prefill_tok_s": stats(pre), "cv": {"ttft": cv(ttft), "decode_tok_s": cv(dec)}}}
    if conc > 1:
        out["concurrency"] = (_batched(runner, prompts, conc, new_tokens, reps, warmup) if batched
                              else _serialized(runner, prompts, conc, new_tokens, reps))
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
    return {"n": conc, "mode": "batched (one forward pass for all requests)", "ttft_ms": stats(ttft),
            "tpot_ms": stats(tpot), "aggregate_decode_tok_s": stats(agg), "aggregate_tok_s": stats(wall_tok)}


def _serialized(runner: Runner, prompts, conc: int, new_tokens: int, reps: int) -> dict[str, Any]:
    lock = threading.Lock()
    ttft, tpot, wall_tok, dec = [], [], [], []
    for r in range(reps):
        results: list[tuple[float, float, list[float]]] = []
        start = threading.Barrier(conc + 1)

        def client(i: int) -> None:
            start.wait()
            t_submit = time.perf_counter()
            with lock:  # one sequence at a time, as llama-cpp-python's server does
                t_lock = time.perf_counter()
                t, steps = runner([prompts[(r * conc + i) % len(prompts)]], new_tokens)
            results.append((t_lock - t_submit + t, t, steps))

        threads = [threading.Thread(target=client, args=(i,)) for i in range(conc)]
        for th in threads:
            th.start()
        t0 = time.perf_counter()
        start.wait()
        for th in threads:
            th.join()
        wall = time.perf_counter() - t0
        for queued_ttft, _t, steps in results:
            ttft.append(queued_ttft * 1e3)
            tpot += [s * 1e3 for s in steps]
        # decode tokens per second of decode time (one sequence at a time: ≈ batch 1), and all tokens per wall second
        dec.append(sum(len(st) for _q, _t, st in results) / sum(sum(st) for _q, _t, st in results))
        wall_tok.append(conc * new_tokens / wall)
    return {"n": conc, "mode": "serialized (one sequence at a time; TTFT includes the queueing wait)",
            "ttft_ms": stats(ttft), "tpot_ms": stats(tpot), "aggregate_decode_tok_s": stats(dec),
            "aggregate_tok_s": stats(wall_tok)}


def summarize(lat: Mapping[str, Any]) -> dict[str, Any]:
    """The flat numbers the tables use."""
    b1 = lat["batch1"]
    c = lat.get("concurrency") or {}
    return {"ttft_ms_p50": b1["ttft_ms"]["p50"], "ttft_ms_p95": b1["ttft_ms"]["p95"],
            "tpot_ms_p50": b1["tpot_ms"]["p50"], "tpot_ms_p95": b1["tpot_ms"]["p95"],
            "decode_tok_s_p50": b1["decode_tok_s"]["p50"], "prefill_tok_s_p50": b1["prefill_tok_s"]["p50"],
            "concurrency": c.get("n", 1),
            "aggregate_decode_tok_s_p50": (c.get("aggregate_decode_tok_s") or {}).get("p50"),
            "concurrency_ttft_ms_p95": (c.get("ttft_ms") or {}).get("p95")}
