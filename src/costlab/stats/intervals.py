"""Intervals: paired retention (chance-normalized, bootstrap), a mean over sequences, a binomial proportion,
and the spread of repeated measurements. See costlab.stats for the contract of each."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from costlab.errors import CostlabError
from costlab.stats._core import (
    DEFAULT_CONFIDENCE,
    DEFAULT_N_BOOT,
    DEFAULT_SEED,
    _as_array,
    _binom_cdf,
    _binom_sf,
    _bootstrap,
    _chance,
    _check_conf,
    _f,
    _pair,
    _quantiles,
    _Result,
    chance_normalized_retention,
    is_binary,
)


# --------------------------------------------------------------------------- retention
@dataclass(frozen=True)
class RetentionCI(_Result):
    retention: float | None
    lo: float | None
    hi: float | None
    n: int
    confidence: float
    method: str
    n_boot: int
    undefined_frac: float = 0.0
    reason: str = ""


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
        both = _bootstrap(rng, n, n_boot, lambda idx: np.stack([dv[idx].mean(axis=1), dr[idx].mean(axis=1)], 1))
        num, den = both[:, 0], both[:, 1]
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


# --------------------------------------------------------------------------- mean over sequences
@dataclass(frozen=True)
class MeanCI(_Result):
    mean: float
    lo: float
    hi: float
    n: int
    confidence: float
    method: str
    n_boot: int


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
    wx = w * x

    def weighted_mean(idx: np.ndarray) -> np.ndarray:
        sw = w[idx].sum(axis=1)
        return wx[idx].sum(axis=1) / np.where(sw > 0, sw, 1.0)

    samples = _bootstrap(np.random.default_rng(seed), x.size, n_boot, weighted_mean)
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


# --------------------------------------------------------------------------- a proportion


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
