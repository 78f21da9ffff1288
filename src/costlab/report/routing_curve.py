"""Routing-quality curve (RouteLLM-style): how much of the strong model's quality a router keeps per share of
calls it sends to the strong model.

Given per-prompt scores of a cheap and a strong model on held-out prompts, and a router score per prompt
(higher = more likely to need the strong model), the router sends the top x% of prompts to the strong model.
Ties in the router score are split evenly (the expectation over random tie-breaking), so a router that
only knows the task class gives a well-defined curve, and a random router is the straight line.

  PGR(x)  = (Q(x) − Q_cheap) / (Q_strong − Q_cheap)      performance gap recovered
  APGR    = ∫₀¹ PGR(x) dx                                 (random router: 0.5)
  CPT(p)  = the smallest % of strong calls with PGR ≥ p    (random router: p)

The scoring callable is any ``f(prompts: list[str]) -> list[float]``; ``class_router`` builds one from any
task classifier (e.g. costlab.serving.classify.KeywordClassifier().predict) and per-class retention.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Callable, Mapping, Sequence

import numpy as np

ScoreFn = Callable[[list[str]], Sequence[float]]


def quality_at(cheap: np.ndarray, strong: np.ndarray, router: np.ndarray, frac: float) -> float:
    """Expected mean quality when a fraction ``frac`` of prompts (highest router score first) go to strong."""
    n = len(cheap)
    budget = frac * n
    gain = strong - cheap
    total = 0.0
    for s in sorted(set(router.tolist()), reverse=True):
        idx = np.where(router == s)[0]
        if budget <= 0:
            break
        f = min(1.0, budget / len(idx))
        total += f * float(gain[idx].sum())
        budget -= len(idx)
    return float(cheap.mean() + total / n)


def routing_curve(
    cheap_scores: Sequence[float], strong_scores: Sequence[float], router_scores: Sequence[float], points: int = 21
) -> dict:
    cheap, strong = np.asarray(cheap_scores, float), np.asarray(strong_scores, float)
    router = np.asarray(router_scores, float)
    if not (len(cheap) == len(strong) == len(router)) or len(cheap) == 0:
        raise ValueError("cheap, strong and router scores must be non-empty and aligned")
    xs = np.linspace(0.0, 1.0, points)
    qs = [quality_at(cheap, strong, router, float(x)) for x in xs]
    qc, qs_ = float(cheap.mean()), float(strong.mean())
    out = {"x": xs.tolist(), "quality": qs, "q_cheap": qc, "q_strong": qs_, "n": int(len(cheap))}
    if qs_ - qc <= 1e-12:
        out.update(
            pgr=None,
            apgr=None,
            cpt50=None,
            cpt80=None,
            note="the strong model is not better than the cheap one on these prompts: PGR undefined",
        )
        return out
    fine = np.linspace(0.0, 1.0, 1001)
    pgr_fine = np.array([(quality_at(cheap, strong, router, float(x)) - qc) / (qs_ - qc) for x in fine])
    out["pgr"] = [(q - qc) / (qs_ - qc) for q in qs]
    out["apgr"] = float(np.trapezoid(pgr_fine, fine)) if hasattr(np, "trapezoid") else float(np.trapz(pgr_fine, fine))
    for p in (0.5, 0.8):
        hit = np.where(pgr_fine >= p - 1e-9)[0]
        out[f"cpt{int(p * 100)}"] = float(fine[hit[0]]) if len(hit) else None
    return out


def random_router(prompts: list[str]) -> list[float]:
    """The baseline: no information (every prompt tied → expected quality is the straight line)."""
    return [0.0] * len(prompts)


def class_router(
    classify: Callable[[list[str]], Sequence[str]],
    cheap_retention: Mapping[str, float | None],
    default: float | None = None,
) -> ScoreFn:
    """Router score = 1 − the cheap model's retention on the predicted class (lower retention → send to strong).
    Classes without a retention measurement get ``default`` (the mean gap) — never a made-up certainty."""
    known = [v for v in cheap_retention.values() if isinstance(v, (int, float))]
    fallback = default if default is not None else (1.0 - float(np.mean(known)) if known else 0.0)

    def score(prompts: list[str]) -> list[float]:
        out = []
        for c in classify(prompts):
            r = cheap_retention.get(c)
            out.append(1.0 - float(r) if isinstance(r, (int, float)) else fallback)
        return out

    return score


def join_samples(
    cheap_rows: list[dict], strong_rows: list[dict]
) -> tuple[list[str], list[str], list[float], list[float]]:
    """Align two variants' per-item samples on (task, id): (prompts, task classes, cheap scores, strong scores)."""
    strong = {(r["task"], str(r["id"])): r for r in strong_rows}
    prompts, classes, c, s = [], [], [], []
    for r in cheap_rows:
        k = (r["task"], str(r["id"]))
        if k in strong:
            prompts.append(r["prompt"])
            classes.append(r["task_class"])
            c.append(float(r["score"]))
            s.append(float(strong[k]["score"]))
    return prompts, classes, c, s


def per_class_means(classes: list[str], scores: list[float]) -> dict[str, float]:
    acc: dict[str, list[float]] = defaultdict(list)
    for c, v in zip(classes, scores):
        acc[c].append(v)
    return {c: float(np.mean(v)) for c, v in acc.items()}
