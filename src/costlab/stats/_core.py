"""What every statistic shares: input checks (CostlabError naming the input), chunked bootstrap resampling,
binomial tails, the result base class. Internal to costlab.stats."""

from __future__ import annotations

import math
from dataclasses import asdict
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


def _bootstrap(rng: np.random.Generator, n: int, n_boot: int, stat) -> np.ndarray:
    """``stat(idx)`` over ``n_boot`` resamples of ``n`` items, drawn in chunks of index rows (``idx``: (m, n)).
    ``stat`` returns (m,) or (m, k) values; k statistics of the same resample stay paired in one row."""
    out = None
    i = 0
    for idx in _boot_indices(rng, n, n_boot):
        val = np.asarray(stat(idx), dtype=np.float64)
        if out is None:
            out = np.empty((n_boot, *val.shape[1:]))
        out[i : i + len(idx)] = val
        i += len(idx)
    return out if out is not None else np.empty(0)


class _Result:
    """Every result dataclass: ``.to_dict()`` gives JSON-ready floats / None."""

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


def _binom_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k), X ~ Binomial(n, p)."""
    return 1.0 - _binom_sf(k + 1, n, p) if k < n else 1.0
