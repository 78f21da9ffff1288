"""Hand-made eval results (eval/<variant>.json, schema v2 of costlab.eval.schema) for table/report/router tests.

Three measured variants on cpu-2core with known throughput and per-item scores (200 items per class), one
failed variant. Per-item scores are nested: a variant is right on the first V items of a class, the reference on
the first R, so every difference is one-directional and the intervals are easy to reason about:

  qa          (generation, chance 0)  reference 160/200; Q8_0 156 (retention 0.975, lower bound >= 0.9:
              non-inferior); Q4_K_M 150 (0.94: its interval straddles the 0.9 floor)
  code        (generation, chance 0)  reference 120/200; Q8_0 96 (0.80); Q4_K_M 60 (0.50)
  translation (4-way multiple choice, chance 0.25) reference 52/200 = 0.26: not above chance → not measurable
  general     (all 600 items pooled) Q8_0 ~0.90 with a lower bound below the floor → the reference
"""

from __future__ import annotations

import json
from pathlib import Path

from costlab import stats

CLASSES = ["qa", "code", "translation"]
N = 200
CHANCE = {"qa": 0.0, "code": 0.0, "translation": 0.25}
# name: (decode tok/s batch 1, prefill tok/s, ttft ms, tpot ms, {class: items right}, kl)
VARIANTS = {
    "teacher-fp32": (10.0, 200.0, 300.0, 100.0, {"qa": 160, "code": 120, "translation": 52}, 0.0),
    "student-Q8_0": (50.0, 500.0, 80.0, 20.0, {"qa": 156, "code": 96, "translation": 50}, 0.1),
    "student-Q4_K_M": (80.0, 600.0, 70.0, 12.5, {"qa": 150, "code": 60, "translation": 55}, 0.3),
}
REFERENCE = "teacher-fp32"
LABELS = {
    "teacher-fp32": "teacher (Q4_1 GGUF, dequantized to fp32)",
    "student-Q8_0": "student, Q8_0 GGUF",
    "student-Q4_K_M": "student, Q4_K_M GGUF",
}


def item_scores(right: int) -> list[float]:
    return [1.0 if i < right else 0.0 for i in range(N)]


def _quality(scores: dict, ref: dict, confidence: float = 0.95) -> dict:
    out = {}
    for c, k in scores.items():
        v, r = item_scores(k), item_scores(ref[c])
        d = stats.compare_class(v, r, CHANCE[c], confidence=confidence)
        out[c] = {
            "task": f"costlab_{c}",
            "metric": "acc",
            "output_type": "multiple_choice" if CHANCE[c] else "generate_until",
            "item_ids": [f"{c}-{i}" for i in range(N)],
            "item_scores": v,
            "item_chance": [CHANCE[c]] * N,
            **d,
        }
    return out


def make_eval_run(run_dir: Path, hardware: str = "cpu-2core") -> Path:
    ev = run_dir / "eval"
    (ev / "samples").mkdir(parents=True, exist_ok=True)
    ref = VARIANTS[REFERENCE][4]
    for name, (dec, pre, ttft, tpot, scores, kl) in VARIANTS.items():
        rec = {
            "schema_version": 2,
            "variant": name,
            "label": LABELS[name],
            "status": "ok",
            "error": None,
            "base": name.split("-")[0],
            "format": "hf" if name.endswith("fp32") else "gguf",
            "quant": None,
            "backend": "hf" if name.endswith("fp32") else "llama.cpp",
            "path": f"variants/{name}",
            "reference": REFERENCE,
            "is_reference": name == REFERENCE,
            "quality": _quality(scores, ref),
            "fidelity": {
                "kl_method": "kl_topk_lower_bound",
                "kl_topk_lower_bound": kl,
                "kl_topk_lower_bound_lo": kl * 0.8,
                "kl_topk_lower_bound_hi": kl * 1.2,
                "top1": 1 - kl,
                "top1_lo": 1 - kl * 1.2,
                "top1_hi": min(1.0, 1 - kl * 0.8),
                "perplexity": 16 + 10 * kl,
                "perplexity_lo": 15 + 10 * kl,
                "perplexity_hi": 17 + 10 * kl,
                "n_sequences": 12,
                "n_tokens": 2000,
                "top_k": 20,
                "confidence": 0.95,
            },
            "latency": {
                "concurrency_method": "batch1",
                "throughput_basis": "batch1",
                "threads": 1,
                "hardware_threads": 2,
                "backend": "hf",
                "hardware": hardware,
                "prompt_tokens": 64,
                "new_tokens": 32,
                "reps": 5,
                "warmup": 1,
                "batch1": {
                    "ttft_ms": {"p50": ttft, "p95": ttft * 1.2},
                    "tpot_ms": {"p50": tpot},
                    "decode_tok_s": {"p50": dec, "min": dec * 0.9, "max": dec * 1.1, "rel_spread": 0.2},
                    "prefill_tok_s": {"p50": pre},
                },
                "concurrency": None,
                "summary": {
                    "ttft_ms_p50": ttft,
                    "ttft_ms_p95": ttft * 1.2,
                    "tpot_ms_p50": tpot,
                    "tpot_ms_p95": tpot,
                    "decode_tok_s_p50": dec,
                    "decode_tok_s_min": dec * 0.9,
                    "decode_tok_s_max": dec * 1.1,
                    "prefill_tok_s_p50": pre,
                    "prefill_tok_s_min": pre * 0.9,
                    "prefill_tok_s_max": pre * 1.1,
                    "threads": 1,
                    "throughput_basis": "batch1",
                    "concurrency_method": "batch1",
                },
            },
            "memory": {"file_mb": 100.0, "size_mb": 100.0, "peak_rss_mb": 500.0},
            "samples_file": f"eval/samples/{name}.jsonl",
            "fingerprint": "x",
        }
        (ev / f"{name}.json").write_text(json.dumps(rec))
        with (ev / "samples" / f"{name}.jsonl").open("w") as f:
            for c in CLASSES:
                for i, s in enumerate(item_scores(scores[c])):
                    prompt = {
                        "qa": f"What is item {i}?",
                        "code": f"What does this Python code print? print({i})",
                        "translation": f"Translate into French: word {i}",
                    }[c]
                    f.write(
                        json.dumps(
                            {
                                "task_class": c,
                                "task": f"costlab_{c}",
                                "doc_id": i,
                                "id": f"{c}-{i}",
                                "prompt": prompt,
                                "score": s,
                                "response": None,
                            }
                        )
                        + "\n"
                    )
    (ev / "student-Q2_K.json").write_text(
        json.dumps(
            {
                "schema_version": 2,
                "variant": "student-Q2_K",
                "label": "student, Q2_K GGUF",
                "status": "failed",
                "error": "llama_model_quantize returned 1",
                "base": "student",
                "format": "gguf",
                "quant": "Q2_K",
                "backend": "llama.cpp",
                "path": None,
                "quality": None,
                "fidelity": None,
                "latency": None,
                "memory": None,
            }
        )
    )
    (ev / "summary.json").write_text(
        json.dumps(
            {
                "reference": REFERENCE,
                "reference_label": LABELS[REFERENCE],
                "hardware": hardware,
                "schema_version": 2,
                "variants": {n: "ok" for n in VARIANTS} | {"student-Q2_K": "failed"},
                "labels": LABELS,
            }
        )
    )
    return run_dir


def tables_cfg(**over) -> dict:
    t = {
        "quality_floor": 0.9,
        "hardware_profiles": ["cpu_2core", "h100"],
        "utilization": 0.5,
        "throughput": "batch1",
        "price_share": "used_threads",
        "price": "usd_per_hour",
        "traffic": {"requests_per_day": 10000, "avg_input_tokens": 500, "avg_output_tokens": 200},
        "local_endpoint": "http://127.0.0.1:8080/v1",
        "api_endpoints": {"openai": "https://api.openai.com/v1", "anthropic": "https://api.anthropic.com/v1"},
        "include_api": True,
        "litellm_provider": "openai",
    }
    t.update(over)
    return {
        "reference": REFERENCE,
        "quality": {"tasks": {c: f"costlab_{c}" for c in CLASSES}},
        "tables": t,
        "stats": {"confidence": 0.95, "n_boot": 2000},
        "report": {"routing_curve": {"classifier": "keyword", "points": 11}, "wandb": {"enabled": False}},
    }


HARDWARE = {"name": "cpu-2core", "kind": "cpu", "usd_per_hour": 0.10, "usd_per_hour_range": [0.05, 0.15], "threads": 2}
PRICING = {
    "api": {
        "gpt-4o-mini": {
            "provider": "openai",
            "input": 0.15,
            "output": 0.60,
            "cached_input": 0.075,
            "batch_discount": 0.5,
            "context": 128000,
            "source": "x",
            "as_of": "2025-06-01",
        },
        "gpt-4o": {
            "provider": "openai",
            "input": 2.5,
            "output": 10.0,
            "cached_input": 1.25,
            "batch_discount": 0.5,
            "context": 128000,
            "source": "x",
            "as_of": "2025-06-01",
        },
    }
}
