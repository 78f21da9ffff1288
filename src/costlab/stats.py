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
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from costlab.errors import CostlabError

DEFAULT_SEED = 0
DEFAULT_N_BOOT = 2000
DEFAULT_CONFIDENCE = 0.95
_CHUNK = 256  # bootstrap rows per chunk: bounds memory at CHUNK * n indices


# --------------------------------------------------------------------------- input checks
def _as_array(x: Any, what: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64).reshape(-1)
    if a.size == 0:
        raise CostlabError(
            f"{what}: 0 items — no statistic can be computed",
            "give the class at least one item (check eval.quality.limit and the task's data file)",
        )
    if not np.all(np.isfinite(a)):
        bad = int(np.sum(~np.isfinite(a)))
        raise CostlabError(
            f"{what}: {bad} non-finite value(s) (NaN/inf) in per-item scores",
            "fix the scorer so every item gets a finite score",
        )
    return a


def _pair(variant: Any, reference: Any, what: str = "paired scores") -> tuple[np.ndarray, np.ndarray]:
    v = _as_array(variant, f"{what} (variant)")
    r = _as_array(reference, f"{what} (reference)")
    if v.shape != r.shape:
        raise CostlabError(
            f"{what}: variant has {v.size} items, reference has {r.size} — they must be the same items in the same order",
            "evaluate both models on the same item ids (align by item id before calling)",
        )
    return v, r


def _chance(chance: Any, n: int, what: str) -> np.ndarray:
    c = np.asarray(chance, dtype=np.float64).reshape(-1)
    if c.size == 1:
        c = np.full(n, float(c[0]))
    if c.size != n or not np.all(np.isfinite(c)):
        raise CostlabError(
            f"{what}: chance must be one finite number or one per item (got {c.size} for {n} items)",
            "set the task's chance score (0 for generation tasks, 1/k for k-way multiple choice)",
        )
    return c


def _check_conf(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise CostlabError(f"confidence={confidence} is outside (0, 1)", "use e.g. 0.95")
    return float(confidence)


def is_binary(x: Any) -> bool:
    a = np.asarray(x, dtype=np.float64).reshape(-1)
    return bool(a.size) and bool(np.all((a == 0.0) | (a == 1.0)))


def stderr(x: Any) -> float:
    a = _as_array(x, "stderr")
    if a.size < 2:
        return 0.0
    return float(np.std(a, ddof=1) / math.sqrt(a.size))


def chance_normalized_retention(s_variant: float, s_reference: float, chance: float) -> float | None:
    den = s_reference - chance
    if not den > 0:
        return None
    return float((s_variant - chance) / den)


def _boot_indices(rng: np.random.Generator, n: int, n_boot: int):
    done = 0
    while done < n_boot:
        m = min(_CHUNK, n_boot - done)
        yield rng.integers(0, n, size=(m, n))
        done += m


def _quantiles(samples: np.ndarray, confidence: float) -> tuple[float, float]:
    a = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(samples, [a, 1.0 - a])
    return float(lo), float(hi)


def _f(x: float | None) -> float | None:
    return None if x is None else float(x)


# --------------------------------------------------------------------------- retention
@dataclass(frozen=True)
class RetentionCI:
    retention: float | None
    lo: float | None
    hi: float | None
    n: int
    confidence: float
    method: str
    n_boot: int
    undefined_frac: float = 0.0
    reason: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def paired_retention(
    variant: Any,
    reference: Any,
    chance: Any,
    *,
    n_boot: int = DEFAULT_N_BOOT,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = DEFAULT_SEED,
) -> RetentionCI:
    v, r = _pair(variant, reference, "retention")
    confidence = _check_conf(confidence)
    n = v.size
    c = _chance(chance, n, "retention")
    point = chance_normalized_retention(float(v.mean()), float(r.mean()), float(c.mean()))
    rng = np.random.default_rng(seed)
    if is_binary(v) and is_binary(r) and bool(np.all(c == c[0])):
        # 0/1 scores: resampling items = resampling the paired 2x2 table. +0.5 per cell (Agresti-Min) so that 0
        # discordant pairs in n items do not give a degenerate [1, 1] interval (they bound the discordance, they
        # do not prove it is 0).
        method = "paired bootstrap of the 2x2 table (Agresti-Min +0.5 per cell), percentile"
        cells = np.array(
            [
                np.sum((v == 1) & (r == 1)),
                np.sum((v == 1) & (r == 0)),
                np.sum((v == 0) & (r == 1)),
                np.sum((v == 0) & (r == 0)),
            ],
            dtype=np.float64,
        )
        m = rng.multinomial(n, (cells + 0.5) / (n + 2.0), size=n_boot)
        num = (m[:, 0] + m[:, 1]) / n - c[0]
        den = (m[:, 0] + m[:, 2]) / n - c[0]
    else:
        method = "paired per-item bootstrap, percentile"
        dv, dr = v - c, r - c  # per-item excess over chance; retention = mean(dv) / mean(dr)
        num = np.empty(n_boot)
        den = np.empty(n_boot)
        i = 0
        for idx in _boot_indices(rng, n, n_boot):
            num[i : i + len(idx)] = dv[idx].mean(axis=1)
            den[i : i + len(idx)] = dr[idx].mean(axis=1)
            i += len(idx)
    ok = den > 0
    undefined = float(1.0 - ok.mean())
    ratio = np.where(ok, num / np.where(ok, den, 1.0), 0.0)
    big = 1e300  # stands for -inf / +inf (np.quantile would interpolate inf - inf into NaN)
    a = (1.0 - confidence) / 2.0
    lo = float(np.quantile(np.where(ok, ratio, -big), a))
    hi = float(np.quantile(np.where(ok, ratio, big), 1.0 - a))
    lo = -math.inf if lo <= -big / 2 else lo
    hi = math.inf if hi >= big / 2 else hi
    reasons = []
    if point is None:
        reasons.append("reference score is not above chance: retention undefined")
    if not math.isfinite(lo) or not math.isfinite(hi):
        reasons.append(f"in {undefined:.1%} of resamples the reference is not above chance: interval unbounded")
    return RetentionCI(
        retention=_f(point),
        lo=lo if math.isfinite(lo) else None,
        hi=hi if math.isfinite(hi) else None,
        n=int(n),
        confidence=confidence,
        method=method,
        n_boot=int(n_boot),
        undefined_frac=undefined,
        reason="; ".join(reasons),
    )


# --------------------------------------------------------------------------- paired test
@dataclass(frozen=True)
class PairedTest:
    p_value: float
    test: str
    n: int
    detail: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar: 2 * P(X <= min(b, c)), X ~ Binomial(b + c, 1/2), capped at 1."""
    b, c = int(b), int(c)
    if b < 0 or c < 0:
        raise CostlabError(f"mcnemar_exact: negative discordant counts b={b}, c={c}", "pass counts >= 0")
    m = b + c
    if m == 0:
        return 1.0
    k = min(b, c)
    tail = sum(math.comb(m, j) for j in range(k + 1))
    # exact integer arithmetic, then one division
    return float(min(1.0, 2 * tail / (2**m)))


def paired_test(variant: Any, reference: Any, *, n_perm: int = 10000, seed: int = DEFAULT_SEED) -> PairedTest:
    v, r = _pair(variant, reference, "paired test")
    n = int(v.size)
    if is_binary(v) and is_binary(r):
        b = int(np.sum((r == 1) & (v == 0)))  # reference right, variant wrong
        c = int(np.sum((r == 0) & (v == 1)))  # variant right, reference wrong
        return PairedTest(mcnemar_exact(b, c), "exact McNemar", n, {"ref_only": b, "variant_only": c})
    d = v - r
    nz = d[d != 0]
    obs = abs(float(d.sum()))
    if nz.size == 0:
        return PairedTest(1.0, "paired permutation", n, {"nonzero": 0, "exact": True})
    if nz.size <= 16:
        m = nz.size
        signs = ((np.arange(2**m)[:, None] >> np.arange(m)) & 1) * 2 - 1
        stats = np.abs(signs @ nz)
        p = float(np.mean(stats >= obs - 1e-12))
        return PairedTest(p, "paired permutation", n, {"nonzero": int(m), "exact": True})
    rng = np.random.default_rng(seed)
    hits = 0
    done = 0
    while done < n_perm:
        k = min(_CHUNK * 4, n_perm - done)
        signs = rng.integers(0, 2, size=(k, nz.size)) * 2 - 1
        hits += int(np.sum(np.abs(signs @ nz) >= obs - 1e-12))
        done += k
    p = (hits + 1) / (n_perm + 1)
    return PairedTest(
        float(p), "paired permutation", n, {"nonzero": int(nz.size), "exact": False, "n_perm": int(n_perm)}
    )


# --------------------------------------------------------------------------- mean over sequences
@dataclass(frozen=True)
class MeanCI:
    mean: float
    lo: float
    hi: float
    n: int
    confidence: float
    method: str
    n_boot: int

    def to_dict(self) -> dict:
        return asdict(self)


def mean_ci(
    values: Any,
    *,
    weights: Any = None,
    n_boot: int = DEFAULT_N_BOOT,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = DEFAULT_SEED,
) -> MeanCI:
    x = _as_array(values, "mean_ci")
    confidence = _check_conf(confidence)
    if weights is None:
        w = np.ones_like(x)
    else:
        w = _as_array(weights, "mean_ci weights")
        if w.shape != x.shape or np.any(w < 0) or w.sum() <= 0:
            raise CostlabError(
                f"mean_ci: weights must be >= 0, one per value ({w.size} for {x.size}), not all 0",
                "pass the token count of each sequence",
            )
    est = float((w * x).sum() / w.sum())
    if x.size == 1:
        return MeanCI(est, est, est, 1, confidence, "single sequence: no interval", 0)
    samples = np.empty(n_boot)
    rng = np.random.default_rng(seed)
    wx = w * x
    i = 0
    for idx in _boot_indices(rng, x.size, n_boot):
        sw = w[idx].sum(axis=1)
        samples[i : i + len(idx)] = wx[idx].sum(axis=1) / np.where(sw > 0, sw, 1.0)
        i += len(idx)
    lo, hi = _quantiles(samples, confidence)
    return MeanCI(
        est,
        min(lo, est),
        max(hi, est),
        int(x.size),
        confidence,
        "bootstrap over sequences, percentile" + (" (token-weighted)" if weights is not None else ""),
        int(n_boot),
    )


# --------------------------------------------------------------------------- above chance
@dataclass(frozen=True)
class Measurability:
    measurable: bool
    p_value: float
    test: str
    reason: str
    score: float
    chance: float
    n: int

    def to_dict(self) -> dict:
        return asdict(self)


def _binom_sf(k: int, n: int, p: float) -> float:
    """P(X >= k), X ~ Binomial(n, p), summed in log space."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    lp, lq = math.log(p), math.log1p(-p)
    logs = [
        math.lgamma(n + 1) - math.lgamma(j + 1) - math.lgamma(n - j + 1) + j * lp + (n - j) * lq
        for j in range(k, n + 1)
    ]
    m = max(logs)
    return float(min(1.0, math.exp(m) * sum(math.exp(t - m) for t in logs)))


def above_chance(
    reference: Any,
    chance: Any,
    *,
    confidence: float = DEFAULT_CONFIDENCE,
    n_boot: int = DEFAULT_N_BOOT,
    seed: int = DEFAULT_SEED,
) -> Measurability:
    r = _as_array(reference, "above_chance")
    confidence = _check_conf(confidence)
    n = int(r.size)
    c = _chance(chance, n, "above_chance")
    score, cbar = float(r.mean()), float(c.mean())
    alpha = 1.0 - confidence
    scalar_c = bool(np.all(c == c[0]))
    if is_binary(r) and scalar_c:
        k = int(r.sum())
        p = _binom_sf(k, n, float(c[0]))
        test = "one-sided binomial"
    else:
        d = r - c
        obs = float(d.mean())
        null = d - obs  # impose H0: mean excess = 0
        rng = np.random.default_rng(seed)
        hits = 0
        for idx in _boot_indices(rng, n, n_boot):
            hits += int(np.sum(null[idx].mean(axis=1) >= obs - 1e-12))
        p = (hits + 1) / (n_boot + 1) if obs > 0 else 1.0
        test = "one-sided bootstrap"
    measurable = p < alpha
    if measurable:
        reason = f"reference {score:.3f} > chance {cbar:.3f} ({test}, p={p:.3g}, n={n})"
    else:
        reason = (
            f"not measurable with this reference: reference {score:.3f} is not significantly above "
            f"chance {cbar:.3f} ({test}, p={p:.3g} >= {alpha:.3g}, n={n})"
        )
    return Measurability(bool(measurable), float(p), test, reason, score, cbar, n)


# --------------------------------------------------------------------------- latency spread
def spread(values: Any) -> dict:
    x = _as_array(values, "spread")
    p50 = float(np.median(x))
    return {
        "p50": p50,
        "p95": float(np.quantile(x, 0.95)),
        "min": float(x.min()),
        "max": float(x.max()),
        "mean": float(x.mean()),
        "n": int(x.size),
        "rel_spread": float((x.max() - x.min()) / p50) if p50 > 0 else None,
    }


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


# --------------------------------------------------------------------------- a proportion
def _binom_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k), X ~ Binomial(n, p)."""
    return 1.0 - _binom_sf(k + 1, n, p) if k < n else 1.0


def proportion_ci(k: int, n: int, *, confidence: float = DEFAULT_CONFIDENCE) -> tuple[float, float]:
    """Exact (Clopper-Pearson) two-sided interval of a binomial proportion k/n, by bisection on the binomial
    tails. Unlike a percentile bootstrap it gives an upper bound > 0 at k = 0 (0/300 → [0, 0.0122])."""
    confidence = _check_conf(confidence)
    if n <= 0 or not 0 <= k <= n:
        raise CostlabError(f"proportion_ci: need 0 <= k <= n and n > 0, got k={k}, n={n}", "count hits and trials")
    a = (1.0 - confidence) / 2

    def solve(f, target: float) -> float:  # f increasing in p on [0, 1]
        lo, hi = 0.0, 1.0
        for _ in range(60):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if f(mid) < target else (lo, mid)
        return (lo + hi) / 2

    lower = 0.0 if k == 0 else solve(lambda p: _binom_sf(k, n, p), a)
    upper = 1.0 if k == n else solve(lambda p: 1.0 - _binom_cdf(k, n, p), 1.0 - a)
    return float(lower), float(upper)
