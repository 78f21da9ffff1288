"""Prices: API list prices (USD per 1M tokens) and rented-GPU self-hosted models, loaded and validated.

The formulas and the price records live in costlab.cost.price_math, LiteLLM's map reader in
costlab.cost.price_litellm; their public names are importable from here (the one import for prices).

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

import math
import os
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any, Mapping

from costlab.cost.price_litellm import (
    litellm_api_prices,
    litellm_price_map_path,
    litellm_version,
    load_litellm_price_map,
)
from costlab.cost.price_math import (
    DEFAULT_MAX_AGE_DAYS,
    HOURS_PER_DAY,
    MAX_SANE_USD_PER_1M,
    MAX_SANE_USD_PER_GPU_HOUR,
    ApiPrice,
    Pricing,
    SelfHostedPrice,
    request_cost_usd,
    usd_per_1m_from_hourly,
)
from costlab.errors import CostlabError
from costlab.paths import CONFIG_DIR

PRICING_DIR = CONFIG_DIR / "pricing"
DEFAULT_PRICING = PRICING_DIR / "default.yaml"
HARDWARE_DIR = PRICING_DIR.parent / "hardware"

__all__ = [  # the price records and the math (price_math) and LiteLLM's map (price_litellm) are importable here
    "DEFAULT_MAX_AGE_DAYS",
    "DEFAULT_PRICING",
    "HARDWARE_DIR",
    "HOURS_PER_DAY",
    "MAX_SANE_USD_PER_1M",
    "MAX_SANE_USD_PER_GPU_HOUR",
    "PRICING_DIR",
    "ApiPrice",
    "Pricing",
    "SelfHostedPrice",
    "litellm_api_prices",
    "litellm_price_map_path",
    "litellm_version",
    "load_hardware",
    "load_litellm_price_map",
    "load_pricing",
    "pricing_from_dict",
    "pricing_from_litellm",
    "pricing_with_routing",
    "request_cost_usd",
    "usd_per_1m_from_hourly",
]


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


def _check_keys(where: str, d: Any, known: set[str]) -> None:
    """``d`` is a mapping with only ``known`` keys (a typo is an error naming the key, not a silent default)."""
    if not isinstance(d, Mapping):
        raise CostlabError(f"{where}: expected a mapping, got {type(d).__name__}")
    extra = set(d) - known
    if extra:
        raise CostlabError(f"{where}: unknown key(s) {sorted(extra)}", f"allowed keys: {sorted(known)}")


def _api_from_dict(origin: str, name: str, d: Mapping[str, Any]) -> ApiPrice:
    where = f"{origin}: api.{name}"
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
    _check_keys(where, d, known)
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
    _check_keys(where, d, known)
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
        origin=origin if source == "yaml" else f"{origin} + litellm {litellm_version()} bundled price map",
        max_age_days=age,
    )


def pricing_from_litellm(base: Pricing | None = None, keys: Mapping[str, str] | None = None) -> Pricing:
    """Only LiteLLM's prices (no YAML overrides) for the models of the default pricing's ``litellm_keys``."""
    import yaml

    if keys is None:
        keys = (yaml.safe_load(DEFAULT_PRICING.read_text(encoding="utf-8")) or {}).get("litellm_keys") or {}
    return Pricing(
        api=litellm_api_prices(keys),
        self_hosted=dict(base.self_hosted) if base else {},
        currency="USD",
        origin=f"litellm {litellm_version()} (bundled map, no overrides)",
    )


# -------------------------------------------------------------------------------------------------- loader
def load_pricing(path_or_cfg: Any = None) -> Pricing:
    """Load prices. See the module docstring for accepted inputs; None means configs/pricing/default.yaml."""
    if path_or_cfg is None:
        path_or_cfg = DEFAULT_PRICING
    if isinstance(path_or_cfg, Pricing):
        return path_or_cfg
    oc = sys.modules.get("omegaconf")  # a DictConfig exists only once omegaconf is imported: no import (~0.1 s) here
    if oc is not None and isinstance(path_or_cfg, oc.DictConfig):
        node = path_or_cfg.pricing if "pricing" in path_or_cfg else path_or_cfg
        return pricing_from_dict(oc.OmegaConf.to_container(node, resolve=True), origin="cfg.pricing")
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
