"""costlab analyze: JSONL / CSV / SQLite ledger, aggregation, bad rows with line numbers, what-if re-pricing."""

from __future__ import annotations

import csv
import json
import sqlite3

import pytest

from costlab.cost import logsql
from costlab.cost.analyze import analyze_logs
from costlab.cost.pricing import load_pricing
from costlab.errors import CostlabError

ROWS = [
    # ts (UTC), model, tenant, in, out, extra
    dict(
        ts="2025-06-01T10:05:00Z",
        model="gpt-4o",
        tenant="acme",
        prompt_tokens=1000,
        completion_tokens=500,
        latency_ms=800,
        prompt="Summarize the Q2 report",
    ),
    dict(
        ts="2025-06-01T10:40:00Z",
        model="gpt-4o",
        tenant="acme",
        prompt_tokens=1000,
        completion_tokens=500,
        latency_ms=600,
        prompt="Summarize the Q2 report",
        cached=True,
    ),  # response-cache hit: cost 0
    dict(
        ts="2025-06-01T11:00:00+02:00",
        model="gpt-4o-mini",
        tenant="globex",
        input_tokens=2000,
        output_tokens=1000,
        cached_tokens=1000,
        latency_ms=300,
        prompt="Translate this",
    ),
    dict(
        ts=1748862000, model="claude-haiku-3.5", tenant="acme", prompt_tokens=100, completion_tokens=100, cost_usd=0.5
    ),  # logged cost wins (2025-06-02T11:00Z)
]


def _write_jsonl(path, rows, extra_lines=()):
    with path.open("w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
        for ln in extra_lines:
            f.write(ln + "\n")
    return path


@pytest.mark.parametrize("native", [True, False], ids=["duckdb-reader", "block-reader"])
def test_jsonl_aggregates_and_reprices(tmp_path, native):
    log = _write_jsonl(tmp_path / "log.jsonl", ROWS)
    rep = analyze_logs([log], load_pricing(), whatif_models=["gpt-4o-mini"], native=native)
    c0 = (1000 * 2.5 + 500 * 10) / 1e6  # 0.0075
    c2 = (1000 * 0.15 + 1000 * 0.075 + 1000 * 0.60) / 1e6
    assert rep["rows"] == 4 and rep["rows_ok"] == 4 and rep["rows_bad"] == 0
    assert rep["by_model"]["gpt-4o"]["cost_usd"] == pytest.approx(c0)
    assert rep["by_model"]["gpt-4o-mini"]["cost_usd"] == pytest.approx(c2)
    assert rep["total"]["cost_usd"] == pytest.approx(c0 + c2 + 0.5)
    assert rep["by_tenant"]["acme"]["requests"] == 3
    assert set(rep["by_hour"]) == {"2025-06-01T10", "2025-06-01T09", "2025-06-02T11"}  # +02:00 → 09 UTC
    assert rep["by_day"]["2025-06-01"]["requests"] == 3
    assert rep["cache"]["hits"] == 1 and rep["cache"]["hit_rate"] == pytest.approx(0.25)
    # savings: the cache hit's full price + prompt-cache discount on 1000 gpt-4o-mini tokens
    assert rep["cache"]["savings_usd"] == pytest.approx(c0 + 1000 * (0.15 - 0.075) / 1e6)
    # both readers name the line (DuckDB's keeps file order: a newline count maps its records to lines)
    assert rep["top_requests"][0]["cost_usd"] == 0.5 and rep["top_requests"][0]["line"] == "log.jsonl:4"
    assert rep["repeated_prompts"][0]["count"] == 2
    assert rep["cost_sources"] == {"repriced": 3, "logged": 1}
    w = rep["whatif"][0]  # billable tokens (hit excluded): in 3100 (1000 cached), out 1600 on gpt-4o-mini
    assert w["cost_usd"] == pytest.approx((2100 * 0.15 + 1000 * 0.075 + 1600 * 0.60) / 1e6)
    assert w["actual_cost_usd"] == pytest.approx(c0 + c2 + 0.5)


@pytest.mark.parametrize("native", [True, False], ids=["duckdb-reader", "block-reader"])
def test_bad_rows_are_counted_with_line_numbers(tmp_path, native):
    log = _write_jsonl(
        tmp_path / "bad.jsonl",
        ROWS[:1],
        [
            "{not json",
            json.dumps({"model": "gpt-4o", "prompt_tokens": -5, "completion_tokens": 1}),
            json.dumps({"model": "gpt-9", "prompt_tokens": 5, "completion_tokens": 1}),
            json.dumps({"model": "gpt-4o", "prompt_tokens": 1e9, "completion_tokens": 1}),
            json.dumps({"model": "gpt-4o", "completion_tokens": 1}),
            json.dumps({"model": "gpt-4o", "prompt_tokens": 5, "completion_tokens": 1, "cost_usd": 1e7}),
            json.dumps({"model": "gpt-4o", "prompt_tokens": 5, "completion_tokens": 1, "ts": "yesterday"}),
            json.dumps([1, 2]),
        ],
    )
    out = tmp_path / "bad_rows.jsonl"
    rep = analyze_logs([log], load_pricing(), bad_rows_out=out if not native else None, native=native)
    assert rep["rows"] == 9 and rep["rows_ok"] == 1 and rep["rows_bad"] == 8
    b = rep["bad_rows"]
    # both readers find the line numbers (DuckDB's in a second, ordered pass that stops once it has examples)
    assert b["unreadable line"]["count"] == 2
    assert b["unreadable line"]["examples"] == [
        "bad.jsonl:2 (malformed JSON: {not json)",
        "bad.jsonl:9 (not a JSON object: [1, 2])",
    ]
    assert b["negative input tokens"]["examples"][0].startswith("bad.jsonl:3")
    assert "gpt-9" in b["unknown model without cost_usd"]["examples"][0]
    assert "did you mean" in b["unknown model without cost_usd"]["examples"][0]
    for reason in ("absurd input tokens", "missing input tokens", "absurd cost_usd", "unparseable ts"):
        assert b[reason]["count"] == 1, reason
    if not native:
        assert len(out.read_text().splitlines()) == 8


def test_empty_and_all_bad_logs_are_errors(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    with pytest.raises(CostlabError, match="empty log"):
        analyze_logs([empty], load_pricing())
    allbad = _write_jsonl(tmp_path / "allbad.jsonl", [], ["{", "{"])
    with pytest.raises(CostlabError, match="all 2 rows were bad.*allbad.jsonl:1 "):
        analyze_logs([allbad], load_pricing())
    with pytest.raises(CostlabError, match="unknown API model"):
        analyze_logs([allbad], load_pricing(), whatif_models=["gpt-5o"])
    with pytest.raises(CostlabError, match="unknown log format"):
        analyze_logs([tmp_path / "x.xlsx"], load_pricing()) if (tmp_path / "x.xlsx").touch() is None else None


def test_csv_same_numbers_as_jsonl(tmp_path):
    p = tmp_path / "log.csv"
    cols = ["ts", "model", "tenant", "prompt_tokens", "completion_tokens", "cached", "cost_usd", "latency_ms", "prompt"]
    with p.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        w.writerow(
            dict(
                ts="2025-06-01T10:00:00Z",
                model="gpt-4o",
                tenant="a",
                prompt_tokens="1000",
                completion_tokens="500",
                cached="false",
                cost_usd="",
                latency_ms="10",
                prompt="hi",
            )
        )
        w.writerow(
            dict(
                ts="2025-06-01T10:00:00Z",
                model="gpt-4o",
                tenant="a",
                prompt_tokens="1000",
                completion_tokens="500",
                cached="true",
                cost_usd="",
                latency_ms="10",
                prompt="hi",
            )
        )
        w.writerow(
            dict(
                ts="2025-06-01T10:00:00Z",
                model="gpt-4o",
                tenant="a",
                prompt_tokens="ten",
                completion_tokens="5",
                cached="maybe",
                cost_usd="",
                latency_ms="",
                prompt="",
            )
        )
    rep = analyze_logs([p], load_pricing())
    assert rep["rows_ok"] == 2 and rep["total"]["cost_usd"] == pytest.approx(0.0075)
    assert rep["bad_rows"]["bad input tokens"]["examples"][0].startswith("log.csv:4")
    assert rep["total"]["latency_ms_mean"] == 10


def test_gateway_ledger_sqlite_with_routing_whatif(tmp_path):
    # the gateway's ledger schema (src/costlab/serving/ledger.py): ts REAL, cached 'none'|'exact'|'semantic'
    db = tmp_path / "ledger.db"
    con = sqlite3.connect(db)
    con.execute(
        "CREATE TABLE ledger (id TEXT, ts REAL, tenant TEXT, model TEXT, task_class TEXT, "
        "prompt_tokens REAL, completion_tokens REAL, cached TEXT, cost_usd REAL, latency_ms REAL, status TEXT)"
    )
    rows = [
        ("a", 1748772000.0, "t1", "gpt-4o", "qa", 1000, 100, "none", None, 50, "ok"),
        ("b", 1748772060.0, "t1", "gpt-4o", "qa", 1000, 100, "exact", 0.0, 1, "ok"),
        ("c", 1748772120.0, "t2", "student-Q4", "code", 2000, 200, "none", 0.0002, 90, "ok"),
        ("d", 1748772180.0, "t2", "gpt-4o", "code", 2000, 200, "semantic", 0.0, 2, "ok"),
        ("e", 1748772240.0, "t2", "gpt-4o", None, 10, 0, "none", 0.0, 5, "upstream_error"),
    ]
    con.executemany("INSERT INTO ledger VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
    con.commit()
    con.close()
    routing = {
        "version": 1,
        "routes": {
            "qa": {"cost": {"model": "student-Q4", "fallbacks": []}},
            "code": {"cost": {"model": "gpt-4o-mini", "fallbacks": []}},
        },
        "models": {
            "student-Q4": {"endpoint": "x", "backend": "llama.cpp", "usd_per_1m_in": 0.05, "usd_per_1m_out": 0.5}
        },
    }
    rt = tmp_path / "routing_table.json"
    rt.write_text(json.dumps(routing))
    from costlab.cost.pricing import pricing_with_routing

    p = pricing_with_routing(load_pricing(), rt)
    rep = analyze_logs([db], p, routing=rt)
    assert rep["rows_ok"] == 5 and rep["cache"]["by_kind"] == {"exact": 1, "semantic": 1}
    assert rep["status"] == {"ok": 4, "upstream_error": 1}
    gpt = (1000 * 2.5 + 100 * 10) / 1e6
    assert rep["by_model"]["gpt-4o"]["cost_usd"] == pytest.approx(gpt)  # row a re-priced (cost NULL)
    w = rep["whatif"][0]
    per = {x["task_class"]: x for x in w["per_task_class"]}
    assert per["qa"]["cost_usd"] == pytest.approx((1000 * 0.05 + 100 * 0.5) / 1e6)
    assert per["code"]["cost_usd"] == pytest.approx((2000 * 0.15 + 200 * 0.6) / 1e6)
    assert per["(unrouted)"]["model"] is None  # kept at actual cost, reported
    with pytest.raises(CostlabError, match="no table 'requests'"):
        analyze_logs([db], p, table="requests")


@pytest.mark.parametrize("native", [True, False], ids=["duckdb-reader", "block-reader"])
def test_buckets_equal_a_row_by_row_reference(tmp_path, native):
    """The buckets (summed per group before pricing) equal pricing every row on its own: response-cache hits,
    provider-cached tokens, batch rows (with and without a Batch API price), logged costs, self-hosted and unknown
    models, by model / tenant / hour, and the price-dependent bad-row reasons."""
    import random
    from collections import defaultdict

    p = load_pricing()
    rnd = random.Random(7)
    models = ["gpt-4o", "gpt-4o-mini", "claude-haiku-3.5", "gpt-3.5-turbo", "llama-3.1-70b", "gpt-9"]
    rows, want, bad = [], defaultdict(lambda: [0, 0.0, 0.0, 0]), defaultdict(int)
    for i in range(600):
        m, tin = rnd.choice(models), rnd.randint(0, 3000)
        r = dict(
            ts=f"2025-06-0{1 + i % 3}T{i % 24:02d}:15:00Z",
            model=m,
            tenant=f"t{rnd.randint(0, 4)}",
            prompt_tokens=tin,
            completion_tokens=rnd.randint(0, 900),
        )
        if rnd.random() < 0.3:
            r["cached_tokens"] = rnd.randint(0, tin)
        if rnd.random() < 0.2:
            r["cached"] = True
        if rnd.random() < 0.25:
            r["batch"] = True
        if rnd.random() < 0.2:
            r["cost_usd"] = round(rnd.uniform(0, 2), 6)
        rows.append(r)
        a = p.api.get(p.resolve(m) or "")
        hit, batch, ctok, logged = (
            r.get("cached", False),
            r.get("batch", False),
            r.get("cached_tokens", 0),
            r.get("cost_usd"),
        )
        if a is not None and batch and a.batch_discount is None:
            bad["batch row on a model without Batch API price"] += 1
            continue
        if logged is None and a is None:
            bad["self-hosted model without cost_usd" if m in p.self_hosted else "unknown model without cost_usd"] += 1
            continue
        list_cost, saved = None, 0.0
        if a is not None:
            c = min(ctok, tin) if a.cached_input is not None else 0
            f = 1 - (a.batch_discount or 0) if batch else 1
            list_cost = ((tin - c) * a.input + c * (a.cached_input or 0) + r["completion_tokens"] * a.output) / 1e6 * f
            if hit:
                saved = list_cost
            elif ctok > 0 and a.cached_input is not None:
                saved = ctok * (a.input - a.cached_input) / 1e6 * f
        cost = logged if logged is not None else (0.0 if hit else list_cost)
        for key in (("model", m), ("tenant", r["tenant"]), ("hour", r["ts"][:13])):
            b = want[key]
            b[0] += 1
            b[1] += cost
            b[2] += saved
            b[3] += hit
    log = _write_jsonl(tmp_path / "mix.jsonl", rows)
    rep = analyze_logs([log], p, native=native)
    assert {k: v["count"] for k, v in rep["bad_rows"].items()} == dict(bad)
    for (dim, key), (n, cost, saved, hits) in want.items():
        got = rep[f"by_{dim}"][key]
        assert got["requests"] == n and got["cache_hits"] == hits, (dim, key)
        assert got["cost_usd"] == pytest.approx(cost, rel=1e-12, abs=1e-12), (dim, key)
        assert got["cache_savings_usd"] == pytest.approx(saved, rel=1e-12, abs=1e-12), (dim, key)
    assert rep["rows_ok"] == sum(v[0] for (d, _), v in want.items() if d == "model")


def test_bucket_aggs_of_groups_sum_what_the_row_aggs_count():
    """A priced group stands for many rows: its row and latency counts are summed, never counted (a count over
    groups would report groups as requests). Both replacements in logsql must have matched."""
    assert logsql.BUCKET_AGGS.count("count(") == 2
    aggs = logsql.BUCKET_AGGS_OF_GROUPS
    assert "count(" not in aggs
    assert "sum(g_rows) AS rows_" in aggs and "sum(g_nlat) AS b6" in aggs
