"""The one front door: `costlab` holds every command, and one guard turns a CostlabError into exit 2 + message."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from costlab.cli import app

runner = CliRunner()


def test_one_command_table():
    r = runner.invoke(app, ["--help"])
    assert r.exit_code == 0
    for cmd in ("run", "report", "serve", "prices", "estimate", "analyze", "roi", "batch", "compress"):
        assert f"  {cmd} " in r.output, cmd


def test_guard_covers_root_cost_and_serve_commands(tmp_path):
    # root command
    r = runner.invoke(app, ["report", str(tmp_path / "missing")])
    assert r.exit_code == 2 and "not a directory" in r.output and "fix:" in r.output and "Traceback" not in r.output
    # a cost command (mounted from costlab.cost.cli)
    r = runner.invoke(app, ["roi"])
    assert r.exit_code == 2 and "need both the current and the optimized" in r.output
    # a serve subcommand (mounted from costlab.serving.cli)
    r = runner.invoke(app, ["serve", "run", "--tables", str(tmp_path / "none")])
    assert r.exit_code == 2 and "error:" in r.output and "Traceback" not in r.output


def test_run_is_hydra_and_scripts_distill_is_the_same_entry(tmp_path):
    """`costlab run` and `scripts/distill.py` take the same Hydra overrides and share the guard (exit 2)."""
    from costlab.paths import PROJECT_ROOT

    for cmd in ([sys.executable, "-m", "costlab", "run"], [sys.executable, str(PROJECT_ROOT / "scripts/distill.py")]):
        p = subprocess.run(
            [*cmd, "stages=[nope]", f"paths.runs_dir={tmp_path}"], capture_output=True, text=True, timeout=300
        )
        assert p.returncode == 2, p.stderr[-2000:]
        assert "unknown stage 'nope'" in p.stderr and "known stages" in p.stderr and "Traceback" not in p.stderr
        assert (tmp_path / "default" / "main" / "config.yaml").exists()
