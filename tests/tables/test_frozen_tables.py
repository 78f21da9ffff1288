"""Same tables before and after (issue 11): the cost table built by the current code from fixed eval JSON
(tests/tables/fixtures/frozen_v1, frozen before the refactor) keeps every $/1M and throughput number."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
from tables_handmade import HARDWARE, PRICING, tables_cfg

FROZEN = Path(__file__).parent / "fixtures" / "frozen_v1"
NUMBERS = (
    "input_usd_per_1m",
    "output_usd_per_1m",
    "decode_tok_s",
    "prefill_tok_s",
    "usd_per_hour",
    "ttft_ms_p50",
    "context",
    "size_mb",
)


def _key(r):
    return (r["model"], r["kind"], r["hardware"])


@pytest.mark.parametrize("basis", ["batch1"])
def test_cost_numbers_same_as_before_refactor(tmp_path, basis):
    from costlab.tables.stage import build_tables

    run = tmp_path / "run"
    shutil.copytree(FROZEN / "eval", run / "eval")
    build_tables(run, run / "tables", tables_cfg(throughput=basis), HARDWARE, PRICING, context=2048)
    now = json.loads((run / "tables/cost_table.json").read_text())
    before = json.loads((FROZEN / f"expected_cost_table_{basis}.json").read_text())
    rows_now = {_key(r): r for r in now["rows"]}
    assert set(rows_now) == {_key(r) for r in before["rows"]}
    for r in before["rows"]:
        for k in NUMBERS:
            a, b = r.get(k), rows_now[_key(r)].get(k)
            assert (a is None and b is None) or math.isclose(a, b, rel_tol=1e-12), (r["model"], k, a, b)
    assert {(m["model"], m["hardware"], m["status"]) for m in now["not_measured"]} == {
        (m["model"], m["hardware"], m["status"]) for m in before["not_measured"]
    }
