"""costlab.stats: closed-form and simulated checks; edge cases raise or flag, never silent NaN."""

import math

import numpy as np
import pytest

from costlab import stats
from costlab.errors import CostlabError


# ---------------------------------------------------------------- McNemar / binomial, closed form
def test_mcnemar_exact_hand_computed():
    # b=1, c=6: 2 * (C(7,0) + C(7,1)) / 2^7 = 2 * 8 / 128 = 0.125
    assert stats.mcnemar_exact(1, 6) == pytest.approx(0.125)
    assert stats.mcnemar_exact(6, 1) == pytest.approx(0.125)
    # b=0, c=5: 2 / 32
    assert stats.mcnemar_exact(0, 5) == pytest.approx(0.0625)
    assert stats.mcnemar_exact(3, 3) == 1.0
    assert stats.mcnemar_exact(0, 0) == 1.0


def test_paired_test_binary_uses_mcnemar_counts():
    ref = [1, 1, 1, 1, 1, 1, 0, 0, 1, 0]
    var = [0, 0, 0, 0, 0, 0, 0, 1, 1, 0]  # ref_only=6, variant_only=1
    t = stats.paired_test(var, ref)
    assert t.test == "exact McNemar"
    assert t.detail == {"ref_only": 6, "variant_only": 1}
    assert t.p_value == pytest.approx(0.125)


def test_paired_permutation_exact_small_and_ties():
    # 3 non-zero differences, all positive: exact sign-flip p = 2/8
    t = stats.paired_test([0.5, 0.7, 0.9, 0.3], [0.1, 0.2, 0.3, 0.3])
    assert t.test == "paired permutation" and t.detail["exact"]
    assert t.p_value == pytest.approx(0.25)
    same = stats.paired_test([0.2, 0.4], [0.2, 0.4])
    assert same.p_value == 1.0


def test_paired_permutation_detects_shift_and_not_noise():
    rng = np.random.default_rng(1)
    ref = rng.uniform(0, 1, 300)
    shifted = np.clip(ref - 0.1 + rng.normal(0, 0.05, 300), 0, 1)
    noisy = np.clip(ref + rng.normal(0, 0.05, 300), 0, 1)
    assert stats.paired_test(shifted, ref, n_perm=2000).p_value < 0.01
    assert stats.paired_test(noisy, ref, n_perm=2000).p_value > 0.01


def test_binomial_above_chance_closed_form():
    # 4-way MC, 10/20 right: P(X >= 10 | 20, 0.25) = 0.01386...
    ref = [1] * 10 + [0] * 10
    m = stats.above_chance(ref, 0.25)
    assert m.test == "one-sided binomial"
    exact = sum(math.comb(20, k) * 0.25**k * 0.75 ** (20 - k) for k in range(10, 21))
    assert m.p_value == pytest.approx(exact, rel=1e-9)
    assert m.measurable
    # 2/8 on 4-way MC is chance: not measurable, reason says so
    at = stats.above_chance([1, 1, 0, 0, 0, 0, 0, 0], 0.25)
    assert not at.measurable and "not measurable" in at.reason


def test_above_chance_continuous_and_ties():
    rng = np.random.default_rng(0)
    good = stats.above_chance(rng.uniform(0.3, 0.9, 100), 0.0)
    assert good.test == "one-sided bootstrap" and good.measurable
    flat = stats.above_chance([0.0] * 50, 0.0)
    assert not flat.measurable and flat.p_value == 1.0


# ---------------------------------------------------------------- retention
def test_retention_point_is_chance_normalized():
    ref = [1] * 60 + [0] * 40  # 0.60
    var = [1] * 45 + [0] * 55  # 0.45
    r = stats.paired_retention(var, ref, 0.25)
    assert r.retention == pytest.approx((0.45 - 0.25) / (0.60 - 0.25))
    assert r.lo < r.retention < r.hi
    assert r.n == 100 and r.reason == ""


def test_retention_interval_coverage_simulated():
    """~95% of intervals cover the true retention on simulated paired binary data."""
    rng = np.random.default_rng(123)
    c, p_ref, n = 0.25, 0.7, 300
    # variant keeps each correct reference answer w.p. 0.9 and is right w.p. 0.1 where the reference is wrong
    keep = 0.9
    p_var = p_ref * keep + (1 - p_ref) * 0.1
    true_ret = (p_var - c) / (p_ref - c)
    cover, trials = 0, 200
    for t in range(trials):
        ref = (rng.random(n) < p_ref).astype(float)
        var = np.where(ref == 1, rng.random(n) < keep, rng.random(n) < 0.1).astype(float)
        r = stats.paired_retention(var, ref, c, n_boot=500, seed=t)
        cover += r.lo <= true_ret <= r.hi
    rate = cover / trials
    assert 0.89 <= rate <= 0.99, rate


def test_retention_reference_at_chance_is_flagged_not_nan():
    ref = [1, 0, 0, 0, 0, 0, 0, 0]  # 0.125 < 0.25
    var = [1, 1, 0, 0, 0, 0, 0, 0]
    r = stats.paired_retention(var, ref, 0.25, n_boot=200)
    assert r.retention is None and r.lo is None and r.hi is None
    assert "not above chance" in r.reason
    d = stats.compare_class(var, ref, 0.25, n_boot=200)
    assert d["measurable"] is False and d["retention"] is None
    assert "not measurable" in d["measurable_reason"]
    for v in d.values():
        assert not (isinstance(v, float) and math.isnan(v))


def test_retention_all_ties_identical_models():
    ref = [1, 0, 1, 1, 0, 1, 1, 1, 0, 1] * 10
    d = stats.compare_class(ref, ref, 0.25, n_boot=300)
    assert d["retention"] == 1.0 and d["p_value"] == 1.0 and d["test"] == "exact McNemar"
    assert d["measurable"] is True
    # 0 discordant pairs in 100 is not proof of 0 in the population: the interval must not collapse to [1, 1]
    assert d["retention_lo"] < 1.0 < d["retention_hi"]


def test_zero_discordance_interval_is_not_degenerate():
    """80 MC items, variant agrees with the reference on every item: a plain paired bootstrap gives [1, 1] and
    would route on it; the 2x2-table bootstrap with +0.5 per cell (Agresti-Min) keeps the uncertainty that 80
    agreements leave (a 95% upper bound of ~3.7% discordant items)."""
    ref = [1] * 34 + [0] * 46  # 0.425 on 4-way MC
    r = stats.paired_retention(ref, ref, 0.25, n_boot=2000)
    assert r.retention == 1.0
    assert 0.8 < r.lo < 0.99 and 1.01 < r.hi < 1.25
    assert "Agresti-Min" in r.method


def test_per_item_chance_for_pooled_rows():
    ref = [1, 1, 1, 0, 1, 1]
    var = [1, 0, 1, 0, 1, 1]
    ch = [0.25, 0.25, 0.0, 0.0, 0.5, 0.5]
    r = stats.paired_retention(var, ref, ch, n_boot=200)
    cbar = float(np.mean(ch))
    assert r.retention == pytest.approx((4 / 6 - cbar) / (5 / 6 - cbar))


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "fn",
    [
        lambda: stats.paired_retention([], [], 0.25),
        lambda: stats.paired_test([], []),
        lambda: stats.mean_ci([]),
        lambda: stats.above_chance([], 0.25),
        lambda: stats.compare_class([], [], 0.0),
        lambda: stats.spread([]),
    ],
)
def test_zero_items_raise_clear_error(fn):
    with pytest.raises(CostlabError, match="0 items"):
        fn()


def test_misaligned_and_nan_raise():
    with pytest.raises(CostlabError, match="same items"):
        stats.paired_retention([1, 0], [1, 0, 1], 0.25)
    with pytest.raises(CostlabError, match="non-finite"):
        stats.paired_test([1.0, float("nan")], [1.0, 0.0])
    with pytest.raises(CostlabError, match="chance"):
        stats.paired_retention([1, 0], [1, 0], [0.1, 0.2, 0.3])


# ---------------------------------------------------------------- mean over sequences
def test_mean_ci_weighted_and_coverage():
    m = stats.mean_ci([1.0, 3.0], weights=[3, 1], n_boot=200)
    assert m.mean == pytest.approx(1.5)
    rng = np.random.default_rng(7)
    cover = 0
    for t in range(200):
        x = rng.exponential(1.0, 80)
        ci = stats.mean_ci(x, n_boot=500, seed=t)
        cover += ci.lo <= 1.0 <= ci.hi
    assert 0.88 <= cover / 200 <= 0.99


def test_mean_ci_single_sequence():
    m = stats.mean_ci([0.4])
    assert m.mean == m.lo == m.hi == 0.4 and m.n == 1


# ---------------------------------------------------------------- determinism + spread
def test_seeded_determinism():
    rng = np.random.default_rng(3)
    ref = (rng.random(200) < 0.6).astype(float)
    var = (rng.random(200) < 0.55).astype(float)
    a = stats.compare_class(var, ref, 0.25, seed=5)
    b = stats.compare_class(var, ref, 0.25, seed=5)
    assert a == b
    assert stats.mean_ci(var, seed=1) == stats.mean_ci(var, seed=1)


def test_spread():
    s = stats.spread([10.0, 12.0, 11.0, 30.0])
    assert s["p50"] == 11.5 and s["min"] == 10.0 and s["max"] == 30.0 and s["n"] == 4
    assert s["rel_spread"] == pytest.approx(20.0 / 11.5)
