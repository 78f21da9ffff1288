"""Prices: API list prices (USD per 1M tokens) and rented-GPU self-hosted models; the one home of the pricing math.

API prices come from a maintained source: the installed ``litellm`` package's bundled price map
(model_prices_and_context_window, updated by its maintainers every release), for the models named in
configs/pricing/default.yaml ``litellm_keys``. The YAML's ``api:`` entries are overrides (whole entries for models
LiteLLM lacks, or single fields such as a batch discount LiteLLM does not list), each with its own source and date.
Self-hosted models take their GPU $/hour from configs/hardware/<hardware>.yaml (one home for hardware prices).
Every price says where it came from (``source``) and when (``as_of``); ``Pricing.stale()`` lists those older than
``max_age_days``.

``load_pricing(x)`` accepts a path to a pricing YAML, a pricing name under configs/pricing/ ("default"), the
string "litellm" (LiteLLM's bundled price map, when litellm is installed), a Hydra/OmegaConf node (``cfg.pricing``
or a root cfg that has ``pricing``), or a plain dict with the same schema.
"""

from __future__ import annotations

import difflib
import importlib.util
import json
import math
import os
import re
from dataclasses import asdict, dataclass, field
from datetime import date as _date
from pathlib import Path
from typing import Any, Iterable, Mapping

from costlab.errors import CostlabError
from costlab.paths import CONFIG_DIR

PRICING_DIR = CONFIG_DIR / "pricing"
DEFAULT_PRICING = PRICING_DIR / "default.yaml"

# A list price above this (USD per 1M tokens) is almost certainly a unit mistake (per-1K or per-token entered
# as per-1M). The most expensive mainstream list price (o1-pro output) is $600/1M.
MAX_SANE_USD_PER_1M = 1000.0
MAX_SANE_USD_PER_GPU_HOUR = 100.0
HOURS_PER_DAY = 24.0

HARDWARE_DIR = PRICING_DIR.parent / "hardware"
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


# ----------------------------------------------------------------------------------------------- validation
def _num(
    where: str,
    key: str,
    val: Any,
    *,
    lo: float = 0.0,
    hi: float | None = None,
    required: bool = True,
    integer: bool = False,
) -> Any:
    if val is None:
        if required:
            raise CostlabError(f"{where}: '{key}' is missing", f"set {key} (see configs/pricing/default.yaml)")
        return None
    if isinstance(val, bool) or not isinstance(val, (int, float)):
        raise CostlabError(f"{where}: '{key}' must be a number, got {val!r}")
    if not math.isfinite(val) or val < lo or (hi is not None and val > hi):
        rng = f"[{lo}, {hi}]" if hi is not None else f">= {lo}"
        raise CostlabError(
            f"{where}: '{key}' = {val} is out of range {rng}",
            "prices are USD per 1M tokens (not per 1K or per token)" if "put" in key else None,
        )
    return int(val) if integer else float(val)


def _api_from_dict(origin: str, name: str, d: Mapping[str, Any]) -> ApiPrice:
    where = f"{origin}: api.{name}"
    if not isinstance(d, Mapping):
        raise CostlabError(f"{where}: expected a mapping, got {type(d).__name__}")
    known = {
        "provider",
        "input",
        "output",
        "cached_input",
        "cache_write_input",
        "batch_discount",
        "context",
        "source",
        "as_of",
    }
    extra = set(d) - known
    if extra:
        raise CostlabError(f"{where}: unknown key(s) {sorted(extra)}", f"allowed keys: {sorted(known)}")
    p = ApiPrice(
        name=name,
        input=_num(where, "input", d.get("input"), hi=MAX_SANE_USD_PER_1M),
        output=_num(where, "output", d.get("output"), hi=MAX_SANE_USD_PER_1M),
        cached_input=_num(where, "cached_input", d.get("cached_input"), hi=MAX_SANE_USD_PER_1M, required=False),
        cache_write_input=_num(
            where, "cache_write_input", d.get("cache_write_input"), hi=MAX_SANE_USD_PER_1M, required=False
        ),
        batch_discount=_num(where, "batch_discount", d.get("batch_discount"), hi=1.0, required=False),
        context=_num(where, "context", d.get("context"), lo=1, required=False, integer=True),
        provider=d.get("provider"),
        source=d.get("source"),
        as_of=None if d.get("as_of") is None else str(d.get("as_of")),
    )
    if p.cached_input is not None and p.cached_input > p.input:
        raise CostlabError(
            f"{where}: cached_input ({p.cached_input}) is higher than input ({p.input})",
            "cached_input is the discounted cache-read price; check the numbers",
        )
    return p


def _self_hosted_from_dict(origin: str, name: str, d: Mapping[str, Any]) -> SelfHostedPrice:
    where = f"{origin}: self_hosted.{name}"
    if not isinstance(d, Mapping):
        raise CostlabError(f"{where}: expected a mapping, got {type(d).__name__}")
    known = {
        "gpu",
        "gpus",
        "usd_per_gpu_hour",
        "usd_per_gpu_hour_range",
        "tokens_per_s",
        "prefill_tokens_per_s",
        "utilization",
        "context",
        "source",
        "as_of",
        "hardware",
    }
    extra = set(d) - known
    if extra:
        raise CostlabError(f"{where}: unknown key(s) {sorted(extra)}", f"allowed keys: {sorted(known)}")
    if d.get("hardware") is not None:  # GPU $/hour from configs/hardware/<name>.yaml: one home for it
        if d.get("usd_per_gpu_hour") is not None or d.get("usd_per_gpu_hour_range") is not None:
            raise CostlabError(
                f"{where}: both 'hardware' and usd_per_gpu_hour set",
                "the GPU price lives in configs/hardware/*.yaml: keep only 'hardware'",
            )
        hw = load_hardware(str(d["hardware"]))
        d = {
            **d,
            "gpu": hw.get("gpu", d.get("gpu")),
            "usd_per_gpu_hour": hw.get("usd_per_hour"),
            "usd_per_gpu_hour_range": hw.get("usd_per_hour_range"),
            "source": f"GPU $/h: configs/hardware/{d['hardware']}.yaml; throughput: {d.get('source')}",
        }
    rate = _num(where, "usd_per_gpu_hour", d.get("usd_per_gpu_hour"), hi=MAX_SANE_USD_PER_GPU_HOUR)
    rng = d.get("usd_per_gpu_hour_range") or [rate, rate]
    if len(list(rng)) != 2:
        raise CostlabError(f"{where}: usd_per_gpu_hour_range must be [low, high], got {rng!r}")
    lo, hi = (_num(where, "usd_per_gpu_hour_range", v, hi=MAX_SANE_USD_PER_GPU_HOUR) for v in rng)
    if not lo <= rate <= hi:
        raise CostlabError(f"{where}: usd_per_gpu_hour {rate} is outside usd_per_gpu_hour_range [{lo}, {hi}]")
    tps = _num(where, "tokens_per_s", d.get("tokens_per_s"), lo=1e-9)
    return SelfHostedPrice(
        name=name,
        gpu=str(d.get("gpu") or "?"),
        gpus=_num(where, "gpus", d.get("gpus"), lo=1, hi=4096, integer=True),
        usd_per_gpu_hour=rate,
        usd_per_gpu_hour_range=(lo, hi),
        tokens_per_s=tps,
        prefill_tokens_per_s=_num(where, "prefill_tokens_per_s", d.get("prefill_tokens_per_s", tps * 10), lo=1e-9),
        utilization=_num(where, "utilization", d.get("utilization", 0.5), lo=1e-6, hi=1.0),
        context=_num(where, "context", d.get("context"), lo=1, required=False, integer=True),
        source=d.get("source"),
        as_of=None if d.get("as_of") is None else str(d.get("as_of")),
    )


def load_hardware(name: str) -> dict[str, Any]:
    p = HARDWARE_DIR / f"{name}.yaml"
    if not p.exists():
        avail = sorted(x.stem for x in HARDWARE_DIR.glob("*.yaml"))
        raise CostlabError(f"hardware profile '{name}' not found", f"use one of configs/hardware/: {', '.join(avail)}")
    import yaml

    return yaml.safe_load(p.read_text(encoding="utf-8")) or {}


def pricing_from_dict(d: Mapping[str, Any], origin: str = "<dict>") -> Pricing:
    if not isinstance(d, Mapping):
        raise CostlabError(f"{origin}: pricing must be a mapping with 'api' and/or 'self_hosted'")
    top = {"currency", "api", "self_hosted", "api_source", "litellm_keys", "max_age_days"}
    extra = set(d) - top
    if extra:
        raise CostlabError(
            f"{origin}: unknown top-level key(s) {sorted(extra)}", f"a pricing file has only {', '.join(sorted(top))}"
        )
    cur = d.get("currency", "USD")
    if cur != "USD":
        raise CostlabError(f"{origin}: currency '{cur}' is not supported", "all prices are USD; convert first")
    source = d.get("api_source", "yaml")
    if source not in ("yaml", "litellm"):
        raise CostlabError(f"{origin}: api_source '{source}' is not one of yaml, litellm")
    overrides = dict(d.get("api") or {})
    api: dict[str, ApiPrice] = {}
    if source == "litellm":
        base = litellm_api_prices(dict(d.get("litellm_keys") or {}))
        for name, o in overrides.items():  # an override replaces fields of LiteLLM's entry, or adds a model
            if name in base and isinstance(o, Mapping):
                merged = {k: v for k, v in asdict(base[name]).items() if k not in ("name", "kind")}
                merged.update(o)
                fields = ", ".join(sorted(k for k in o if k not in ("source", "as_of")))
                merged["source"] = f"{base[name].source}; {fields} overridden by {origin} ({o.get('source')})"
                merged["as_of"] = str(o.get("as_of") or base[name].as_of)
                overrides[name] = merged
        api.update(base)
    api.update({str(k): _api_from_dict(origin, str(k), v) for k, v in overrides.items()})
    sh = {str(k): _self_hosted_from_dict(origin, str(k), v) for k, v in (d.get("self_hosted") or {}).items()}
    if not api and not sh:
        raise CostlabError(f"{origin}: no models priced", "add entries under api: or self_hosted:")
    clash = set(api) & set(sh)
    if clash:
        raise CostlabError(f"{origin}: {sorted(clash)} priced both as api and self_hosted")
    age = _num(origin, "max_age_days", d.get("max_age_days", DEFAULT_MAX_AGE_DAYS), lo=1)
    return Pricing(
        api=api,
        self_hosted=sh,
        currency=cur,
        origin=origin if source == "yaml" else f"{origin} + litellm {_litellm_version()} bundled price map",
        max_age_days=age,
    )


# ------------------------------------------------------------------------------------------------- LiteLLM
def litellm_price_map_path() -> Path | None:
    """Path of LiteLLM's bundled price map (no import of litellm, no network), or None if not installed."""
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        return None
    p = Path(list(spec.submodule_search_locations)[0]) / "model_prices_and_context_window_backup.json"
    return p if p.exists() else None


def load_litellm_price_map() -> dict[str, Any]:
    p = litellm_price_map_path()
    if p is None:
        raise CostlabError(
            "litellm is not installed, so its price map is not available",
            "pip install 'costlab[litellm]' (or use --prices default)",
        )
    return json.loads(p.read_text(encoding="utf-8"))


def _litellm_version() -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version("litellm")
    except importlib.metadata.PackageNotFoundError:
        return "(not installed)"


def litellm_api_prices(keys: Mapping[str, str]) -> dict[str, ApiPrice]:
    """Our model names priced from LiteLLM's bundled map (per-token → per-1M). ``as_of`` is the date the map file
    was installed (the map carries no date of its own; `costlab prices` says so). A key the map lacks is an error
    naming it: a price never goes missing silently."""
    import datetime

    m = load_litellm_price_map()
    path = litellm_price_map_path()
    installed = datetime.datetime.fromtimestamp(path.stat().st_mtime, datetime.timezone.utc).date().isoformat()
    ver = _litellm_version()
    api: dict[str, ApiPrice] = {}
    missing: list[str] = []
    for ours, theirs in keys.items():
        e = m.get(theirs)
        if not e or e.get("input_cost_per_token") is None or e.get("output_cost_per_token") is None:
            missing.append(f"{ours} (litellm key '{theirs}')")
            continue
        inp, out = e["input_cost_per_token"] * 1e6, e["output_cost_per_token"] * 1e6
        cached = e.get("cache_read_input_token_cost")
        bi = e.get("input_cost_per_token_batches")
        api[ours] = ApiPrice(
            name=ours,
            input=round(inp, 6),
            output=round(out, 6),
            cached_input=None if cached is None else round(cached * 1e6, 6),
            cache_write_input=None
            if e.get("cache_creation_input_token_cost") is None
            else round(e["cache_creation_input_token_cost"] * 1e6, 6),
            batch_discount=None if bi is None or inp == 0 else round(1 - bi * 1e6 / inp, 6),
            context=e.get("max_input_tokens"),
            provider=e.get("litellm_provider"),
            source=f"litellm {ver} model_prices_and_context_window.json:{theirs}",
            as_of=installed,
        )
    if missing:
        raise CostlabError(
            f"LiteLLM {ver}'s price map has no price for: {', '.join(missing)}",
            "fix litellm_keys in configs/pricing/default.yaml or add a full api: override",
        )
    return api


def pricing_from_litellm(base: Pricing | None = None, keys: Mapping[str, str] | None = None) -> Pricing:
    """Only LiteLLM's prices (no YAML overrides) for the models of the default pricing's ``litellm_keys``."""
    import yaml

    if keys is None:
        keys = (yaml.safe_load(DEFAULT_PRICING.read_text(encoding="utf-8")) or {}).get("litellm_keys") or {}
    return Pricing(
        api=litellm_api_prices(keys),
        self_hosted=dict(base.self_hosted) if base else {},
        currency="USD",
        origin=f"litellm {_litellm_version()} (bundled map, no overrides)",
    )


# -------------------------------------------------------------------------------------------------- loader
def load_pricing(path_or_cfg: Any = None) -> Pricing:
    """Load prices. See the module docstring for accepted inputs; None means configs/pricing/default.yaml."""
    if path_or_cfg is None:
        path_or_cfg = DEFAULT_PRICING
    if isinstance(path_or_cfg, Pricing):
        return path_or_cfg
    try:
        from omegaconf import DictConfig, OmegaConf

        if isinstance(path_or_cfg, DictConfig):
            node = path_or_cfg.pricing if "pricing" in path_or_cfg else path_or_cfg
            return pricing_from_dict(OmegaConf.to_container(node, resolve=True), origin="cfg.pricing")
    except ImportError:  # pragma: no cover - omegaconf is a core dependency
        pass
    if isinstance(path_or_cfg, Mapping):
        return pricing_from_dict(path_or_cfg.get("pricing", path_or_cfg) if "pricing" in path_or_cfg else path_or_cfg)
    s = str(path_or_cfg)
    if s == "litellm":
        return pricing_from_litellm(load_pricing(DEFAULT_PRICING))
    p = Path(s)
    if not p.suffix and not p.exists():
        p = PRICING_DIR / f"{s}.yaml"
    if not p.exists():
        avail = sorted(x.stem for x in PRICING_DIR.glob("*.yaml"))
        raise CostlabError(
            f"pricing file not found: {s}",
            f"pass a YAML path, 'litellm', or one of configs/pricing/: {', '.join(avail)}",
        )
    import yaml

    try:
        d = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise CostlabError(f"{p}: not valid YAML ({e})") from e
    return pricing_from_dict(d or {}, origin=str(p))


def pricing_with_routing(pricing: Pricing, routing_table: str | os.PathLike | Mapping[str, Any]) -> Pricing:
    """Add the routing table's models (usd_per_1m_in/out per model) as priced models."""
    rt = _read_routing(routing_table)
    extra: dict[str, ApiPrice] = {}
    for name, m in (rt.get("models") or {}).items():
        if name in pricing.api:
            continue
        where = f"routing table models.{name}"
        extra[name] = ApiPrice(
            name=name,
            input=_num(where, "usd_per_1m_in", m.get("usd_per_1m_in")),
            output=_num(where, "usd_per_1m_out", m.get("usd_per_1m_out")),
            provider=m.get("backend"),
            source=where,
            kind="routed",
        )
    return pricing.with_api(extra)


def _read_routing(rt: str | os.PathLike | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(rt, Mapping):
        return rt
    from costlab.io import read_json

    d = read_json(rt)
    if not isinstance(d, Mapping) or "routes" not in d:
        raise CostlabError(f"{rt}: not a routing table (no 'routes' key)", "pass tables/routing_table.json of a run")
    return d
