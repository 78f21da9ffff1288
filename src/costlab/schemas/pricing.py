"""configs/pricing/*.yaml — API list prices (USD / 1M tokens) and self-hosted planning rows.

Keys marked optional here are optional per entry in the YAML (a model without prompt caching has no
cache_write_input); the numeric range checks live with the math in costlab.cost.pricing.
"""

from typing import Optional

from costlab.schemas.base import Schema


class ApiPriceConfig(Schema):
    provider: str
    input: float
    output: float
    cached_input: Optional[float]
    cache_write_input: Optional[float] = None  # only providers that bill cache writes (Anthropic) list it
    batch_discount: Optional[float]
    context: int
    source: str
    as_of: str


class SelfHostedPriceConfig(Schema):
    gpu: str
    gpus: int
    usd_per_gpu_hour: float
    usd_per_gpu_hour_range: tuple[float, float]
    tokens_per_s: float
    prefill_tokens_per_s: float
    utilization: float
    context: int
    source: str
    as_of: str


class PricingConfig(Schema):
    currency: str
    api: dict[str, ApiPriceConfig]
    self_hosted: dict[str, SelfHostedPriceConfig]
