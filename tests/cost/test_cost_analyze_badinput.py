"""Bad input to `costlab analyze`: truncated gzip, mixed schemas, a 2 GB line, non-UTF-8, vendor exports.

Each is counted under its reason with a line number; the run goes on; no row disappears without a count.
"""

from __future__ import annotations

import csv
import gzip
import json

import pytest

from costlab.cost.analyze import analyze_logs
from costlab.cost.pricing import load_pricing

GOOD = {"ts": "2025-06-01T10:00:00Z", "model": "gpt-4o", "prompt_tokens": 1000, "completion_tokens": 500}
C = (1000 * 2.5 + 500 * 10) / 1e6


def _lines(rows):
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


@pytest.mark.parametrize("native", [True, False], ids=["duckdb-reader", "block-reader"])
def test_truncated_gzip_keeps_rows_before_the_cut(tmp_path, native):
    data = _lines([GOOD] * 2000)
    blob = gzip.compress(data)
    p = tmp_path / "cut.jsonl.gz"
    p.write_bytes(blob[: len(blob) * 2 // 3])
    rep = analyze_logs([p], load_pricing(), native=native)
    assert rep["bad_rows"]["truncated gzip"]["count"] == 1
    ok = rep["rows_ok"]
    assert 0 < ok < 2000 and rep["total"]["cost_usd"] == pytest.approx(ok * C)
    assert rep["bad_rows"]["truncated gzip"]["examples"][0].startswith(f"cut.jsonl.gz:{ok + 1} ")


@pytest.mark.parametrize("native", [True, False], ids=["duckdb-reader", "block-reader"])
def test_mixed_schemas_and_non_utf8(tmp_path, native):
    rows = [
        GOOD,
        {"timestamp": 1748772000, "model_name": "gpt-4o", "input_tokens": 1000, "output_tokens": 500},
        {"model": "gpt-4o", "usage": {"prompt_tokens": 1000, "completion_tokens": 500}},  # OpenAI response
        {"event": "login", "user": "bob"},  # another schema entirely: no model
        {"model": "gpt-4o", "prompt_tokens": "1,000", "completion_tokens": 5},
    ]
    p = tmp_path / "mixed.jsonl"
    p.write_bytes(
        _lines(rows[:2]) + b'{"model": "gpt-4o", "prompt": "caf\xe9", "prompt_tokens": 1}\n' + _lines(rows[2:])
    )
    rep = analyze_logs([p], load_pricing(), native=native)
    assert rep["rows"] == 6 and rep["rows_ok"] == 3
    assert rep["total"]["cost_usd"] == pytest.approx(3 * C)
    b = rep["bad_rows"]
    assert b["unreadable line"]["examples"] == ["mixed.jsonl:3 (non-UTF-8: byte 0xe9 at column 35)"]
    assert b["missing model"]["examples"][0].startswith("mixed.jsonl:5")
    assert b["bad input tokens"]["examples"][0].startswith("mixed.jsonl:6")


def test_2gb_line_is_streamed_past_not_loaded(tmp_path):
    """A single 2 GiB line (gzip, written lazily: the test never holds it) between two good rows."""
    p = tmp_path / "huge.jsonl.gz"
    with gzip.open(p, "wb", compresslevel=1) as f:
        f.write(_lines([GOOD]))
        f.write(b'{"model": "gpt-4o", "prompt": "')
        chunk = b"a" * (64 << 20)
        for _ in range(32):  # 32 x 64 MiB = 2 GiB
            f.write(chunk)
        f.write(b'", "prompt_tokens": 1, "completion_tokens": 1}\n')
        f.write(_lines([GOOD]))
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rep = analyze_logs([p], load_pricing())
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert rep["rows"] == 3 and rep["rows_ok"] == 2
    ex = rep["bad_rows"]["unreadable line"]["examples"][0]
    assert ex.startswith("huge.jsonl.gz:2 (line too long: 2,147,483,") and grown_mb < 500


def test_corrupt_gzip_is_counted(tmp_path):
    blob = bytearray(gzip.compress(_lines([GOOD] * 500)))
    blob[len(blob) // 2 : len(blob) // 2 + 8] = b"\x00" * 8
    p = tmp_path / "corrupt.jsonl.gz"
    p.write_bytes(bytes(blob))
    rep = analyze_logs([p], load_pricing())
    assert set(rep["bad_rows"]) & {"corrupt gzip", "truncated gzip"}, rep["bad_rows"]
    assert rep["rows_ok"] > 0


# ---- vendor exports, from their documented column names
def test_litellm_spend_logs_export(tmp_path):
    # LiteLLM_SpendLogs: request_id, call_type, api_key, spend, total_tokens, prompt_tokens, completion_tokens,
    # startTime, endTime, model, api_base, user, metadata, cache_hit, cache_key, request_tags, team_id, end_user
    p = tmp_path / "spend_logs.csv"
    cols = [
        "request_id",
        "call_type",
        "api_key",
        "spend",
        "total_tokens",
        "prompt_tokens",
        "completion_tokens",
        "startTime",
        "endTime",
        "model",
        "api_base",
        "user",
        "metadata",
        "cache_hit",
        "cache_key",
        "request_tags",
        "team_id",
        "end_user",
    ]
    with p.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        w.writerow(
            [
                "r1",
                "acompletion",
                "hashed",
                "0.0075",
                "1500",
                "1000",
                "500",
                "2025-06-01T10:00:00.123Z",
                "2025-06-01T10:00:01Z",
                "gpt-4o",
                "",
                "alice",
                "{}",
                "False",
                "",
                "[]",
                "team-a",
                "",
            ]
        )
        w.writerow(
            [
                "r2",
                "acompletion",
                "hashed",
                "0.0",
                "1500",
                "1000",
                "500",
                "2025-06-01T11:00:00Z",
                "2025-06-01T11:00:00Z",
                "gpt-4o",
                "",
                "alice",
                "{}",
                "True",
                "k",
                "[]",
                "team-a",
                "",
            ]
        )
    rep = analyze_logs([p], load_pricing())
    assert rep["rows_ok"] == 2 and rep["total"]["cost_usd"] == pytest.approx(0.0075)
    assert rep["cache"]["hits"] == 1 and rep["by_tenant"]["alice"]["requests"] == 2
    assert rep["cost_sources"] == {"logged": 2}


def test_openai_usage_export(tmp_path):
    # /v1/organization/usage/completions results flattened to CSV: start_time, end_time, input_tokens,
    # output_tokens, input_cached_tokens, num_model_requests, project_id, user_id, api_key_id, model, batch
    p = tmp_path / "openai_usage.csv"
    cols = [
        "start_time",
        "end_time",
        "input_tokens",
        "output_tokens",
        "input_cached_tokens",
        "num_model_requests",
        "project_id",
        "user_id",
        "api_key_id",
        "model",
        "batch",
    ]
    with p.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        w.writerow([1748736000, 1748822400, 1000, 500, 800, 5, "proj_a", "", "", "gpt-4o-mini-2024-07-18", "false"])
        w.writerow([1748736000, 1748822400, 2000, 1000, 0, 3, "proj_b", "", "", "gpt-4o-mini-2024-07-18", "true"])
    rep = analyze_logs([p], load_pricing())
    m = load_pricing().api_price("gpt-4o-mini")
    want = m.cost(1000, 500, 800) + m.cost(2000, 1000, 0, batch=True)
    assert rep["total"]["requests"] == 8 and rep["total"]["cost_usd"] == pytest.approx(want)
    assert set(rep["by_tenant"]) == {"proj_a", "proj_b"}


def test_langfuse_observations_export(tmp_path):
    # Langfuse observations (public API / export): id, traceId, type, startTime, model, usageDetails,
    # costDetails, latency (seconds)
    rows = [
        {
            "id": "o1",
            "traceId": "t1",
            "type": "GENERATION",
            "startTime": "2025-06-01T10:00:00.000Z",
            "model": "gpt-4o",
            "usageDetails": {"input": 1000, "output": 500, "total": 1500},
            "costDetails": {"input": 0.0025, "output": 0.005, "total": 0.0075},
            "latency": 1.5,
        },
        {
            "id": "o2",
            "traceId": "t1",
            "type": "GENERATION",
            "startTime": "2025-06-01T10:00:02.000Z",
            "model": "gpt-4o",
            "usage": {"input": 1000, "output": 500, "unit": "TOKENS"},
            "latency": 0.5,
        },
    ]
    p = tmp_path / "observations.jsonl"
    p.write_bytes(_lines(rows))
    rep = analyze_logs([p], load_pricing())
    assert rep["rows_ok"] == 2 and rep["total"]["cost_usd"] == pytest.approx(2 * C)
    assert rep["total"]["latency_ms_mean"] == pytest.approx(1000.0)
    assert rep["cost_sources"] == {"logged": 1, "repriced": 1}


def test_parquet(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    p = tmp_path / "log.parquet"
    pq.write_table(
        pa.table(
            {"model": ["gpt-4o", "gpt-4o", None], "prompt_tokens": [1000, 1000, 1], "completion_tokens": [500, 500, 1]}
        ),
        p,
    )
    rep = analyze_logs([p], load_pricing())
    assert rep["rows_ok"] == 2 and rep["total"]["cost_usd"] == pytest.approx(2 * C)
    assert rep["bad_rows"]["missing model"]["examples"] == ["log.parquet:3"]
