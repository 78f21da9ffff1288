"""Semantic-cache threshold sweep over a labelled paraphrase / non-paraphrase set.

Each pair (a, b) stands for "b is asked after a was cached": a similarity ≥ threshold is a cache hit.
label 1 (paraphrase): a hit is correct; label 0 (hard negative: negation, swapped entities, different numbers,
near topic): a hit is a *false hit* — the user gets another question's answer.
  precision      = correct hits / all hits
  recall         = correct hits / paraphrase pairs
  false-hit rate = hits on non-paraphrase pairs / non-paraphrase pairs
The recommended threshold is the lowest (most hits) whose false-hit rate on the ``dev`` split is ≤ the target;
its numbers on the ``test`` split are reported separately (chosen on dev, measured on test).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from costlab.errors import CostlabError
from costlab.io import read_jsonl


def load_pairs(path: str | Path) -> list[dict]:
    rows = read_jsonl(path, required=("id", "a", "b", "label"))
    for r in rows:
        if r["label"] not in (0, 1):
            raise CostlabError(f"{path}: pair {r['id']} has label {r['label']!r}", "labels are 1 (paraphrase) or 0")
    return rows


def similarities(rows: list[dict], embedder: Any) -> np.ndarray:
    a = embedder.encode([r["a"] for r in rows])
    b = embedder.encode([r["b"] for r in rows])
    return (a * b).sum(1)


def rates(sim: np.ndarray, label: np.ndarray, t: float) -> dict[str, float]:
    hit = sim >= t
    tp = int((hit & (label == 1)).sum())
    fp = int((hit & (label == 0)).sum())
    pos, neg = int((label == 1).sum()), int((label == 0).sum())
    return {
        "threshold": round(float(t), 4),
        "hits": tp + fp,
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / pos if pos else 0.0,
        "false_hit_rate": fp / neg if neg else 0.0,
    }


def sweep(
    rows: list[dict],
    embedder: Any,
    target_false_hit: float = 0.01,
    thresholds: np.ndarray | None = None,
    guard: bool = True,
) -> dict[str, Any]:
    """``guard``: a pair only counts as a hit if it also passes costlab.serving.verifier.compatible (as in the
    gateway with semantic_cache.guard=true); the raw embedding-only numbers are kept under ``raw``."""
    from costlab.serving.verifier import compatible  # what the gateway's semantic cache applies (guard=true)

    thresholds = np.round(np.arange(0.50, 1.0001, 0.01), 4) if thresholds is None else thresholds
    raw_sim = similarities(rows, embedder)
    ok_lex = np.array([compatible(r["b"], r["a"]) for r in rows]) if guard else np.ones(len(rows), bool)
    sim = np.where(ok_lex, raw_sim, -2.0)  # a guarded-out pair is never a hit
    label = np.array([r["label"] for r in rows])
    split = np.array([r.get("split", "dev") for r in rows])
    kinds = np.array([r.get("kind", "?") for r in rows])
    dev = split == "dev" if (split == "dev").any() else np.ones(len(rows), bool)
    test = split == "test"
    table = []
    for t in thresholds:
        row = {**rates(sim[dev], label[dev], t)}
        row["raw"] = rates(raw_sim[dev], label[dev], t)
        if test.any():
            tr = rates(sim[test], label[test], t)
            row.update({f"test_{k}": v for k, v in tr.items() if k != "threshold"})
        table.append(row)
    ok = [r for r in table if r["false_hit_rate"] <= target_false_hit and r["hits"] > 0]
    rec = min(ok, key=lambda r: r["threshold"]) if ok else None
    raw_ok = [r["raw"] for r in table if r["raw"]["false_hit_rate"] <= target_false_hit and r["raw"]["hits"] > 0]
    out: dict[str, Any] = {
        "n_pairs": len(rows),
        "n_dev": int(dev.sum()),
        "n_test": int(test.sum()),
        "embedder": getattr(embedder, "name", "?"),
        "target_false_hit_rate": target_false_hit,
        "guard": guard,
        "guard_rejects": {
            "paraphrase": int((~ok_lex & (label == 1)).sum()),
            "non_paraphrase": int((~ok_lex & (label == 0)).sum()),
        },
        "recommended_without_guard": min(raw_ok, key=lambda r: r["threshold"]) if raw_ok else None,
        "table": table,
        "recommended": rec,
    }
    if rec is not None:
        t = rec["threshold"]
        neg = label == 0
        out["false_hits_by_kind_at_recommended"] = {
            str(k): {"n": int(((kinds == k) & neg).sum()), "false_hits": int(((kinds == k) & neg & (sim >= t)).sum())}
            for k in sorted(set(kinds[neg]))
        }
    out["similarity_by_kind"] = {
        str(k): {
            "mean": float(raw_sim[kinds == k].mean()),
            "max": float(raw_sim[kinds == k].max()),
            "min": float(raw_sim[kinds == k].min()),
        }
        for k in sorted(set(kinds))
    }
    return out


def format_sweep(res: dict[str, Any], every: int = 1) -> str:
    g = res.get("guard")
    lines = [
        f"threshold sweep: {res['n_pairs']} pairs (dev {res['n_dev']}, test {res['n_test']}), embedder {res['embedder']}",
        "similarity by kind (mean): " + ", ".join(f"{k} {v['mean']:.2f}" for k, v in res["similarity_by_kind"].items()),
        (
            f"guard on: a hit also needs the lexical check (it rejects {res['guard_rejects']['non_paraphrase']} "
            f"non-paraphrase and {res['guard_rejects']['paraphrase']} paraphrase pairs at any threshold)"
        )
        if g
        else "guard off",
        f"{'thr':>5} | {'raw dev prec':>12} {'recall':>6} {'false-hit':>9} | {'dev prec':>8} {'recall':>6} {'false-hit':>9} | "
        f"{'test prec':>9} {'recall':>6} {'false-hit':>9}",
    ]
    for i, r in enumerate(res["table"]):
        if i % every and r is not res.get("recommended"):
            continue
        lines.append(
            f"{r['threshold']:>5.2f} | {r['raw']['precision']:>12.3f} {r['raw']['recall']:>6.3f} "
            f"{r['raw']['false_hit_rate']:>9.3f} | {r['precision']:>8.3f} {r['recall']:>6.3f} {r['false_hit_rate']:>9.3f} | "
            f"{r.get('test_precision', float('nan')):>9.3f} {r.get('test_recall', float('nan')):>6.3f} "
            f"{r.get('test_false_hit_rate', float('nan')):>9.3f}"
        )
    rec = res["recommended"]
    if rec is None:
        lines.append(
            f"no threshold keeps the dev false-hit rate ≤ {res['target_false_hit_rate']}: disable the semantic cache"
        )
    else:
        lines.append(
            f"recommended threshold {rec['threshold']:.2f} (lowest with dev false-hit rate ≤ {res['target_false_hit_rate']}): "
            f"dev precision {rec['precision']:.3f} recall {rec['recall']:.3f} false-hit {rec['false_hit_rate']:.3f}; "
            f"test precision {rec.get('test_precision', float('nan')):.3f} recall {rec.get('test_recall', float('nan')):.3f} "
            f"false-hit {rec.get('test_false_hit_rate', float('nan')):.3f}"
        )
        rw = res.get("recommended_without_guard")
        lines.append(
            "embedding only (no guard): "
            + (
                f"threshold {rw['threshold']:.2f}, dev recall {rw['recall']:.3f}"
                if rw
                else "no threshold meets the target"
            )
        )
        lines.append(
            "false hits by kind at that threshold (all splits): "
            + ", ".join(f"{k} {v['false_hits']}/{v['n']}" for k, v in res["false_hits_by_kind_at_recommended"].items())
        )
    return "\n".join(lines)
