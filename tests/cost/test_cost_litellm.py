"""LiteLLM's bundled price map is the source of API prices: the arithmetic agrees with litellm's own cost function,
and every model that the estimator, the CLI defaults, the tables or the routing table name has a price.

Uses the map bundled inside the litellm wheel (LITELLM_LOCAL_MODEL_COST_MAP=True semantics: no network).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import yaml

from costlab.cost.estimate import TrafficProfile, estimate
from costlab.cost.pricing import DEFAULT_PRICING, litellm_price_map_path, load_pricing, pricing_with_routing

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
pytestmark = pytest.mark.skipif(litellm_price_map_path() is None, reason="litellm not installed")
ROOT = Path(__file__).resolve().parents[2]


def test_default_prices_equal_litellm_where_not_overridden():
    p, only = load_pricing(), load_pricing("litellm")
    overridden = yaml.safe_load(DEFAULT_PRICING.read_text())["api"]
    for name, a in p.api.items():
        b = only.api[name]
        for f in ("input", "output", "cached_input", "context", "batch_discount"):
            if f not in overridden.get(name, {}):
                assert getattr(a, f) == getattr(b, f), (name, f)


def test_seed_example_costs_agree_with_litellm_map():
    t = TrafficProfile(10_000, 500, 300)
    models = ["gpt-4o", "gpt-4o-mini", "claude-haiku-3.5"]
    ours = {r["model"]: r["usd_per_month"] for r in estimate(load_pricing(), t, models)}
    theirs = {r["model"]: r["usd_per_month"] for r in estimate(load_pricing("litellm"), t, models)}
    assert ours == pytest.approx(theirs)


def test_litellm_cost_per_token_api_agrees():
    litellm = pytest.importorskip("litellm")
    inp, out = litellm.cost_per_token(model="gpt-4o-mini", prompt_tokens=500, completion_tokens=300)
    assert inp + out == pytest.approx(load_pricing().api_price("gpt-4o-mini").cost(500, 300))


def _named_models() -> set[str]:
    """Model names the estimator and CLI defaults use, and API model names any config or docs example names."""
    p = load_pricing()
    names = set(p.names())  # the estimator's default model list is pricing.names()
    cli = (ROOT / "src/costlab/cost/cli.py").read_text()
    names |= set(re.findall(r'typer\.Option\("((?:gpt|claude|o\d)[\w.\-]*)"', cli))
    for y in (ROOT / "configs").rglob("*.yaml"):  # (configs/pricing holds LiteLLM keys, not our names)
        if y.parent.name == "pricing":
            continue
        for m in re.findall(r"\b(gpt-[\w.\-]*\w|claude-[\w.\-]*\w)\b", y.read_text()):
            names.add(m)
    return names


def test_every_model_named_by_the_estimator_cli_and_configs_has_a_price():
    p = load_pricing()
    unpriced = sorted(n for n in _named_models() if p.resolve(n) is None)
    assert not unpriced, f"named but not priced: {unpriced}"


def test_every_model_in_a_routing_table_has_a_price(tmp_path):
    """Routed models are either priced API models or carry usd_per_1m_in/out in the table (self-hosted variants,
    priced from configs/hardware by the tables stage); pricing_with_routing must price every one."""
    rts = sorted((ROOT / "runs").rglob("routing_table.json")) if (ROOT / "runs").exists() else []
    table = (
        json.loads(rts[-1].read_text())
        if rts
        else {
            "version": 2,
            "default_route": "general",
            "routes": {
                "qa": {"cost": {"model": "student-Q4_K_M", "fallbacks": ["gpt-4o-mini"]}},
                "code": {"cost": {"model": "gpt-4o", "fallbacks": []}},
            },
            "models": {"student-Q4_K_M": {"usd_per_1m_in": 0.05, "usd_per_1m_out": 0.5}},
        }
    )
    p = pricing_with_routing(load_pricing(), table)
    named = set(table.get("models") or {})
    for r in (table.get("routes") or {}).values():
        for pick in r.values() if isinstance(r, dict) else []:
            if isinstance(pick, dict) and pick.get("model"):
                named |= {pick["model"], *pick.get("fallbacks", [])}
    missing = sorted(n for n in named if p.resolve(n) is None)
    assert not missing, f"routing table names unpriced models: {missing}"
