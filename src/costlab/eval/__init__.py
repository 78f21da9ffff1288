"""Measure variants side by side: quality per task class (lm-eval on local tasks), fidelity to the teacher
(KL / top-1 agreement / perplexity from HF or llama.cpp logits), latency and memory. Entry: costlab.eval.stage."""
