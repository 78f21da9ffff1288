"""The `costlab` CLI: --help everywhere, --json output, exit code 2 with a clear message on bad input."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from costlab.cli import app

runner = CliRunner()


def _json(args):
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


@pytest.mark.parametrize(
    "cmd",
    [
        [],
        ["estimate"],
        ["analyze"],
        ["roi"],
        ["compress"],
        ["prices"],
        ["batch"],
        ["batch", "build"],
        ["batch", "run"],
        ["batch", "merge"],
    ],
)
def test_help_everywhere(cmd):
    r = runner.invoke(app, cmd + ["--help"])
    assert r.exit_code == 0 and "Usage" in r.output


def test_estimate_reproduces_the_seed_example():
    d = _json(
        [
            "estimate",
            "-m",
            "gpt-4o,gpt-4o-mini",
            "-m",
            "claude-haiku-3.5",
            "-r",
            "10000",
            "-i",
            "500",
            "-o",
            "300",
            "--json",
        ]
    )
    got = {r["model"]: round(r["usd_per_month"], 2) for r in d["rows"]}
    assert got == {"gpt-4o": 1275.0, "gpt-4o-mini": 76.5, "claude-haiku-3.5": 480.0}
    assert d["api_vs_local"]["volumes"] == ["10000", "100000", "1e+06"]
    r = runner.invoke(app, ["estimate", "-m", "gpt-4o", "--volumes", "10000"])
    assert r.exit_code == 0 and "$1,275.00" in r.stdout and "list price" in r.stdout


@pytest.mark.parametrize(
    "args,msg",
    [
        (["estimate", "-m", "gpt4-o"], "did you mean: gpt-4o"),
        (["estimate", "-r", "-5"], "requests_per_day = -5.0 is out of range"),
        (["estimate", "--cache-hit-rate", "2"], "cache_hit_rate"),
        (["roi", "--current", "100"], "need both the current and the optimized"),
        (["roi", "--current", "-1", "--optimized", "1"], "is negative"),
        (["prices", "--prices", "nonexistent"], "pricing file not found"),
    ],
)
def test_bad_input_exits_2_with_message(args, msg):
    r = runner.invoke(app, args)
    assert r.exit_code == 2, r.output
    assert msg in " ".join(r.output.split()), r.output
    assert "Traceback" not in r.output


def test_roi_from_models_and_never_paying_back():
    d = _json(["roi", "--from-model", "gpt-4o", "--to-model", "gpt-4o-mini", "--implementation", "5000", "--json"])
    assert d["inputs"]["current_monthly_cost"] == pytest.approx(1275)
    assert d["payback_month"] == 5  # 5000 / 1198.5 = 4.17 → month 5
    r = runner.invoke(app, ["roi", "--current", "100", "--optimized", "120", "--implementation", "10"])
    assert r.exit_code == 0 and "never" in r.stdout


def test_analyze_and_bad_rows_table(tmp_path):
    log = tmp_path / "l.jsonl"
    log.write_text(
        json.dumps(
            {
                "ts": "2025-06-01T00:00:00Z",
                "model": "gpt-4o",
                "tenant": "a",
                "prompt_tokens": 1000,
                "completion_tokens": 100,
                "prompt": "[x] y",
            }
        )
        + "\n{oops\n"
    )
    d = _json(["analyze", str(log), "--json", "-w", "gpt-4o-mini"])
    assert d["rows_ok"] == 1 and d["rows_bad"] == 1 and d["total"]["cost_usd"] == pytest.approx(0.0035)
    r = runner.invoke(app, ["analyze", str(log), "--hours"])
    assert r.exit_code == 0 and "Bad rows: 1" in r.stdout and "l.jsonl:2" in r.stdout and "[x] y" in r.stdout
    empty = tmp_path / "e.jsonl"
    empty.write_text("")
    r = runner.invoke(app, ["analyze", str(empty)])
    assert r.exit_code == 2 and "empty log" in r.output


def test_batch_build_and_duplicate_ids(tmp_path):
    prompts = tmp_path / "p.jsonl"
    prompts.write_text("".join(json.dumps({"id": i, "prompt": f"q{i}"}) + "\n" for i in (1, 2, 2)))
    r = runner.invoke(app, ["batch", "build", str(prompts), "-m", "gpt-4o-mini", "-o", str(tmp_path / "b.jsonl")])
    assert r.exit_code == 2 and "duplicate custom_id(s): '2' x2" in r.output
    txt = tmp_path / "p.txt"
    txt.write_text("first\n\nsecond\n")
    d = _json(["batch", "build", str(txt), "-m", "gpt-4o-mini", "-o", str(tmp_path / "b.jsonl"), "--json"])
    assert d["requests"] == 2
    r = runner.invoke(
        app,
        [
            "batch",
            "merge",
            str(tmp_path / "b.jsonl"),
            "--output",
            str(tmp_path / "none.jsonl"),
            "-o",
            str(tmp_path / "m"),
        ],
    )
    assert r.exit_code == 2 and "output file not found" in r.output


def test_compress_json_names_tokenizer(tmp_path):
    p = tmp_path / "sys.txt"
    p.write_text("Please note that you always answer briefly.   Please note that you always answer briefly.")
    d = _json(["compress", str(p), "-m", "gpt-4o", "--json", "-o", str(tmp_path / "out.jsonl")])
    assert d["tokenizer"] and d["tokens_after"] < d["tokens_before"]
    assert json.loads((tmp_path / "out.jsonl").read_text())["messages"][0]["content"] == "You always answer briefly."


def test_serve_is_mounted():
    # the root CLI imports costlab.serving.cli itself: an import error there fails here, it is never skipped
    r = runner.invoke(app, ["serve", "--help"])
    assert r.exit_code == 0 and "Usage" in r.output and "train-classifier" in r.output
