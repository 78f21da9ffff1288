"""Routing-quality curve maths, report.md/html on a hand-made run, wandb offline runs, the notebook headless."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tables"))
from tables_handmade import HARDWARE, PRICING, make_eval_run, tables_cfg  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def tabled_run(tmp_path):
    from costlab.tables.stage import build_tables

    run = make_eval_run(tmp_path / "runs" / "demo" / "r1")
    build_tables(run, run / "tables", tables_cfg(), HARDWARE, PRICING, context=2048)
    return run


# ------------------------------------------------------------------------------------------ routing curve
def test_random_router_is_the_straight_line():
    from costlab.report.routing_curve import random_router, routing_curve

    cheap, strong = [0, 0, 1, 0, 1, 0, 0, 0], [1, 1, 1, 0, 1, 1, 0, 1]
    c = routing_curve(cheap, strong, random_router(["p"] * 8), points=11)
    assert c["apgr"] == pytest.approx(0.5, abs=1e-3)
    assert c["cpt50"] == pytest.approx(0.5, abs=2e-3) and c["cpt80"] == pytest.approx(0.8, abs=2e-3)
    assert c["quality"][0] == pytest.approx(2 / 8) and c["quality"][-1] == pytest.approx(6 / 8)


def test_perfect_router_beats_random_and_bad_router_loses():
    from costlab.report.routing_curve import routing_curve

    cheap, strong = [0, 0, 1, 0, 1, 0, 0, 0], [1, 1, 1, 0, 1, 1, 0, 1]
    gain = [s - c for c, s in zip(cheap, strong)]
    good = routing_curve(cheap, strong, gain, points=11)
    bad = routing_curve(cheap, strong, [-g for g in gain], points=11)
    # 4 of 8 prompts need the strong model: a perfect router recovers everything at 50% strong calls
    assert good["cpt80"] <= 0.5 + 1e-9 and good["apgr"] > 0.7
    assert bad["apgr"] < 0.5


def test_ties_are_split_evenly_and_undefined_gap_is_reported():
    import numpy as np

    from costlab.report.routing_curve import quality_at, routing_curve

    q = quality_at(np.array([0.0, 0.0]), np.array([1.0, 0.0]), np.array([1.0, 1.0]), 0.5)
    assert q == pytest.approx(0.25)  # one call of two tied prompts → expected half of the gain
    c = routing_curve([1, 1], [1, 0], [0, 0])
    assert c["apgr"] is None and "undefined" in c["note"]


def test_class_router_takes_any_classifier():
    from costlab.report.routing_curve import class_router, join_samples, routing_curve

    cheap_rows = [
        {
            "task": "t",
            "id": i,
            "prompt": f"p{i}",
            "task_class": "qa" if i < 4 else "code",
            "score": 1.0 if i < 4 else 0.0,
        }
        for i in range(8)
    ]
    strong_rows = [{**r, "score": 1.0} for r in cheap_rows]
    prompts, classes, cs, ss = join_samples(cheap_rows, strong_rows)
    lookup = dict(zip(prompts, classes))
    router = class_router(lambda ps: [lookup[p] for p in ps], {"qa": 1.0, "code": 0.0})
    c = routing_curve(cs, ss, router(prompts), points=5)
    assert c["cpt80"] == pytest.approx(0.4, abs=2e-3)  # code items (half) go first: PGR 0.8 at 40% calls
    assert c["apgr"] > 0.7


# ------------------------------------------------------------------------------------------ report
def test_report_md_html_and_curve(tabled_run, tmp_path):
    from costlab.report.report import write_report
    from costlab.report.stage import top_level_copy

    out = tabled_run / "report"
    write_report([tabled_run], out, {"classifier": "keyword", "points": 11})
    md = (out / "report.md").read_text()
    for s in (
        "Cost table",
        "Routing table",
        "student-Q4_K_M",
        "student-Q2_K",
        "failed",
        "Fidelity",
        "Routing-quality curve",
        "APGR",
        "Break-even",
        "Noise",
        "not measured",
    ):
        assert s in md, s
    # the evidence behind every decision: intervals, n, the test; what is not measurable; what would flip
    assert "student-Q8_0 (0.975 [" in md and "n=200" in md and "non-inferiority" in md
    assert "Not measurable with this reference: `translation`" in md
    assert "`code` stays on the reference: no variant is non-inferior" in md
    assert "general (default route)" in md
    assert "Decisions that would flip within the intervals" in md
    assert "cost: student-Q8_0 → student-Q4_K_M (point estimate >= floor)" in md
    assert "KL top-k lower bound" in md and "teacher (Q4_1 GGUF, dequantized to fp32)" in md
    assert "decode tok/s p50 [min, max]" in md
    assert "](../tables/pareto.png)" in md and (out / "routing_curve.png").exists()
    html = (out / "report.html").read_text()
    assert html.startswith("<!doctype html>") and "<table>" in html and "<img" in html
    curves = json.loads((out / "routing_curve.json").read_text())
    cur = curves[str(tabled_run)]
    assert cur["cheap"] == "student-Q4_K_M" and cur["strong"] == "teacher-fp32"
    top = top_level_copy(tabled_run, out)
    assert "](tables/pareto.png)" in top.read_text() and "](report/routing_curve.png)" in top.read_text()


def test_report_compares_two_runs(tabled_run, tmp_path):
    from costlab.report.report import write_report
    from costlab.tables.stage import build_tables

    run2 = make_eval_run(tmp_path / "runs" / "demo" / "r2")
    build_tables(run2, run2 / "tables", tables_cfg(quality_floor=0.5), HARDWARE, PRICING, context=2048)
    out = tmp_path / "cmp"
    write_report([tabled_run, run2], out, {"classifier": "oracle"})
    md = (out / "report.md").read_text()
    assert "Runs compared" in md and "r1:" in md and "r2:" in md
    assert (out / "r1" / "routing_curve.png").exists() and (out / "r2" / "routing_curve.png").exists()


def test_report_script_cli(tabled_run):
    import subprocess

    p = subprocess.run(
        [sys.executable, "-m", "costlab", "report", str(tabled_run), "--classifier", "oracle"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stderr[-2000:]
    assert (tabled_run / "report" / "report.html").exists() and (tabled_run / "report.md").exists()
    p = subprocess.run(
        [sys.executable, "-m", "costlab", "report", str(tabled_run.parent / "missing")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 2 and "not a directory" in p.stderr


def test_wandb_offline_runs_have_the_same_keys(tabled_run, monkeypatch):
    pytest.importorskip("wandb")
    from costlab.report.report import load_run
    from costlab.report.wandb_log import log_variants, variant_metrics

    run = load_run(tabled_run)
    keys = [set(variant_metrics(r, None)) for r in run["evals"].values() if r["status"] == "ok"]
    assert keys and all(k == keys[0] for k in keys) and "fidelity/kl" in keys[0]
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    res = log_variants(tabled_run, run["evals"], run["cost"]["rows"], {"project": "t", "mode": "offline"})
    assert res["wandb_runs"] == 4 and res["wandb_mode"] == "offline"
    dirs = list((tabled_run / "wandb_runs" / "wandb").glob("offline-run-*"))
    assert len(dirs) == 5  # 4 variants + the summary table run


def test_notebook_runs_headless(tabled_run):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(ROOT / "notebooks/compare_variants.ipynb", as_version=4)
    os.environ["COSTLAB_RUN"] = str(tabled_run)
    try:
        nbclient.NotebookClient(
            nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tabled_run)}}
        ).execute()
    finally:
        os.environ.pop("COSTLAB_RUN", None)
    outs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outs if o.get("output_type") == "error"]
    assert any("image/png" in o.get("data", {}) for o in outs)


def test_build_tables_and_report_stages_through_the_pipeline(tmp_path, compose):
    """The registered stages on the real configs (pricing/default.yaml, hardware profiles), hand-made eval files."""
    from costlab.pipeline import STAGES, run_stage

    assert {"evaluate", "build_tables", "report"} <= set(STAGES)
    run = make_eval_run(tmp_path / "runs" / "demo" / "main")
    cfg = compose(
        [
            f"paths.runs_dir={tmp_path / 'runs'}",
            "exp_name=demo",
            "run_id=main",
            "+eval=default",
            "eval.report.wandb.enabled=false",
            "eval.reference=teacher-fp32",
        ]
    )
    from omegaconf import OmegaConf

    OmegaConf.update(
        cfg, "eval.quality.tasks", {c: f"costlab_{c}" for c in ("qa", "code", "translation")}, merge=False
    )  # the hand-made run's classes
    m = run_stage(cfg, run, "build_tables")
    assert m["rows_measured"] == 3 and m["classes_routed"] == 2  # qa + code; translation: reference at chance
    assert m["classes_routed_to_a_variant"] == 1  # qa → student-Q8_0 on its lower bound
    rt = json.loads((run / "tables/routing_table.json").read_text())
    assert "gpt-4o" in rt["models"]  # API models with an endpoint for their provider (eval.tables.api_endpoints)
    api = {r["model"] for r in json.loads((run / "tables/cost_table.json").read_text())["rows"] if r["kind"] == "api"}
    assert {"gpt-4o", "claude-sonnet-4"} <= api  # every priced API model is in the cost table
    nm = json.loads((run / "tables/cost_table.json").read_text())["not_measured"]
    assert {m["hardware"] for m in nm} >= {"a10g", "a100", "h100"}
    run_stage(cfg, run, "report")
    assert (run / "report.md").exists() and (run / "report" / "report.html").exists()
    assert json.loads((run / "report" / "stage.json").read_text())["status"] == "done"


def test_routing_curve_with_a_custom_classifier(tabled_run, tmp_path):
    from costlab.errors import CostlabError
    from costlab.report.report import write_report

    out = tmp_path / "rep"
    write_report([tabled_run], out, {"classifier": "costlab.serving.classify:KeywordClassifier"})
    assert "costlab.serving.classify:KeywordClassifier" in (out / "report.md").read_text()
    with pytest.raises(CostlabError, match="does not import"):
        write_report([tabled_run], out, {"classifier": "costlab.nope:X"})
