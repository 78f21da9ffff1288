"""Statistics for every number that drives a decision (numpy only, seeded, deterministic).

One implementation, imported by eval (per-variant JSON) and tables/report (routing, flips).
All resampling uses ``numpy.random.default_rng(seed)``: the same inputs and seed give the same
output bit for bit. Bad input (0 items, misaligned pairs, NaN) raises ``CostlabError``; a result
that cannot be estimated (reference at chance, unbounded interval) is returned with ``None``
bounds and a ``reason`` — never a silent NaN.

Public API (signatures are stable; tables/ and report/ code against them)::

    DEFAULT_SEED = 0; DEFAULT_N_BOOT = 2000; DEFAULT_CONFIDENCE = 0.95

    is_binary(x) -> bool                                    # every value is 0 or 1
    stderr(x) -> float                                      # sample std (ddof=1) / sqrt(n); 0.0 for n == 1
    chance_normalized_retention(s_variant, s_reference, chance) -> float | None
        # (s_v - c) / (s_ref - c); None when s_ref <= c (undefined)

    paired_retention(variant, reference, chance, *, n_boot=2000, confidence=0.95, seed=0)
        -> RetentionCI(retention, lo, hi, n, confidence, method, n_boot, undefined_frac, reason)
        # paired per-item bootstrap: items resampled jointly for both models; percentile interval. For 0/1 scores
        # with one chance value this is a bootstrap of the paired 2x2 table with +0.5 per cell (Agresti-Min), so
        # 0 discordant items do not collapse the interval to [1, 1].
        # chance: float or per-item array (e.g. a pooled "general" row whose items have different c).
        # Resamples where the reference is not above chance make the ratio undefined: they count
        # as -inf for lo and +inf for hi (conservative); if that makes a bound infinite the bound
        # is None and `reason` says why.

    paired_test(variant, reference, *, n_perm=10000, seed=0) -> PairedTest(p_value, test, n, detail)
        # two-sided. 0/1 scores: exact McNemar ("exact McNemar"); otherwise a paired sign-flip
        # permutation test on the mean difference ("paired permutation", exact enumeration when
        # <= 16 non-zero differences). All ties -> p = 1.0.
    mcnemar_exact(b, c) -> float                            # b, c = discordant counts

    mean_ci(values, *, weights=None, n_boot=2000, confidence=0.95, seed=0) -> MeanCI(mean, lo, hi, n, ...)
        # bootstrap over sequences of sum(w*v)/sum(w) (weights = tokens per sequence gives the
        # per-token mean). For perplexity pass per-sequence mean NLL with token weights and take
        # exp() of mean/lo/hi (exp is monotone, so the percentile interval maps exactly).

    above_chance(reference, chance, *, confidence=0.95, n_boot=2000, seed=0)
        -> Measurability(measurable, p_value, test, reason, score, chance, n)
        # one-sided H0: reference score <= chance. 0/1 scores with one scalar c: exact binomial
        # ("one-sided binomial"); otherwise a null-shifted bootstrap ("one-sided bootstrap").
        # measurable = p_value < 1 - confidence.

    spread(values) -> dict(p50, p95, min, max, mean, n, rel_spread)
        # latency / throughput spread across reps; rel_spread = (max - min) / p50.

    compare_class(variant, reference, chance, *, n_boot=2000, confidence=0.95, seed=0) -> dict
        # everything eval/<variant>.json stores per class, in one call:
        # score, stderr, n, chance, reference_score, retention, retention_lo, retention_hi,
        # p_value, test, measurable, measurable_reason, measurable_p_value, confidence, ci_method.

Every result dataclass has ``.to_dict()`` (JSON-ready floats / None).

Modules: ``intervals`` (retention, mean, proportion, spread), ``significance`` (paired test, above chance),
``_core`` (input checks, bootstrap, binomial tails); the public names are importable from ``costlab.stats``.
"""

from __future__ import annotations

from typing import Any

from costlab.stats._core import (
    DEFAULT_CONFIDENCE,
    DEFAULT_N_BOOT,
    DEFAULT_SEED,
    _chance,
    _pair,
    chance_normalized_retention,
    is_binary,
    stderr,
)
from costlab.stats.intervals import MeanCI, RetentionCI, mean_ci, paired_retention, proportion_ci, spread
from costlab.stats.significance import Measurability, PairedTest, above_chance, mcnemar_exact, paired_test

# The reference variant against itself: retention 1 by definition, no interval, no test. A smoothed paired
# interval of a variant against itself is not [1, 1] (the demo showed [0.974, 1.027]); that spread is an artifact
# of the smoothing, not a measurement. Written into the reference's eval file and used by the tables.
REFERENCE_TEST = "reference (retention 1 by definition)"

__all__ = [
    "DEFAULT_CONFIDENCE",
    "REFERENCE_TEST",
    "DEFAULT_N_BOOT",
    "DEFAULT_SEED",
    "MeanCI",
    "Measurability",
    "PairedTest",
    "RetentionCI",
    "above_chance",
    "chance_normalized_retention",
    "compare_class",
    "is_binary",
    "mcnemar_exact",
    "mean_ci",
    "paired_retention",
    "paired_test",
    "proportion_ci",
    "spread",
    "stderr",
]


# --------------------------------------------------------------------------- one class, one call
def compare_class(
    variant: Any,
    reference: Any,
    chance: Any,
    *,
    n_boot: int = DEFAULT_N_BOOT,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = DEFAULT_SEED,
) -> dict:
    """Everything eval/<variant>.json stores for one task class (see module docstring)."""
    v, r = _pair(variant, reference, "compare_class")
    c = _chance(chance, v.size, "compare_class")
    meas = above_chance(r, c, confidence=confidence, n_boot=n_boot, seed=seed)
    ret = paired_retention(v, r, c, n_boot=n_boot, confidence=confidence, seed=seed)
    test = paired_test(v, r, seed=seed)
    reason = meas.reason if not meas.measurable else (ret.reason or meas.reason)
    return {
        "score": float(v.mean()),
        "stderr": stderr(v),
        "n": int(v.size),
        "chance": float(c.mean()),
        "reference_score": float(r.mean()),
        "retention": ret.retention,
        "retention_lo": ret.lo,
        "retention_hi": ret.hi,
        "p_value": test.p_value,
        "test": test.test,
        "measurable": meas.measurable,
        "measurable_reason": reason,
        "measurable_p_value": meas.p_value,
        "measurable_test": meas.test,
        "confidence": ret.confidence,
        "ci_method": ret.method,
        "n_boot": ret.n_boot,
    }
