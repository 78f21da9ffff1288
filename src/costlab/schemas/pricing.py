"""configs/pricing/*.yaml — where API list prices come from (LiteLLM's bundled map + overrides) and the
self-hosted planning rows (GPU $/hour from configs/hardware/<hardware>.yaml).

API entries are overrides: any subset of the fields, applied over LiteLLM's entry for that model (or a whole
entry for a model LiteLLM lacks — costlab.cost.pricing then checks every field is there). The numeric range
checks live with the math in costlab.cost.pricing.
"""

from typing import Literal, Optional

from costlab.schemas.base import Schema


class ApiPriceOverride(Schema):
    provider: Optional[str] = None
    input: Optional[float] = None
    output: Optional[float] = None
    cached_input: Optional[float] = None
    cache_write_input: Optional[float] = None
    batch_discount: Optional[float] = None
    context: Optional[int] = None
    source: str
    as_of: str


class SelfHostedPriceConfig(Schema):
    hardware: str
    gpus: int
    tokens_per_s: float
    prefill_tokens_per_s: float
    utilization: float
    context: int
    source: str
    as_of: str


class PricingConfig(Schema):
    currency: str
    api_source: Literal["litellm", "yaml"]
    max_age_days: float
    litellm_keys: dict[str, str]
    api: dict[str, ApiPriceOverride]
    self_hosted: dict[str, SelfHostedPriceConfig]
