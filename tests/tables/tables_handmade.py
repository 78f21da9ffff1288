"""Hand-made eval results (eval/<variant>.json + samples) in the evaluate stage's schema, for table/report tests.

Three measured variants on cpu-2core with known throughput and retention, one failed variant, and a class
(`translation`) where the reference scored 0 (retention not measurable)."""

from __future__ import annotations

import json
from pathlib import Path

CLASSES = ["qa", "code", "translation"]
# name: (decode tok/s at concurrency, prefill tok/s, ttft ms, tpot ms, {class: score}, kl)
VARIANTS = {
    "teacher-fp32": (40.0, 200.0, 300.0, 100.0, {"qa": 0.8, "code": 0.6, "translation": 0.0}, 0.0),
    "student-Q8_0": (100.0, 500.0, 80.0, 20.0, {"qa": 0.76, "code": 0.48, "translation": 0.0}, 0.1),
    "student-Q4_K_M": (160.0, 600.0, 70.0, 12.0, {"qa": 0.74, "code": 0.3, "translation": 0.0}, 0.3),
}


def _q(scores: dict, ref: dict) -> dict:
    out = {}
    for c, s in scores.items():
        r = ref[c]
        out[c] = {"task": f"costlab_{c}", "metric": "acc", "score": s, "stderr": 0.1, "n": 10, "reference_score": r,
                  "retention": (s / r) if r else None}
    return out


def make_eval_run(run_dir: Path, hardware: str = "cpu-2core") -> Path:
    ev = run_dir / "eval"
    (ev / "samples").mkdir(parents=True, exist_ok=True)
    ref = VARIANTS["teacher-fp32"][4]
    for name, (dec, pre, ttft, tpot, scores, kl) in VARIANTS.items():
        rec = {"variant": name, "status": "ok", "error": None, "base": name.split("-")[0],
               "format": "hf" if name.endswith("fp32") else "gguf", "quant": None,
               "backend": "hf" if name.endswith("fp32") else "llama.cpp", "path": f"variants/{name}",
               "quality": _q(scores, ref),
               "fidelity": {"kl_mean": kl, "top1_agreement": 1 - kl, "perplexity": 16 + 10 * kl, "n_tokens": 100,
                            "method": "hand-made"},
               "latency": {"backend": "hf", "threads": 2, "hardware": hardware, "prompt_tokens": 64, "new_tokens": 32,
                           "reps": 5, "warmup": 1,
                           "batch1": {"ttft_ms": {"p50": ttft, "p95": ttft * 1.2}, "tpot_ms": {"p50": tpot, "p95": tpot},
                                      "decode_tok_s": {"p50": 1000 / tpot}, "prefill_tok_s": {"p50": pre},
                                      "cv": {"ttft": 0.05, "decode_tok_s": 0.04}},
                           "concurrency": {"n": 4, "aggregate_decode_tok_s": {"p50": dec}},
                           "summary": {"ttft_ms_p50": ttft, "ttft_ms_p95": ttft * 1.2, "tpot_ms_p50": tpot,
                                       "tpot_ms_p95": tpot, "decode_tok_s_p50": 1000 / tpot, "prefill_tok_s_p50": pre,
                                       "concurrency": 4, "aggregate_decode_tok_s_p50": dec}},
               "memory": {"file_mb": 100.0, "size_mb": 100.0, "peak_rss_mb": 500.0},
               "samples_file": f"eval/samples/{name}.jsonl", "fingerprint": "x"}
        (ev / f"{name}.json").write_text(json.dumps(rec))
        with (ev / "samples" / f"{name}.jsonl").open("w") as f:
            for c in CLASSES:
                n_right = round(scores[c] * 10)
                for i in range(10):
                    prompt = {"qa": f"What is item {i}?", "code": f"What does this Python code print? print({i})",
                              "translation": f"Translate into French: word {i}"}[c]
                    f.write(json.dumps({"task_class": c, "task": f"costlab_{c}", "doc_id": i, "id": f"{c}-{i}",
                                        "prompt": prompt, "score": float(i < n_right), "response": None}) + "\n")
    (ev / "student-Q2_K.json").write_text(json.dumps({
        "variant": "student-Q2_K", "status": "failed", "error": "llama_model_quantize returned 1", "base": "student",
        "format": "gguf", "quant": "Q2_K", "backend": "llama.cpp", "path": None, "quality": None, "fidelity": None,
        "latency": None, "memory": None}))
    (ev / "summary.json").write_text(json.dumps({"reference": "teacher-fp32", "hardware": hardware,
                                                 "variants": {n: "ok" for n in VARIANTS} | {"student-Q2_K": "failed"}}))
    return run_dir


def tables_cfg(**over) -> dict:
    t = {"quality_floor": 0.9, "max_retention": 1.0, "hardware_profiles": ["cpu_2core", "h100"], "utilization": 0.5,
         "throughput": "concurrency", "price": "usd_per_hour",
         "traffic": {"requests_per_day": 10000, "avg_input_tokens": 500, "avg_output_tokens": 200},
         "local_endpoint": "http://127.0.0.1:8080/v1",
         "api_endpoints": {"openai": "https://api.openai.com/v1", "anthropic": "https://api.anthropic.com/v1"},
         "include_api": True, "litellm_provider": "openai"}
    t.update(over)
    return {"reference": "teacher-fp32", "quality": {"tasks": {c: f"costlab_{c}" for c in CLASSES}}, "tables": t,
            "report": {"routing_curve": {"classifier": "keyword", "points": 11}, "wandb": {"enabled": False}}}


HARDWARE = {"name": "cpu-2core", "kind": "cpu", "usd_per_hour": 0.10, "usd_per_hour_range": [0.05, 0.15], "threads": 2}
PRICING = {"api": {"gpt-4o-mini": {"provider": "openai", "input": 0.15, "output": 0.60, "cached_input": 0.075,
                                   "batch_discount": 0.5, "context": 128000, "source": "x", "as_of": "2025-06-01"},
                   "gpt-4o": {"provider": "openai", "input": 2.5, "output": 10.0, "cached_input": 1.25,
                              "batch_discount": 0.5, "context": 128000, "source": "x", "as_of": "2025-06-01"}}}
