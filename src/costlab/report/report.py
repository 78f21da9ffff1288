"""report.md (+ report.html): one or more runs' variants side by side, from their eval/ and tables/ files.

Every number is read from a file of the run (eval/<variant>.json, tables/*.json); the report computes only
the routing-quality curve (from eval/samples/*.jsonl) and formats.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Mapping

from costlab.errors import CostlabError
from costlab.io import atomic_write_json, atomic_write_text, read_json
from costlab.report.curve_section import routing_curve_section
from costlab.report.markdown import md_to_html
from costlab.report.sections import comparison_section, run_sections
from costlab.tables.cost import read_eval_dir


def load_run(run_dir: Path) -> dict[str, Any]:
    run_dir = Path(run_dir)
    t = run_dir / "tables"
    if not (t / "cost_table.json").exists():
        raise CostlabError(f"{t}/cost_table.json not found", f"run the build_tables stage for {run_dir} first")
    return {
        "dir": run_dir,
        "evals": read_eval_dir(run_dir / "eval"),
        "cost": read_json(t / "cost_table.json"),
        "routing": read_json(t / "routing_table.json"),
        "break_even": read_json(t / "break_even.json") if (t / "break_even.json").exists() else [],
        "summary": read_json(run_dir / "eval" / "summary.json") if (run_dir / "eval" / "summary.json").exists() else {},
    }


def write_report(run_dirs: list[Path], out_dir: Path, rcfg: Mapping[str, Any] | None = None) -> dict[str, Any]:
    runs = [load_run(Path(d)) for d in run_dirs]
    multi = len(runs) > 1
    dirs = ", ".join(f"`{r['dir']}`" for r in runs)
    lines = [
        "# costlab report: variants side by side",
        "",
        f"Generated {time.strftime('%Y-%m-%d %H:%M:%S %Z')} from {dirs}. "
        "Every number comes from the run's eval/<variant>.json and tables/ files (named in the `source` column).",
        "",
    ]
    curves = {}
    for r in runs:
        rel = Path(_relpath(r["dir"], out_dir))
        lines += run_sections(r, str(rel), multi)
        sec, cur = routing_curve_section(r, rcfg or {}, out_dir if not multi else out_dir / r["dir"].name)
        if multi and cur:
            sec = [s.replace("](routing_curve.png)", f"]({r['dir'].name}/routing_curve.png)") for s in sec]
        lines += sec
        curves[str(r["dir"])] = cur
    if multi:
        lines += comparison_section(runs)
    md = "\n".join(lines) + "\n"
    atomic_write_text(out_dir / "report.md", md)
    atomic_write_text(out_dir / "report.html", md_to_html(md, "costlab report"))
    atomic_write_json(out_dir / "routing_curve.json", curves)
    return {"runs": len(runs), "report": str(out_dir / "report.md")}


def _relpath(target: Path, start: Path) -> str:
    import os

    return os.path.relpath(Path(target).resolve(), Path(start).resolve())
