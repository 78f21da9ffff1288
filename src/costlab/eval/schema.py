"""The ``eval/<variant>.json`` contract (written by the evaluate stage, read by tables/ and report/).

``SCHEMA_VERSION = 2``. Every number that drives a decision carries n and an interval, computed once by
``costlab.stats`` (seeded: re-running evaluate on the same run gives identical files). Keys::

    {
      "schema_version": 2,
      "variant": "student-Q4_K_M",            # variant name (variants/<name>/variant.json)
      "label": "student, Q4_K_M GGUF",        # what it really is — show this in every table; the demo's reference
                                              #   reads "teacher (Q4_1 GGUF, dequantized to fp32)"
      "status": "ok" | "failed" | "error",  "error": null | "<reason + fix>",
      "base", "format", "quant", "backend", "path", "variant_meta": {...variant.json...},
      "reference": "<reference variant name>", "is_reference": bool,
      "quality": {                            # null when status != ok
        "<task class>": {
          "task": "costlab_qa", "metric": "acc", "output_type": "generate_until" | "multiple_choice",
          "score": float | null,              # mean per-item score (null when n == 0)
          "stderr": float | null,             # sample std / sqrt(n)
          "n": int,                           # items scored (= len(item_ids))
          "chance": float,                    # chance score c: 1/k per k-way MC item (mean over items), 0 for
                                              #   generation, or the task YAML's metadata.chance
          "item_ids": [str, ...],             # lm-eval doc ids / the item's "id" field, aligned with item_scores
          "item_scores": [float, ...],        # per-item scores (lm-eval log_samples)
          "item_chance": [float, ...],        # per-item chance (same order)
          # --- relative to the reference (paired on item ids; set after every variant is measured) ---
          "reference_score": float | null,
          "retention": float | null,          # (score - c) / (reference_score - c); null when undefined
          "retention_lo": float | null,       # paired per-item bootstrap percentile interval at `confidence`;
          "retention_hi": float | null,       #   null = unbounded / undefined (see measurable_reason)
          "confidence": 0.95, "ci_method": "paired per-item bootstrap, percentile", "n_boot": 2000,
          "p_value": float | null,            # two-sided paired test vs the reference (null for the reference itself:
          "test": "exact McNemar" | "paired permutation" | null,  # its retention is 1 [1, 1], test REFERENCE_TEST)
          "measurable": bool,                 # reference significantly above chance (one-sided, alpha = 1 - confidence)
          "measurable_reason": str,           # why (or why not): "not measurable with this reference: ...",
                                              #   "0 items", "missing per-item samples ..."
          "measurable_p_value": float | null, "measurable_test": "one-sided binomial" | "one-sided bootstrap" | null
        }, ...
      },
      "fidelity": {                           # vs the reference on the same held-out tokens
        "kl_method": "kl_topk_lower_bound",   # the one KL method used for every format (HF and llama.cpp)
        "kl_topk_lower_bound": float, "kl_topk_lower_bound_lo": float, "kl_topk_lower_bound_hi": float,
                                              # mean per-token KL(reference||variant) over (top-k + tail) buckets
        "top1": float, "top1_lo": float, "top1_hi": float,            # top-1 token agreement
        "perplexity": float, "perplexity_lo": float, "perplexity_hi": float,
        "nll_mean": float,
        "n_sequences": int, "n_tokens": int, "top_k": int, "confidence": 0.95,
        "ci_method": "bootstrap over sequences, percentile (token-weighted)",
        "source": "<held-out text>", "reference_digest": str, "reference_model": str
      },
      "latency": {
        "concurrency_method": "batch1" | "batched_forward",   # how `concurrency` was run (batch1 = none)
        "throughput_basis": "batch1",         # the tok/s the cost table must use: measured the same way for
                                              #   every variant of the run
        "threads": int,                       # threads the measurement used (price the share of the box:
        "hardware_threads": int | null,       #   threads / hardware_threads of the profile)
        "backend": "hf" | "llama.cpp" | ..., "hardware": "<profile name>",
        "prompt_tokens": int, "new_tokens": int, "reps": int, "warmup": int, "load_seconds": float,
        "batch1": {"ttft_ms": S, "tpot_ms": S, "decode_tok_s": S, "prefill_tok_s": S},
        "concurrency": null | {"n": int, "ttft_ms": S, "tpot_ms": S, "aggregate_decode_tok_s": S},
                                              # S = costlab.stats.spread: {p50, p95, min, max, mean, n, rel_spread}
                                              #   over reps (tpot over every decoded token)
        "summary": {"ttft_ms_p50", "ttft_ms_p95", "tpot_ms_p50", "tpot_ms_p95",
                    "decode_tok_s_p50", "decode_tok_s_min", "decode_tok_s_max",
                    "prefill_tok_s_p50", "prefill_tok_s_min", "prefill_tok_s_max",
                    "threads", "throughput_basis", "concurrency_method"}
      },
      "memory": {"file_mb", "size_mb", "peak_rss_mb", "baseline_rss_mb", "model_rss_mb", "gpu_peak_mb",
                 "peak_rss_scope"},
      "hardware": {...profile...}, "seconds": {"load", "reference", "quality", "fidelity", "latency"},
      "n_samples": int, "samples_file": "eval/samples/<variant>.jsonl", "fingerprint": str
    }

``eval/summary.json``: ``{"reference", "reference_label", "variants": {name: status}, "labels": {name: label},
"hardware", "schema_version"}``.
"""

from __future__ import annotations

SCHEMA_VERSION = 2

# the KL of every eval file: the reference stores top-k (+ tail) log-probs, so KL is a lower bound of the dense
# KL for every format alike (HF logits and llama.cpp logits go through the same accumulator)
KL_METHOD = "kl_topk_lower_bound"

CLASS_KEYS = (
    "task",
    "metric",
    "output_type",
    "score",
    "stderr",
    "n",
    "chance",
    "item_ids",
    "item_scores",
    "item_chance",
    "reference_score",
    "retention",
    "retention_lo",
    "retention_hi",
    "confidence",
    "ci_method",
    "n_boot",
    "p_value",
    "test",
    "measurable",
    "measurable_reason",
    "measurable_p_value",
    "measurable_test",
)
FIDELITY_KEYS = (
    "kl_method",
    KL_METHOD,
    f"{KL_METHOD}_lo",
    f"{KL_METHOD}_hi",
    "top1",
    "top1_lo",
    "top1_hi",
    "perplexity",
    "perplexity_lo",
    "perplexity_hi",
    "nll_mean",
    "n_sequences",
    "n_tokens",
    "top_k",
    "confidence",
    "ci_method",
    "source",
    "reference_digest",
    "reference_model",
)
LATENCY_SUMMARY_KEYS = (
    "ttft_ms_p50",
    "ttft_ms_p95",
    "tpot_ms_p50",
    "tpot_ms_p95",
    "decode_tok_s_p50",
    "decode_tok_s_min",
    "decode_tok_s_max",
    "prefill_tok_s_p50",
    "prefill_tok_s_min",
    "prefill_tok_s_max",
    "threads",
    "throughput_basis",
    "concurrency_method",
)
