"""The pricing math: $/1M tokens from $/hour, the cost of a request, and the price records every consumer reads.

The one home of these formulas: tables (cost_table, routing), the estimator, log analysis and the gateway all
call them. Where prices come from (YAML, LiteLLM's map, a routing table) is costlab.cost.pricing's job.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import asdict, dataclass, field
from datetime import date as _date
from typing import Any, Iterable, Mapping

from costlab.errors import CostlabError

# A list price above this (USD per 1M tokens) is almost certainly a unit mistake (per-1K or per-token entered
# as per-1M). The most expensive mainstream list price (o1-pro output) is $600/1M.
MAX_SANE_USD_PER_1M = 1000.0
MAX_SANE_USD_PER_GPU_HOUR = 100.0
HOURS_PER_DAY = 24.0
DEFAULT_MAX_AGE_DAYS = 180


def usd_per_1m_from_hourly(usd_per_hour: float, tokens_per_s: float | None, utilization: float) -> float | None:
    """USD per 1M tokens of a box rented at ``usd_per_hour`` that serves ``tokens_per_s`` while busy, busy a
    fraction ``utilization`` of the hour: usd_per_hour / (tokens_per_s * 3600 * utilization) * 1e6.
    None when the throughput was not measured (never a made-up number)."""
    if not 0 < utilization <= 1:
        raise CostlabError(f"utilization={utilization} must be in (0, 1]", "set the utilization knob to e.g. 0.5")
    if not tokens_per_s or tokens_per_s <= 0:
        return None
    return usd_per_hour / (tokens_per_s * 3600.0 * utilization) * 1e6


def request_cost_usd(input_tokens: float, output_tokens: float, usd_per_1m_in: float, usd_per_1m_out: float) -> float:
    """USD for one request (or totals) at per-1M-token prices."""
    return (input_tokens * usd_per_1m_in + output_tokens * usd_per_1m_out) / 1e6


@dataclass(frozen=True)
class ApiPrice:
    name: str
    input: float  # USD per 1M prompt tokens
    output: float  # USD per 1M completion tokens
    cached_input: float | None = None  # USD per 1M cache-read prompt tokens; None = provider has no caching
    batch_discount: float | None = None  # fraction off for the Batch API; None = no batch API
    context: int | None = None
    provider: str | None = None
    cache_write_input: float | None = None
    source: str | None = None
    as_of: str | None = None
    kind: str = "api"

    def cost(self, input_tokens: float, output_tokens: float, cached_tokens: float = 0.0, batch: bool = False) -> float:
        """USD for one request (or totals). ``cached_tokens`` is the part of ``input_tokens`` read from cache."""
        cached = min(cached_tokens, input_tokens) if self.cached_input is not None else 0.0
        usd = (
            (input_tokens - cached) * self.input + cached * (self.cached_input or 0.0) + output_tokens * self.output
        ) / 1e6
        if batch:
            if self.batch_discount is None:
                raise CostlabError(
                    f"model '{self.name}' has no Batch API price (batch_discount is null)",
                    "set batch share to 0 for this model or add batch_discount in the pricing YAML",
                )
            usd *= 1.0 - self.batch_discount
        return usd

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SelfHostedPrice:
    name: str
    gpu: str
    gpus: int
    usd_per_gpu_hour: float
    usd_per_gpu_hour_range: tuple[float, float]
    tokens_per_s: float  # aggregate decode tokens/s of one replica
    prefill_tokens_per_s: float  # aggregate prompt tokens/s of one replica
    utilization: float
    context: int | None = None
    source: str | None = None
    as_of: str | None = None
    kind: str = "self_hosted"

    def replica_usd_per_hour(self, usd_per_gpu_hour: float | None = None) -> float:
        return self.gpus * (self.usd_per_gpu_hour if usd_per_gpu_hour is None else usd_per_gpu_hour)

    def replicas_needed(self, input_tokens_per_day: float, output_tokens_per_day: float) -> int:
        busy_s = input_tokens_per_day / self.prefill_tokens_per_s + output_tokens_per_day / self.tokens_per_s
        return max(1, math.ceil(busy_s / (86400.0 * self.utilization)))

    def usd_per_1m(self) -> tuple[float, float]:
        """Marginal $/1M (input, output) at full `utilization` (what a replica costs per token it serves)."""
        per_s = self.replica_usd_per_hour() / 3600.0 / self.utilization
        return per_s / self.prefill_tokens_per_s * 1e6, per_s / self.tokens_per_s * 1e6

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["usd_per_gpu_hour_range"] = list(self.usd_per_gpu_hour_range)
        return d


@dataclass
class Pricing:
    api: dict[str, ApiPrice]
    self_hosted: dict[str, SelfHostedPrice] = field(default_factory=dict)
    currency: str = "USD"
    origin: str = ""  # where these prices came from (file path or "litellm <version>")
    max_age_days: float = DEFAULT_MAX_AGE_DAYS

    def names(self) -> list[str]:
        return sorted(self.api) + sorted(self.self_hosted)

    def stale(self, today: _date | None = None) -> list[tuple[str, str, int]]:
        """(model, as_of, age in days) of every price older than ``max_age_days`` or without a date."""

        today = today or _date.today()
        out = []
        for p in [*self.api.values(), *self.self_hosted.values()]:
            try:
                age = (today - _date.fromisoformat(str(p.as_of)[:10])).days
            except (TypeError, ValueError):
                out.append((p.name, str(p.as_of), -1))
                continue
            if age > self.max_age_days:
                out.append((p.name, str(p.as_of), age))
        return out

    def _unknown(self, name: str, pool: Iterable[str], what: str) -> CostlabError:
        pool = sorted(pool)
        near = difflib.get_close_matches(name, pool, n=5, cutoff=0.4)
        hint = f"did you mean: {', '.join(near)}?" if near else f"known: {', '.join(pool)}"
        return CostlabError(
            f"unknown {what + ' ' if what else ''}model '{name}' in {self.origin or 'pricing'} ({hint})",
            f"use one of the names above or add '{name}' to configs/pricing/*.yaml",
        )

    def resolve(self, name: str) -> str | None:
        """Map a name as it appears in logs (``openai/gpt-4o-2024-08-06``) to a priced model name, or None."""
        if name in self.api or name in self.self_hosted:
            return name
        cand = name.split("/")[-1]
        cand = re.sub(r"(-\d{4}-\d{2}-\d{2}|-\d{8}|-\d{4}|-latest)$", "", cand)
        if cand in self.api or cand in self.self_hosted:
            return cand
        return None

    def api_price(self, name: str) -> ApiPrice:
        key = self.resolve(name)
        if key is None or key not in self.api:
            if key in self.self_hosted:
                raise CostlabError(
                    f"'{name}' is a self-hosted model (priced per GPU-hour), not an API model",
                    "use Pricing.self_hosted_price or pass it as a self-hosted model",
                )
            raise self._unknown(name, self.api, "API")
        return self.api[key]

    def self_hosted_price(self, name: str) -> SelfHostedPrice:
        key = self.resolve(name)
        if key is None or key not in self.self_hosted:
            raise self._unknown(name, self.self_hosted, "self-hosted")
        return self.self_hosted[key]

    def price(self, name: str) -> ApiPrice | SelfHostedPrice:
        key = self.resolve(name)
        if key is None:
            raise self._unknown(name, list(self.api) + list(self.self_hosted), "")
        return self.api.get(key) or self.self_hosted[key]

    def with_api(self, extra: Mapping[str, ApiPrice]) -> Pricing:
        return Pricing({**self.api, **extra}, dict(self.self_hosted), self.currency, self.origin, self.max_age_days)

    def to_dict(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "origin": self.origin,
            "max_age_days": self.max_age_days,
            "api": {k: v.to_dict() for k, v in self.api.items()},
            "self_hosted": {k: v.to_dict() for k, v in self.self_hosted.items()},
        }
