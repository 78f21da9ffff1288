"""Cost tooling: prices, monthly estimates, request-log analysis, ROI, Batch API runner, prompt compression.

Light to import (heavy deps — openai, httpx, transformers, tiktoken — load inside the functions that need them).
The `costlab` CLI (src/costlab/cli.py) is a thin layer over these functions; see docs/cost-tooling.md.
"""

from costlab.cost.pricing import ApiPrice, Pricing, SelfHostedPrice, load_pricing, pricing_from_litellm

__all__ = ["ApiPrice", "Pricing", "SelfHostedPrice", "load_pricing", "pricing_from_litellm"]
