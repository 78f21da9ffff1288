"""The routing-quality curve section of the report: cheap vs strong variant, a router vs random, with its plot.

The curve math is costlab.report.routing_curve; this module picks the pair, reads the per-item samples, builds
the routers and writes routing_curve.png.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np

from costlab.errors import CostlabError
from costlab.io import read_jsonl
from costlab.report import routing_curve as rc
from costlab.report.markdown import md_table
from costlab.tables.stage import fmt


def routing_curve_section(run: Mapping[str, Any], rcfg: Mapping[str, Any], out_dir: Path) -> tuple[list[str], dict]:
    evals = run["evals"]
    strong = rcfg.get("strong") or run["summary"].get("reference")
    cheap = rcfg.get("cheap")
    if not cheap:  # the cheapest measured variant that is worse than the strong one on the eval items (else
        # the curve is flat and undefined); if none is worse, the cheapest one (the report then says so)
        ok = sorted(
            (
                r
                for r in run["cost"]["rows"]
                if r["kind"] == "self_hosted"
                and r["model"] != strong
                and r.get("output_usd_per_1m") is not None
                and evals.get(r["model"], {}).get("samples_file")
            ),
            key=lambda r: (r["output_usd_per_1m"], r["model"]),
        )
        q_strong = _mean_item_score(run, strong)
        worse = [r for r in ok if q_strong is not None and (_mean_item_score(run, r["model"]) or 0.0) < q_strong]
        cheap = (worse or ok)[0]["model"] if ok else None
    lines = ["## Routing-quality curve", ""]
    if (
        not strong
        or not cheap
        or strong not in evals
        or cheap not in evals
        or evals[strong]["status"] != "ok"
        or evals[cheap]["status"] != "ok"
    ):
        return lines + [f"Not measured: need two measured variants (strong={strong}, cheap={cheap}).", ""], {}
    rows_c = read_jsonl(run["dir"] / evals[cheap]["samples_file"])
    rows_s = read_jsonl(run["dir"] / evals[strong]["samples_file"])
    prompts, classes, cs, ss = rc.join_samples(rows_c, rows_s)
    # a class whose reference is at chance has no meaningful retention: the router treats it as unknown
    retention = {
        c: q.get("retention") if q.get("measurable", True) else None
        for c, q in (evals[cheap].get("quality") or {}).items()
    }
    kind = str(rcfg.get("classifier", "keyword"))
    if kind == "keyword":
        from costlab.serving.classify import KeywordClassifier

        clf = KeywordClassifier().predict
        label = "keyword classifier"  # costlab.serving.classify.KeywordClassifier
    elif kind == "oracle":
        lookup = dict(zip(prompts, classes))
        clf = lambda ps: [lookup[p] for p in ps]  # noqa: E731
        label = "oracle task class"  # the item's true class: upper bound for a class-level router
    elif ":" in kind:  # "module:attr" — any classifier: a class with .predict(texts), or a function texts -> classes
        import importlib

        mod, _, attr = kind.partition(":")
        try:
            obj = getattr(importlib.import_module(mod), attr)
        except (ImportError, AttributeError) as e:
            raise CostlabError(
                f"eval.report.routing_curve.classifier={kind!r} does not import ({e})",
                "use keyword | oracle | module:attr",
            ) from e
        obj = obj() if isinstance(obj, type) else obj
        clf = obj.predict if hasattr(obj, "predict") else obj
        label = kind
    else:
        raise CostlabError(f"eval.report.routing_curve.classifier={kind!r}", "use keyword | oracle | module:attr")
    routers = {label: rc.class_router(clf, retention), "random": rc.random_router}
    curves = {name: rc.routing_curve(cs, ss, fn(prompts), int(rcfg.get("points", 21))) for name, fn in routers.items()}
    lines += [
        f"Cheap = `{cheap}`, strong = `{strong}`, {len(prompts)} held-out eval items (per-item scores from "
        f"eval/samples/). Router score = 1 − the cheap variant's retention on the class predicted by "
        f"the {label} (`eval.report.routing_curve.classifier`). That retention "
        f"is estimated on these same items (in-sample), so the router's curve is optimistic; with few items "
        f"per class it is coarse.",
        "",
    ]
    lines += md_table(
        ["router", "APGR", "CPT(50%)", "CPT(80%)", "Q cheap", "Q strong"],
        [[n, c.get("apgr"), c.get("cpt50"), c.get("cpt80"), c["q_cheap"], c["q_strong"]] for n, c in curves.items()],
    )
    if any(c.get("note") for c in curves.values()):
        lines += [next(c["note"] for c in curves.values() if c.get("note")), ""]
    png = _plot_curves(curves, out_dir / "routing_curve.png", cheap, strong)
    if png:
        lines += [f"![routing-quality curve]({png.name})", ""]
    return lines, {"cheap": cheap, "strong": strong, "curves": curves}


def _mean_item_score(run: Mapping[str, Any], name: str | None) -> float | None:
    rec = run["evals"].get(name) if name else None
    if not rec or rec.get("status") != "ok" or not rec.get("samples_file"):
        return None
    rows = read_jsonl(run["dir"] / rec["samples_file"], allow_empty=True)
    return float(np.mean([r["score"] for r in rows])) if rows else None


def _plot_curves(curves: Mapping[str, Any], out: Path, cheap: str, strong: str) -> Path | None:
    from costlab.tables.plots import plt, save_figure  # matplotlib with the Agg backend, one way to save

    fig, ax = plt.subplots(figsize=(5.5, 4))
    for name, c in curves.items():
        ax.plot(np.asarray(c["x"]) * 100, c["quality"], marker="o", ms=3, label=f"{name} (APGR {fmt(c.get('apgr'))})")
    ax.set_xlabel(f"% calls to strong ({strong})")
    ax.set_ylabel("mean quality")
    ax.set_title(f"cheap = {cheap}")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, out)
