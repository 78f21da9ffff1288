"""The ``report`` stage: report.md + report.html for this run (in <run>/report/, and a copy at <run>/report.md
as docs/design.md's run layout has it), the routing-quality curve and one wandb run per variant."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from costlab.config import to_container
from costlab.eval.stage import require_eval
from costlab.io import atomic_write_text
from costlab.report.report import load_run, write_report


def top_level_copy(run_dir: Path, out_dir: Path) -> Path:
    """<run>/report.md with links re-rooted at the run dir."""
    md = (out_dir / "report.md").read_text(encoding="utf-8")
    rel = out_dir.relative_to(run_dir).as_posix()
    md = md.replace("](../tables/", "](tables/").replace("](routing_curve.png)", f"]({rel}/routing_curve.png)")
    return atomic_write_text(run_dir / "report.md", md)


def run_stage(cfg: DictConfig, run_dir: Path, out_dir: Path) -> dict[str, Any]:
    ecfg = to_container(require_eval(cfg))
    rcfg = ecfg.get("report") or {}
    runs = [run_dir] + [Path(p) for p in (rcfg.get("runs") or []) if Path(p).resolve() != run_dir.resolve()]
    metrics = write_report(runs, out_dir, rcfg.get("routing_curve") or {})
    top_level_copy(run_dir, out_dir)
    w = rcfg.get("wandb") or {}
    if w.get("enabled", False):
        from costlab.report.wandb_log import log_variants

        run = load_run(run_dir)
        metrics.update(log_variants(run_dir, run["evals"], run["cost"]["rows"], w))
    return metrics
