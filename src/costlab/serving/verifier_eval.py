"""Measure the semantic cache with and without a candidate check on labelled pairs (issue 12 finding 11).

A pair (a, b) stands for "b is asked after a was cached". A hit = cosine(a, b) >= threshold AND the check
accepts (b, a). Per check: the threshold is chosen on the ``dev`` split (lowest threshold whose dev false-hit
rate <= target, i.e. the most hits allowed), then reported on ``test`` (other families/templates) with exact
binomial 95% intervals, overall and per language and per negative kind.
  paraphrase hit rate = hits on label-1 pairs / label-1 pairs     (recall)
  false-hit rate      = hits on label-0 pairs / label-0 pairs
  precision           = correct hits / all hits
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

from costlab.stats import proportion_ci

THRESHOLDS = np.round(np.arange(0.30, 1.0001, 0.01), 4)


def _rate(k: int, n: int) -> dict:
    if n == 0:
        return {"k": 0, "n": 0, "rate": None, "ci": None}
    lo, hi = proportion_ci(k, n)
    return {"k": int(k), "n": int(n), "rate": k / n, "ci": [lo, hi]}


def block(hit: np.ndarray, label: np.ndarray) -> dict:
    tp, fp = int((hit & (label == 1)).sum()), int((hit & (label == 0)).sum())
    return {
        "paraphrase_hit_rate": _rate(tp, int((label == 1).sum())),
        "false_hit_rate": _rate(fp, int((label == 0).sum())),
        "precision": _rate(tp, tp + fp),
    }


def evaluate(
    rows: list[dict],
    sims: np.ndarray,
    checks: dict[str, Callable[[str, str], bool] | None],
    target: float = 0.01,
    per_language: bool = False,
) -> dict[str, Any]:
    """``per_language``: the threshold must also meet ``target`` on the dev rows of every language with at least
    20 dev negatives (the goal holds for English and Chinese each, not only on their mix)."""
    label = np.array([r["label"] for r in rows])
    split = np.array([r.get("split", "dev") for r in rows])
    lang = np.array([r.get("lang", "en") for r in rows])
    kind = np.array([r.get("kind", "?") for r in rows])
    dev, test = split == "dev", split == "test"
    out: dict[str, Any] = {
        "n_pairs": len(rows),
        "n_dev": int(dev.sum()),
        "n_test": int(test.sum()),
        "target_false_hit_rate": target,
        "checks": {},
    }
    for name, check in checks.items():
        ok = np.array([check(r["b"], r["a"]) for r in rows]) if check else np.ones(len(rows), bool)
        eff = np.where(ok, sims, -2.0)
        groups = [dev & (label == 0)]
        if per_language:
            groups += [
                dev & (label == 0) & (lang == l) for l in set(lang) if (dev & (label == 0) & (lang == l)).sum() >= 20
            ]
        cand = [t for t in THRESHOLDS if all(((eff[g] >= t).mean() if g.any() else 0) <= target for g in groups)]
        t = float(min(cand)) if cand else None
        res: dict[str, Any] = {
            "threshold": t,
            "check_rejects": {
                "paraphrase": _rate(int((~ok & (label == 1)).sum()), int((label == 1).sum())),
                "non_paraphrase": _rate(int((~ok & (label == 0)).sum()), int((label == 0).sum())),
            },
        }
        if t is not None:
            hit = eff >= t
            res["dev"] = block(hit[dev], label[dev])
            res["test"] = block(hit[test], label[test])
            res["test_by_lang"] = {
                l: block(hit[test & (lang == l)], label[test & (lang == l)]) for l in sorted(set(lang[test]))
            }
            res["test_false_hits_by_kind"] = {
                k: _rate(int((hit & test & (kind == k)).sum()), int((test & (kind == k)).sum()))
                for k in sorted(set(kind[test & (label == 0)]))
            }
        out["checks"][name] = res
    return out


def _fmt(r: dict | None) -> str:
    if not r or r["rate"] is None:
        return "      -       "
    return f"{r['rate']:.3f} [{r['ci'][0]:.3f},{r['ci'][1]:.3f}] ({r['k']}/{r['n']})"


def format_eval(res: dict, title: str) -> str:
    lines = [
        f"{title}: {res['n_pairs']} pairs (dev {res['n_dev']} picks the threshold: dev false-hit <= "
        f"{res['target_false_hit_rate']}; test {res['n_test']} reports)"
    ]
    for name, r in res["checks"].items():
        if r["threshold"] is None:
            lines.append(f"  {name:<22} no threshold meets the target on dev")
            continue
        t = r["test"]
        lines.append(
            f"  {name:<22} thr {r['threshold']:.2f}  test hit {_fmt(t['paraphrase_hit_rate'])}  "
            f"false-hit {_fmt(t['false_hit_rate'])}  precision {_fmt(t['precision'])}"
        )
        for l, b in r["test_by_lang"].items():
            lines.append(
                f"  {'':<22}   {l:<3}     hit {_fmt(b['paraphrase_hit_rate'])}  false-hit {_fmt(b['false_hit_rate'])}"
            )
        fk = ", ".join(f"{k} {v['k']}/{v['n']}" for k, v in r["test_false_hits_by_kind"].items())
        lines.append(f"  {'':<22}   false hits by kind: {fk}")
    return "\n".join(lines)


def score_at(rows: list[dict], sims: np.ndarray, check: Callable[[str, str], bool] | None, threshold: float) -> dict:
    """A fixed threshold (chosen elsewhere) on every row of ``rows``: overall, per language, false hits per kind."""
    label = np.array([r["label"] for r in rows])
    lang = np.array([r.get("lang", "en") for r in rows])
    kind = np.array([r.get("kind", "?") for r in rows])
    ok = np.array([check(r["b"], r["a"]) for r in rows]) if check else np.ones(len(rows), bool)
    hit = ok & (sims >= threshold)
    return {
        "threshold": threshold,
        "all": block(hit, label),
        "by_lang": {l: block(hit[lang == l], label[lang == l]) for l in sorted(set(lang))},
        "false_hits_by_kind": {
            k: _rate(int((hit & (kind == k)).sum()), int((kind == k).sum())) for k in sorted(set(kind[label == 0]))
        },
    }


def format_score(res: dict, title: str) -> str:
    a = res["all"]
    lines = [
        f"{title} at threshold {res['threshold']:.2f}: hit {_fmt(a['paraphrase_hit_rate'])}  "
        f"false-hit {_fmt(a['false_hit_rate'])}  precision {_fmt(a['precision'])}"
    ]
    for l, b in res["by_lang"].items():
        lines.append(f"    {l:<5} hit {_fmt(b['paraphrase_hit_rate'])}  false-hit {_fmt(b['false_hit_rate'])}")
    lines.append(
        "    false hits by kind: " + ", ".join(f"{k} {v['k']}/{v['n']}" for k, v in res["false_hits_by_kind"].items())
    )
    return "\n".join(lines)


BLIND2 = "paraphrase/blind2/pairs.jsonl"  # under DATA_DIR: the lead's independent blind set (never tuned on)
DEV_FILES = ("verifier_pairs.jsonl", "verifier_blind.jsonl", "pairs.jsonl", "dev2.jsonl")  # all development data


def _pooled_dev(sets: dict[str, list[dict]], sims: dict[str, np.ndarray]) -> tuple[list[dict], np.ndarray]:
    """Every development pair, one pool: verifier_pairs' and pairs.jsonl's dev splits as "dev", their test splits as
    "test" (reported, not used for the choice), verifier_blind.jsonl (scored once in session 2, development data
    since) and dev2.jsonl whole as "dev". The threshold frozen for the gateway is the pool's dev pick, with the
    false-hit target met by English and by Chinese each (per_language)."""
    rows, parts = [], []
    for name, v in sets.items():
        whole = name in ("blind", "dev2")
        rows += [dict(r, lang=r.get("lang", "en"), split="dev" if whole else r.get("split", "dev")) for r in v]
        parts.append(sims[name])
    return rows, np.concatenate(parts)


def run(
    embedder: Any,
    target: float = 0.01,
    blind2: bool = True,
    blind2_path: str | Path | None = None,
) -> dict[str, Any]:
    """The measurement behind docs/semantic-cache.md. Thresholds are chosen on development data only:
    per set (verifier_pairs dev → test, pairs.jsonl dev → test, as in session 2) and on all development pairs
    pooled (``frozen``: the threshold written into configs/serve/default.yaml). ``blind2``: the lead's blind set
    (data/paraphrase/blind2/pairs.jsonl, fields a, b, label, kind, lang) scored at the frozen thresholds, overall,
    per language and per kind; skipped when the file is absent or ``blind2`` is False. Nothing is fitted on it."""
    from functools import lru_cache

    from costlab.io import read_jsonl
    from costlab.paths import DATA_DIR
    from costlab.serving.guard import compatible as old_guard
    from costlab.serving.sweep import similarities
    from costlab.serving.verifier import compatible

    # each check is called on the same pair by several evaluations below: computed once
    checks = {
        "embedding only": None,
        "old guard (EN lexical)": lru_cache(maxsize=None)(old_guard),
        "verifier (EN+ZH)": lru_cache(maxsize=None)(compatible),
    }
    d = Path(DATA_DIR) / "paraphrase"
    names = {"verifier_blind.jsonl": "blind", "pairs.jsonl": "pairs_en_old", "dev2.jsonl": "dev2"}
    sets = {
        names.get(f, f.removesuffix(".jsonl")): read_jsonl(d / f, required=("a", "b", "label"))
        for f in DEV_FILES
        if (d / f).exists() or f != "dev2.jsonl"
    }
    sims = {k: similarities(v, embedder) for k, v in sets.items()}
    main_res = evaluate(sets["verifier_pairs"], sims["verifier_pairs"], checks, target)
    out: dict[str, Any] = {
        "embedder": getattr(embedder, "name", "?"),
        "verifier_pairs": main_res,
        "blind": {},
        "pairs_en_old": evaluate(sets["pairs_en_old"], sims["pairs_en_old"], checks, target),
    }
    for name, check in checks.items():
        t = main_res["checks"][name]["threshold"]
        out["blind"][name] = score_at(sets["blind"], sims["blind"], check, t) if t is not None else None
    pooled_rows, pooled_sims = _pooled_dev(sets, sims)
    pooled = evaluate(pooled_rows, pooled_sims, checks, target, per_language=True)
    out["pooled_dev"] = pooled
    out["frozen"] = {name: r["threshold"] for name, r in pooled["checks"].items()}
    t = out["frozen"]["verifier (EN+ZH)"]
    out["dev_sets_at_frozen"] = (
        {k: score_at(v, sims[k], checks["verifier (EN+ZH)"], t) for k, v in sets.items()} if t is not None else {}
    )
    out["blind_at_0.95"] = {name: score_at(sets["blind"], sims["blind"], check, 0.95) for name, check in checks.items()}
    path = Path(blind2_path) if blind2_path else Path(DATA_DIR) / BLIND2
    if not blind2:
        out["blind2"] = {"skipped": "not computed (--no-blind2)"}
    elif not path.exists():
        out["blind2"] = {"skipped": f"{path} is absent"}
    else:
        rows = read_jsonl(path, required=("a", "b", "label", "kind", "lang"))
        bs = similarities(rows, embedder)
        out["blind2"] = {
            "path": str(path),
            "n_pairs": len(rows),
            "checks": {
                name: score_at(rows, bs, check, out["frozen"][name]) if out["frozen"][name] is not None else None
                for name, check in checks.items()
            },
        }
    return out


def main(embedder: Any, target: float = 0.01, blind2: bool = True, blind2_path: str | Path | None = None) -> str:
    res = run(embedder, target, blind2=blind2, blind2_path=blind2_path)
    lines = [format_eval(res["verifier_pairs"], "verifier_pairs.jsonl (EN+ZH, split by family; development data)"), ""]
    for name, r in res["blind"].items():
        lines.append(
            format_score(r, f"verifier_blind.jsonl (development data since session 3), {name}")
            if r
            else f"verifier_blind.jsonl, {name}: no threshold"
        )
    lines += ["", format_eval(res["pairs_en_old"], "pairs.jsonl (older English set, its own dev/test split)")]
    lines += [
        "",
        format_eval(
            res["pooled_dev"],
            "ALL development pairs pooled pick the FROZEN threshold (dev = verifier_pairs dev + pairs dev + "
            "verifier_blind + dev2, target met per language; test = the two test splits)",
        ),
    ]
    for k, r in res["dev_sets_at_frozen"].items():
        lines.append(format_score(r, f"  {k} (all rows), verifier at the frozen threshold"))
    lines.append("")
    for name, r in res["blind_at_0.95"].items():  # the shipped default threshold of session 1
        lines.append(format_score(r, f"verifier_blind.jsonl, {name}"))
    lines.append("")
    b2 = res["blind2"]
    if "skipped" in b2:
        lines.append(f"blind2: {b2['skipped']}")
    else:
        lines.append(f"blind2 ({b2['path']}, {b2['n_pairs']} pairs) at the frozen thresholds, scored once:")
        for name, r in b2["checks"].items():
            lines.append(format_score(r, f"blind2, {name}") if r else f"blind2, {name}: no frozen threshold")
    return "\n".join(lines)
