"""Significance: the paired test of a variant against the reference (exact McNemar / sign-flip permutation) and
whether the reference is above chance at all (one-sided binomial / bootstrap). See costlab.stats."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from costlab.errors import CostlabError
from costlab.stats._core import (
    _CHUNK,
    DEFAULT_CONFIDENCE,
    DEFAULT_N_BOOT,
    DEFAULT_SEED,
    _as_array,
    _binom_sf,
    _bootstrap,
    _chance,
    _check_conf,
    _pair,
    _Result,
    is_binary,
)


# --------------------------------------------------------------------------- paired test
@dataclass(frozen=True)
class PairedTest(_Result):
    p_value: float
    test: str
    n: int
    detail: dict = field(default_factory=dict)


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


# --------------------------------------------------------------------------- above chance
@dataclass(frozen=True)
class Measurability(_Result):
    measurable: bool
    p_value: float
    test: str
    reason: str
    score: float
    chance: float
    n: int


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
        null_means = _bootstrap(np.random.default_rng(seed), n, n_boot, lambda idx: null[idx].mean(axis=1))
        hits = int(np.sum(null_means >= obs - 1e-12))
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
