"""Pricing YAML: schema, validation of bad numbers, unknown models with near matches, Hydra composition."""

from __future__ import annotations

import pytest
import yaml

from costlab.cost.pricing import DEFAULT_PRICING, load_pricing, pricing_from_dict
from costlab.errors import CostlabError

SEED_MODELS = [
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4-turbo",
    "gpt-3.5-turbo",
    "claude-opus-4",
    "claude-sonnet-4",
    "claude-haiku-3.5",
]


def test_default_has_every_seed_model_with_source_and_date():
    p = load_pricing()
    assert sorted(p.api) == sorted(SEED_MODELS)
    assert sorted(p.self_hosted) == ["llama-3.1-70b", "qwen2.5-72b"]
    for a in p.api.values():
        assert a.source.startswith("litellm ") and "model_prices_and_context_window.json:" in a.source, a.name
        assert a.as_of, a.name
        assert 0 < a.input < a.output, a.name
        assert a.context >= 16385
    for h in p.self_hosted.values():
        assert "configs/hardware/h100.yaml" in h.source and h.as_of
        lo, hi = h.usd_per_gpu_hour_range
        assert lo <= h.usd_per_gpu_hour <= hi


def test_api_prices_come_from_litellm_with_yaml_overrides():
    d = yaml.safe_load(DEFAULT_PRICING.read_text())
    assert d["currency"] == "USD" and d["api_source"] == "litellm"
    assert set(d["litellm_keys"]) == set(SEED_MODELS)
    assert set(d["api"]) <= set(SEED_MODELS)  # overrides only; the list prices themselves are LiteLLM's
    p = load_pricing()
    a = p.api_price("gpt-4o")
    assert (a.input, a.output, a.cached_input, a.batch_discount) == (2.50, 10.00, 1.25, 0.5)
    c = p.api_price("claude-haiku-3.5")  # LiteLLM's Bedrock entry has no batch price: the YAML override adds it
    assert c.batch_discount == 0.5 and "batch_discount overridden by" in c.source and c.as_of == "2025-06-01"
    assert p.api_price("claude-haiku-3.5").context == 200000


def test_self_hosted_gpu_price_lives_in_hardware_yaml():
    hw = yaml.safe_load((DEFAULT_PRICING.parents[1] / "hardware" / "h100.yaml").read_text())
    h = load_pricing().self_hosted_price("llama-3.1-70b")
    assert h.usd_per_gpu_hour == hw["usd_per_hour"] and list(h.usd_per_gpu_hour_range) == hw["usd_per_hour_range"]
    d = yaml.safe_load(DEFAULT_PRICING.read_text())
    assert all("usd_per_gpu_hour" not in v for v in d["self_hosted"].values())  # one home: configs/hardware


def test_stale_prices_are_listed(tmp_path):
    from datetime import date

    p = load_pricing()
    old = {m for m, _, _ in p.stale(today=date(2026, 1, 1))}
    assert {"claude-opus-4", "llama-3.1-70b"} <= old  # as of 2025-06-01, > 180 days before 2026-01-01
    assert not {m for m, _, _ in p.stale(today=date(2025, 7, 1))} & {"claude-opus-4", "llama-3.1-70b"}
    d = yaml.safe_load(DEFAULT_PRICING.read_text())
    d["max_age_days"] = 10_000
    assert not pricing_from_dict(d).stale(today=date(2026, 1, 1))


def test_a_litellm_key_that_vanished_is_an_error_not_a_silent_gap():
    d = yaml.safe_load(DEFAULT_PRICING.read_text())
    d["litellm_keys"]["gpt-4o"] = "no-such-model-xyz"
    with pytest.raises(CostlabError, match="no price for: gpt-4o"):
        pricing_from_dict(d)


def test_unknown_model_lists_near_matches():
    p = load_pricing("default")
    with pytest.raises(CostlabError) as e:
        p.api_price("gpt4o-mini")
    assert "gpt-4o-mini" in str(e.value) and "did you mean" in str(e.value)
    with pytest.raises(CostlabError, match="self-hosted"):
        p.api_price("llama-3.1-70b")


def test_log_names_resolve_to_priced_models():
    p = load_pricing()
    assert p.api_price("openai/gpt-4o-2024-08-06").name == "gpt-4o"
    assert p.api_price("gpt-4o-mini-20240718").name == "gpt-4o-mini"
    assert p.resolve("gpt-5") is None


def test_cost_arithmetic_cached_and_batch():
    a = load_pricing().api_price("gpt-4o")
    assert a.cost(1_000_000, 0) == pytest.approx(2.50)
    assert a.cost(1_000_000, 1_000_000, cached_tokens=500_000) == pytest.approx(0.5 * 2.5 + 0.5 * 1.25 + 10)
    assert a.cost(1_000_000, 1_000_000, batch=True) == pytest.approx(6.25)
    t = load_pricing().api_price("gpt-4-turbo")  # no caching: cached tokens billed at full input price
    assert t.cost(1_000_000, 0, cached_tokens=1_000_000) == pytest.approx(10.0)


@pytest.mark.parametrize(
    "bad,msg",
    [
        ({"input": -1, "output": 1}, "out of range"),
        ({"input": 2500, "output": 1}, "out of range"),  # per-1K entered as per-1M... or a typo
        ({"input": "cheap", "output": 1}, "must be a number"),
        ({"output": 1}, "'input' is missing"),
        ({"input": 1, "output": 1, "batch_discount": 1.5}, "batch_discount"),
        ({"input": 1, "output": 1, "cached_input": 2}, "higher than input"),
        ({"input": 1, "output": 1, "inptu": 3}, "unknown key"),
    ],
)
def test_bad_prices_are_rejected(bad, msg):
    with pytest.raises(CostlabError, match=msg):
        pricing_from_dict({"api": {"m": bad}}, "t.yaml")


def test_bad_self_hosted_and_missing_file():
    with pytest.raises(CostlabError, match="outside usd_per_gpu_hour_range"):
        pricing_from_dict(
            {
                "self_hosted": {
                    "x": {
                        "gpu": "A",
                        "gpus": 1,
                        "usd_per_gpu_hour": 9,
                        "usd_per_gpu_hour_range": [1, 2],
                        "tokens_per_s": 10,
                    }
                }
            }
        )
    with pytest.raises(CostlabError, match="no models priced"):
        pricing_from_dict({"api": {}})
    with pytest.raises(CostlabError, match="not found"):
        load_pricing("nope")


def test_hydra_composition_reads_the_same_prices(compose):
    cfg = compose()
    assert cfg.pricing.api_source == "litellm" and cfg.pricing.litellm_keys["gpt-4o"] == "gpt-4o"
    assert cfg.pricing.self_hosted["llama-3.1-70b"].gpus == 2
    p = load_pricing(cfg)  # root cfg or cfg.pricing both work
    assert p.api_price("claude-sonnet-4").output == 15.0
    assert load_pricing(cfg.pricing).api == p.api
    assert p.api_price("gpt-4o").input == 2.50


def test_litellm_version_read_beside_the_package_equals_the_metadata_index():
    """litellm_version reads the dist-info directory next to the package (no scan of site-packages); it must name
    the version importlib.metadata reports."""
    from importlib import metadata

    from costlab.cost.price_litellm import litellm_version

    try:
        want = metadata.version("litellm")
    except metadata.PackageNotFoundError:
        pytest.skip("litellm is not installed here")
    assert litellm_version() == want


def test_load_pricing_from_a_dictconfig():
    from omegaconf import OmegaConf

    cfg = OmegaConf.create({"pricing": yaml.safe_load(open(DEFAULT_PRICING))})
    p = load_pricing(cfg)
    assert p.origin.startswith("cfg.pricing") and p.api_price("gpt-4o-mini").output > 0
