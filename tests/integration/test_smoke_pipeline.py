"""The real pipeline (scripts/distill.py +exp=smoke) on the embedded SmolLM2, as a user runs it: subprocesses,
a SIGKILL during teacher generation and during training, and re-runs that resume."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from costlab.paths import PROJECT_ROOT, offline_env

pytestmark = pytest.mark.integration


def _cmd(runs: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        str(PROJECT_ROOT / "scripts" / "distill.py"),
        "+exp=smoke",
        f"paths.runs_dir={runs}",
        *extra,
    ]


def _env():
    return {**offline_env(), "WANDB_MODE": "offline", "PYTHONUNBUFFERED": "1"}


def _run(cmd, timeout=900):
    r = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r


def _kill_when(cmd, ready, timeout=600):
    """Start cmd, SIGKILL it as soon as ready() is true (a hard crash: no cleanup handlers run)."""
    p = subprocess.Popen(cmd, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.time()
    try:
        while not ready():
            assert p.poll() is None, "process finished before the kill point"
            assert time.time() - t0 < timeout
            time.sleep(0.05)
        p.send_signal(signal.SIGKILL)
    finally:
        p.wait(30)


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_smoke_end_to_end_with_kills(tmp_path):
    runs = tmp_path / "runs"
    run_dir = runs / "smoke" / "main"
    train = run_dir / "teacher_data" / "train.jsonl"
    cmd = _cmd(runs, "teacher_data.backend.batch_size=1", "distill.keep_checkpoints=true")
    trunk = cmd + ["stages=[generate_teacher,train_student]"]

    # 1. kill during teacher generation, after 3 finished rows
    _kill_when(trunk, lambda: len(_lines(train)) >= 3)
    before = _lines(train)
    assert 3 <= len(before) < 8

    # 2. re-run: resumes generation (finished rows kept byte-identical), then kill in training after checkpoint-2
    ckpt2 = run_dir / "student" / "checkpoints" / "checkpoint-2" / "trainer_state.json"
    _kill_when(trunk, ckpt2.exists)
    rows = [json.loads(x) for x in _lines(train)]
    assert _lines(train)[: len(before)] == before
    assert len(rows) == 8 and len({r["id"] for r in rows}) == 8

    # 3. re-run the whole experiment: generation skipped, training resumed from a complete checkpoint, then
    #    quantize → evaluate → tables → report
    r = _run(cmd)
    assert "stage generate_teacher: outputs in" in r.stdout and "skipped" in r.stdout
    assert "resuming training from" in r.stdout
    healing = json.loads((run_dir / "student" / "healing.json").read_text())
    assert healing["global_step"] == 4
    assert "checkpoint-" in healing["resumed_from"]
    for k in ("before", "after"):
        assert healing["heldout_teacher_responses"][k]["n_tokens"] > 0
        assert healing["heldout_teacher_responses"][k]["kl_dense"] > 0
    assert healing["student_params"] < 0.9 * healing["teacher_params"]
    for f in (
        "config.yaml",
        "provenance.json",
        "metrics.json",
        "teacher_data/provenance.json",
        "student/merged/model.safetensors",
        "student/merged/tokenizer.json",
        "student/merged/provenance.json",
        "student/healing.txt",
    ):
        assert (run_dir / f).exists(), f
    prov = json.loads((run_dir / "provenance.json").read_text())
    assert prov["git"]["commit"] and prov["versions"]["transformers"]

    # every variant built and measured; every table number traces to an eval file
    names = {"teacher-hf", "student-hf", "teacher-Q8_0", "teacher-Q4_K_M", "student-Q8_0", "student-Q4_K_M"}
    built = {p.parent.name: json.loads(p.read_text()) for p in (run_dir / "variants").glob("*/variant.json")}
    assert names <= set(built) and all(built[n]["status"] == "ok" for n in names)
    for n in names:
        ev = json.loads((run_dir / "eval" / f"{n}.json").read_text())
        assert ev["status"] == "ok" and ev["fidelity"]["n_tokens"] > 0
    cost = json.loads((run_dir / "tables" / "cost_table.json").read_text())
    measured = [row for row in cost["rows"] if row["kind"] == "self_hosted"]
    assert {row["model"] for row in measured} >= names
    for row in measured:
        assert (run_dir / row["source"]).exists() and row["output_usd_per_1m"] > 0
    routing = json.loads((run_dir / "tables" / "routing_table.json").read_text())
    assert routing["version"] == 2 and set(routing["models"]) <= set(built) | {r["model"] for r in cost["rows"]}
    for f in ("tables/cost_table.md", "tables/pareto.png", "tables/latency.png", "report.md"):
        assert (run_dir / f).exists(), f
    assert "== tables/cost_table.md ==" in r.stdout and "== student/healing.txt ==" in r.stdout

    # 4. a fifth run does nothing but report
    r = _run(cmd)
    assert r.stdout.count("skipped") == 6


def test_bad_input_gives_one_clear_message(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "prompt": "hi"}\n{not json}\n')
    r = subprocess.run(
        _cmd(tmp_path / "runs", f"data.train_file={bad}"), env=_env(), capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 2
    assert f"error: {bad}:2: malformed JSON" in r.stderr
    assert "Traceback" not in r.stderr
    r = subprocess.run(
        _cmd(tmp_path / "runs", "distill.no_such_key=1"), env=_env(), capture_output=True, text=True, timeout=300
    )
    assert r.returncode != 0 and "no_such_key" in r.stderr
