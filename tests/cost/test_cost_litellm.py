"""Cross-check our list prices against LiteLLM's maintained price map (runs when litellm is installed).

Uses the map bundled inside the litellm wheel (LITELLM_LOCAL_MODEL_COST_MAP=True semantics: no network).
"""

from __future__ import annotations

import os

import pytest

from costlab.cost.estimate import TrafficProfile, estimate
from costlab.cost.pricing import LITELLM_KEYS, litellm_price_map_path, load_pricing, pricing_from_litellm

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
pytestmark = pytest.mark.skipif(litellm_price_map_path() is None, reason="litellm not installed")


@pytest.mark.parametrize("model", sorted(LITELLM_KEYS))
def test_our_prices_match_litellm(model):
    ours = load_pricing().api_price(model)
    lp = pricing_from_litellm(load_pricing())
    if model not in lp.api:
        pytest.skip(f"this litellm's map has no '{LITELLM_KEYS[model]}' entry")
    theirs = lp.api[model]
    assert ours.input == pytest.approx(theirs.input), model
    assert ours.output == pytest.approx(theirs.output), model
    if theirs.cached_input is not None:
        assert ours.cached_input == pytest.approx(theirs.cached_input), model
    if theirs.batch_discount is not None:
        assert ours.batch_discount == pytest.approx(theirs.batch_discount), model
    assert ours.context == theirs.context, model


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
