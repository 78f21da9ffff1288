"""The one front door: `costlab` holds every command, and one guard turns a CostlabError into exit 2 + message."""

from __future__ import annotations

import json
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


def _eager_app():
    """The root table as it was built before lazy mounting: the same root commands, every sub-app add_typer'd."""
    import importlib

    import typer

    from costlab.cli import APP_SETTINGS, SUBAPPS
    from costlab.cli import app as lazy

    eager = typer.Typer(**APP_SETTINGS, help=lazy.info.help)
    eager.registered_commands = list(lazy.registered_commands)
    for module, attr, name, _ in SUBAPPS:
        eager.add_typer(getattr(importlib.import_module(module), attr), name=name)
    return eager


def test_lazy_mount_keeps_every_command_and_its_help():
    """Sub-apps mount on first look-up (SUBAPPS); `costlab --help` and every command's help are those of an eager
    mount, in the same order, and an unknown name still gets "Did you mean" over every command."""
    eager = _eager_app()
    # the eager app's group also runs GuardedGroup's lazy look-up: it must find nothing left to mount
    import typer.main

    assert not any(n not in typer.main.get_group(eager).commands for n in ("analyze", "serve", "batch"))
    top = runner.invoke(app, ["--help"])
    assert top.exit_code == 0 and top.output == runner.invoke(eager, ["--help"]).output
    names = [line.split()[0] for line in top.output.split("Commands:")[1].strip().splitlines()]
    assert names == ["run", "report", "prices", "estimate", "analyze", "roi", "compress", "batch", "serve"]
    for argv in ([n, "--help"] for n in names if n != "run"):
        got = runner.invoke(app, argv)
        assert got.exit_code == 0 and got.output == runner.invoke(eager, argv).output, argv
    for argv in (["serve", "run", "--help"], ["batch", "build", "--help"], ["anal"], ["nosuch"]):
        got, want = runner.invoke(app, argv), runner.invoke(eager, argv)
        assert (got.exit_code, got.output) == (want.exit_code, want.output), argv
    assert "Did you mean 'analyze'?" in runner.invoke(app, ["anal"]).output


def test_analyze_mounts_only_the_cost_commands_and_json_skips_rich(tmp_path):
    """In a fresh process `costlab analyze --json` never imports the gateway's CLI module nor rich (start-up cost
    of every call), and `costlab analyze --help` works."""
    log = tmp_path / "one.jsonl"
    log.write_text('{"model": "gpt-4o", "prompt_tokens": 10, "completion_tokens": 5}\n')
    code = (
        "import json, sys\n"
        "from costlab.cli import main\n"
        "def run(argv):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit as e:\n"
        "        assert not e.code, e.code\n"
        f"run(['analyze', '--json', {str(log)!r}])\n"
        "loaded = {m: m in sys.modules for m in ('rich', 'costlab.serving.cli')}\n"
        "run(['analyze', '--help'])\n"
        "print('LOADED', json.dumps(loaded))\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    report, rest = p.stdout.split("\nUsage: ", 1)
    assert json.loads(report)["rows_ok"] == 1
    assert rest.startswith("costlab analyze [OPTIONS]") and "--whatif" in rest
    assert json.loads(rest.split("LOADED ", 1)[1]) == {"rich": False, "costlab.serving.cli": False}
