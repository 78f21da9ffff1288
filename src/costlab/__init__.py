"""costlab: distill and quantize LLMs, measure every variant, emit routing and cost tables."""

__version__ = "0.1.0"
