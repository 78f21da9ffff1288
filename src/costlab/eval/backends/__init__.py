"""Eval backends: one registered component per runtime, instantiated from ``eval.backends.<kind>`` by
``_target_`` (like the KD loss). The evaluate stage runs the same loop for every variant:

    backend = make_backend(ecfg, kind)          # kind = costlab.eval.variants.backend_kind(variant)
    backend.load(path, variant, threads, seed)
    backend.quality_lm()                        # an lm-eval LM: loglikelihood + generate_until
    backend.sequence_logits(seqs)               # fidelity: [L, V] logits per held-out sequence
    backend.latency_runner(concurrency)         # costlab.eval.latency Runner + the prompt tokenizer
    backend.close()

Adding a runtime = one module with a subclass of ``EvalBackend`` + one entry under ``eval.backends`` in
configs/eval/default.yaml (key = the variant's runtime with '.' → '_', e.g. ``llama.cpp`` → ``llama_cpp``).
"""

from __future__ import annotations

from costlab.eval.backends.base import EvalBackend, backend_key, make_backend

__all__ = ["EvalBackend", "backend_key", "make_backend"]
