"""One wandb run per variant (offline by default) with the same metric keys, plus a summary-table run, so wandb's
compare view lines the variants up once synced (``wandb sync <run_dir>/wandb/offline-run-*``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from costlab.eval.schema import LATENCY_SUMMARY_KEYS
from costlab.paths import set_offline_env
from costlab.tables.cost import fidelity_fields


def variant_metrics(rec: Mapping[str, Any], cost_row: Mapping[str, Any] | None) -> dict[str, float]:
    """Flat metric dict; identical key set for every measured variant (missing values are left out)."""
    m: dict[str, Any] = {}
    for cls, q in (rec.get("quality") or {}).items():
        m[f"quality/{cls}/score"] = q.get("score")
        m[f"quality/{cls}/stderr"] = q.get("stderr")
        m[f"quality/{cls}/retention"] = q.get("retention")
        m[f"quality/{cls}/retention_lo"] = q.get("retention_lo")
        m[f"quality/{cls}/retention_hi"] = q.get("retention_hi")
    f = fidelity_fields(rec.get("fidelity"))
    m.update(
        {
            "fidelity/kl": f["kl"],
            "fidelity/kl_lo": f["kl_lo"],
            "fidelity/kl_hi": f["kl_hi"],
            "fidelity/top1_agreement": f["top1"],
            "fidelity/top1_lo": f["top1_lo"],
            "fidelity/top1_hi": f["top1_hi"],
            "fidelity/perplexity": f["perplexity"],
        }
    )
    s = ((rec.get("latency") or {}).get("summary")) or {}
    for k in LATENCY_SUMMARY_KEYS:  # the eval schema's summary keys (non-numbers are dropped below)
        m[f"latency/{k}"] = s.get(k)
    mem = rec.get("memory") or {}
    m.update({"memory/peak_rss_mb": mem.get("peak_rss_mb"), "memory/file_mb": mem.get("file_mb")})
    if cost_row:
        m.update(
            {
                "cost/input_usd_per_1m": cost_row.get("input_usd_per_1m"),
                "cost/output_usd_per_1m": cost_row.get("output_usd_per_1m"),
            }
        )
    return {k: float(v) for k, v in m.items() if isinstance(v, (int, float))}


def log_variants(
    run_dir: Path, evals: Mapping[str, Mapping[str, Any]], cost_rows: list[Mapping[str, Any]], wcfg: Mapping[str, Any]
) -> dict[str, Any]:
    import functools

    import wandb

    set_offline_env()  # WANDB_SILENT among them: one run per variant, keep wandb's banners out of the log
    mode = str(wcfg.get("mode", "offline"))  # eval.report.wandb.mode (= paths.wandb_mode: $WANDB_MODE)
    group = f"{run_dir.parent.name}/{run_dir.name}"
    wdir = run_dir / "wandb_runs"
    wdir.mkdir(parents=True, exist_ok=True)
    init = functools.partial(
        wandb.init,
        project=str(wcfg.get("project", "costlab-eval")),
        group=group,
        dir=str(wdir),
        mode=mode,
        reinit="finish_previous",
    )
    by_model = {r["model"]: r for r in cost_rows if r["kind"] == "self_hosted"}
    logged, table_rows, columns = [], [], None
    for name in sorted(evals):
        rec = evals[name]
        metrics = variant_metrics(rec, by_model.get(name)) if rec["status"] == "ok" else {}
        run = init(
            name=f"{group}/{name}",
            job_type="eval",
            config={
                "variant": name,
                "status": rec["status"],
                "format": rec.get("format"),
                "base": rec.get("base"),
                "quant": rec.get("quant"),
                "backend": rec.get("backend"),
                "hardware": (rec.get("latency") or {}).get("hardware"),
                "eval_file": rec["_file"],
                "label": rec.get("label"),
                "kl_method": fidelity_fields(rec.get("fidelity"))["kl_method"],
            },
        )
        if metrics:
            run.log(metrics)
        run.summary.update({**metrics, "status": rec["status"]})
        run.finish()
        logged.append(name)
        if columns is None and metrics:
            columns = ["variant", "status"] + sorted(metrics)
        table_rows.append((name, rec["status"], metrics))
    if columns:
        run = init(name=f"{group}/summary", job_type="summary")
        t = wandb.Table(columns=columns, data=[[n, st] + [m.get(c) for c in columns[2:]] for n, st, m in table_rows])
        run.log({"variants": t})
        run.finish()
    return {"wandb_runs": len(logged), "wandb_dir": str(wdir), "wandb_mode": mode}
