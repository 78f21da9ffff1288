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


def test_meant_changes_on_the_frozen_run(tmp_path):
    """What the refactor was meant to change, on the same fixed eval files: routing acts on the lower bound (the
    old table sent qa to student-Q4_K_M on a point retention of 0.925 from 10 items; its lower bound is far below
    the floor now), a class whose reference is at chance is 'not measurable', unknown classes get a default route,
    and a concurrency basis that was not measured the same way for every variant is refused."""
    from costlab.errors import CostlabError
    from costlab.tables.stage import build_tables

    run = tmp_path / "run"
    shutil.copytree(FROZEN / "eval", run / "eval")
    build_tables(run, run / "tables", tables_cfg(throughput="batch1"), HARDWARE, PRICING, context=2048, plots=False)
    old = json.loads((FROZEN / "expected_routing_table_v1.json").read_text())
    new = json.loads((run / "tables/routing_table.json").read_text())
    assert old["routes"]["qa"]["cost"]["model"] == "student-Q4_K_M" and "default_route" not in old
    q4 = new["evidence"]["qa"]["student-Q4_K_M"]
    assert q4["n"] == 10 and q4["retention_lo"] < 0.9 and not q4["candidate"]
    assert new["routes"]["qa"]["cost"]["model"] != "student-Q4_K_M"
    assert new["unrouted"]["translation"].startswith("not measurable with this reference")
    assert new["default_route"] == "general" and "general" in new["routes"]
    with pytest.raises(CostlabError, match="not measured the same way"):
        build_tables(run, run / "t2", tables_cfg(throughput="concurrency"), HARDWARE, PRICING, context=2048)
