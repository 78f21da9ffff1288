"""Self-hosted prices in LiteLLM's ``model_prices_and_context_window.json`` entry format, so a LiteLLM proxy
can bill calls to the measured variants (``litellm.register_model(json.load(f))`` or the proxy's
``model_cost_map`` / ``LITELLM_MODEL_COST_MAP`` setting)."""

from __future__ import annotations

from typing import Any, Mapping

# Keys every entry carries (LiteLLM's documented entry schema: cost per token, context, provider, mode).
ENTRY_KEYS = (
    "max_tokens",
    "max_input_tokens",
    "max_output_tokens",
    "input_cost_per_token",
    "output_cost_per_token",
    "litellm_provider",
    "mode",
)


def litellm_entries(rows: list[Mapping[str, Any]], hardware: str, provider: str = "openai") -> dict[str, dict]:
    """One entry per measured self-hosted row. Rows on ``hardware`` (the run's profile) are keyed by the variant
    name (what the router and gateway call it); rows on other profiles by ``<variant>@<profile>``."""
    out: dict[str, dict] = {}
    for r in rows:
        if r["kind"] != "self_hosted" or r.get("output_usd_per_1m") is None or r.get("input_usd_per_1m") is None:
            continue
        key = r["model"] if r["hardware"] == hardware else f"{r['model']}@{r['hardware']}"
        ctx = int(r["context"]) if r.get("context") else None
        out[key] = {
            "max_tokens": ctx,
            "max_input_tokens": ctx,
            "max_output_tokens": ctx,
            "input_cost_per_token": r["input_usd_per_1m"] / 1e6,
            "output_cost_per_token": r["output_usd_per_1m"] / 1e6,
            "litellm_provider": provider,
            "mode": "chat",
            "metadata": {
                "source": r["source"],
                "hardware": r["hardware"],
                "usd_per_hour": r.get("usd_per_hour"),
                "utilization": r.get("utilization"),
                "throughput_basis": r.get("throughput_basis"),
                "generated_by": "costlab",
            },
        }
    return out
