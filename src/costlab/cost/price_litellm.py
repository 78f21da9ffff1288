"""LiteLLM's bundled price map (model_prices_and_context_window, maintained upstream): read without importing
litellm and without network, converted to ApiPrice records (per-token → per-1M)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any, Mapping

from costlab.cost.price_math import ApiPrice
from costlab.errors import CostlabError


def _litellm_dir() -> Path | None:
    """The installed litellm package's directory, found without importing it; None if not installed."""
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def litellm_price_map_path() -> Path | None:
    """Path of LiteLLM's bundled price map (no import of litellm, no network), or None if not installed."""
    d = _litellm_dir()
    p = None if d is None else d / "model_prices_and_context_window_backup.json"
    return p if p is not None and p.exists() else None


def load_litellm_price_map() -> dict[str, Any]:
    p = litellm_price_map_path()
    if p is None:
        raise CostlabError(
            "litellm is not installed, so its price map is not available",
            "pip install 'costlab[litellm]' (or use --prices default)",
        )
    return json.loads(p.read_text(encoding="utf-8"))


def litellm_version() -> str:
    """The installed litellm's version, from the dist-info directory beside the package (every CLI call prices, and
    importlib.metadata.version scans all of site-packages: ~0.1 s); falls back to importlib.metadata."""
    d = _litellm_dir()
    if d is None:
        return "(not installed)"
    found = sorted(d.parent.glob("litellm-*.dist-info"))
    if len(found) == 1:
        return found[0].name[len("litellm-") : -len(".dist-info")]
    from importlib import metadata  # none or several beside it (e.g. an editable install): ask the metadata index

    try:
        return metadata.version("litellm")
    except metadata.PackageNotFoundError:
        return "(not installed)"


def litellm_api_prices(keys: Mapping[str, str]) -> dict[str, ApiPrice]:
    """Our model names priced from LiteLLM's bundled map (per-token → per-1M). ``as_of`` is the date the map file
    was installed (the map carries no date of its own; `costlab prices` says so). A key the map lacks is an error
    naming it: a price never goes missing silently."""
    import datetime

    m = load_litellm_price_map()
    path = litellm_price_map_path()
    installed = datetime.datetime.fromtimestamp(path.stat().st_mtime, datetime.timezone.utc).date().isoformat()
    ver = litellm_version()
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
