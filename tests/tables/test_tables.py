"""Table builder on hand-made eval results: cost formula, routing rule, fallback order, not-measured handling,
break-even, LiteLLM export."""

from __future__ import annotations

import json
import math

import pytest

from costlab.errors import CostlabError
from tables_handmade import HARDWARE, PRICING, VARIANTS, make_eval_run, tables_cfg


@pytest.fixture
def built(tmp_path):
    from costlab.tables.stage import build_tables

    run = make_eval_run(tmp_path / "run")
    metrics = build_tables(run, run / "tables", tables_cfg(), HARDWARE, PRICING, context=2048)
    t = run / "tables"
    return run, metrics, json.loads((t / "cost_table.json").read_text()), json.loads((t / "routing_table.json").read_text())


def _row(cost, model, hw="cpu-2core"):
    return next(r for r in cost["rows"] if r["model"] == model and r["hardware"] == hw)


def test_cost_formula_on_measured_pairs(built):
    _, _, cost, _ = built
    for name, (dec, pre, ttft, *_rest) in VARIANTS.items():
        r = _row(cost, name)
        assert r["kind"] == "self_hosted" and r["source"] == f"eval/{name}.json"
        assert math.isclose(r["output_usd_per_1m"], 0.10 / (dec * 3600 * 0.5) * 1e6)
        assert math.isclose(r["input_usd_per_1m"], 0.10 / (pre * 3600 * 0.5) * 1e6)
        assert r["decode_tok_s"] == dec and r["ttft_ms_p50"] == ttft and r["context"] == 2048
        for k in ("model", "kind", "hardware", "input_usd_per_1m", "output_usd_per_1m", "context", "decode_tok_s",
                  "ttft_ms_p50", "size_mb", "quality_retention", "source"):  # docs/design.md's row keys
            assert k in r
    api = _row(cost, "gpt-4o-mini", None)
    assert api["kind"] == "api" and api["output_usd_per_1m"] == 0.60 and api["quality_retention"] == {}


def test_batch1_basis_and_price_range_knobs(tmp_path):
    from costlab.tables.stage import build_tables

    run = make_eval_run(tmp_path / "run")
    build_tables(run, run / "tables", tables_cfg(throughput="batch1", price="high"), HARDWARE, PRICING, None)
    r = _row(json.loads((run / "tables/cost_table.json").read_text()), "student-Q8_0")
    assert math.isclose(r["output_usd_per_1m"], 0.15 / ((1000 / 20.0) * 3600 * 0.5) * 1e6)


def test_unmeasured_hardware_and_failed_variants_are_not_measured(built):
    _, metrics, cost, routing = built
    assert not [r for r in cost["rows"] if r["hardware"] == "h100"]  # never extrapolated to another profile
    nm = {(m["model"], m["hardware"]): m for m in cost["not_measured"]}
    assert nm[("student-Q8_0", "h100")]["status"] == "not measured"
    assert nm[("student-Q2_K", "cpu-2core")]["status"] == "failed"
    assert "student-Q2_K" not in routing["models"]
    assert metrics["rows_not_measured"] == len(cost["not_measured"]) == 3 + 2  # 3 ok x h100 + failed x 2 profiles
    md = (built[0] / "tables/cost_table.md").read_text()
    assert "not measured" in md and "student-Q2_K" in md


def test_routing_rule_and_fallback_order(built):
    _, _, cost, rt = built
    assert rt["version"] == 1 and rt["quality_floor"] == 0.9 and set(rt) >= {"created", "run", "routes", "models"}
    qa = rt["routes"]["qa"]
    # qa retention: teacher 1.0, Q8 0.95, Q4 0.925 — all above the 0.9 floor
    assert qa["cost"]["model"] == "student-Q4_K_M"  # cheapest output $/1M
    assert qa["quality"]["model"] == "teacher-fp32"  # best retention
    assert qa["speed"]["model"] == "student-Q4_K_M"  # 70 + 200*12 ms beats 80 + 200*20 ms
    # fallbacks: the rest ordered by retention per dollar (Q8: 0.95/$, teacher: 1.0/$ at 2.5x the price)
    assert qa["cost"]["fallbacks"] == ["student-Q8_0", "teacher-fp32"]
    assert qa["quality"]["fallbacks"] == ["student-Q4_K_M", "student-Q8_0"]
    assert math.isclose(qa["cost"]["expected_retention"], 0.74 / 0.8)
    assert math.isclose(qa["cost"]["usd_per_1m"], _row(cost, "student-Q4_K_M")["output_usd_per_1m"])
    # code: Q8 0.8 and Q4 0.5 are below the floor → only the teacher
    code = rt["routes"]["code"]
    assert {p: code[p]["model"] for p in ("cost", "quality", "speed")} == {p: "teacher-fp32" for p in ("cost", "quality", "speed")}
    assert code["cost"]["fallbacks"] == []


def test_class_without_measurable_retention_is_unrouted(built):
    _, _, _, rt = built
    assert "translation" not in rt["routes"]
    assert "translation" in rt["unrouted"]
    for routes in rt["routes"].values():  # every routed model is a measured one with prices
        for r in routes.values():
            for m in [r["model"], *r["fallbacks"]]:
                assert m in rt["models"] and rt["models"][m]["usd_per_1m_out"] is not None


def test_lower_floor_admits_more_candidates(tmp_path):
    from costlab.tables.stage import build_tables

    run = make_eval_run(tmp_path / "run")
    build_tables(run, run / "tables", tables_cfg(quality_floor=0.5), HARDWARE, PRICING, None)
    rt = json.loads((run / "tables/routing_table.json").read_text())
    assert rt["routes"]["code"]["cost"]["model"] == "student-Q4_K_M"  # 0.3/0.6 = 0.5 ≥ 0.5


def test_serving_loader_accepts_the_routing_table(built):
    tables = pytest.importorskip("costlab.serving.tables")
    run = built[0]
    t = tables.load_tables(run / "tables")
    assert t.routes["qa"]["cost"].model == "student-Q4_K_M"
    assert t.retention("student-Q8_0", "qa") == pytest.approx(0.95)


def test_break_even(built):
    run = built[0]
    be = json.loads((run / "tables/break_even.json").read_text())
    b = next(x for x in be if x["variant"] == "student-Q4_K_M" and x["api_model"] == "gpt-4o")
    api_req = (500 * 2.5 + 200 * 10.0) / 1e6
    assert math.isclose(b["api_usd_per_request"], api_req)
    assert math.isclose(b["break_even_requests_per_month"], 0.10 * 720 / api_req)
    cap = 30 * 86400 * 0.5 / (500 / 600.0 + 200 / 160.0)
    assert math.isclose(b["capacity_requests_per_month"], cap)
    assert b["boxes_needed"] == math.ceil(300000 / cap)
    # a box that cannot serve enough requests to beat the API price says "never", not a number
    cheap = next(x for x in be if x["variant"] == "teacher-fp32" and x["api_model"] == "gpt-4o-mini")
    assert cheap["break_even_requests_per_month"] is None and cheap["break_even"].startswith("never")


def test_hardware_profile_without_price_is_an_error(tmp_path):
    from costlab.tables.stage import build_tables

    run = make_eval_run(tmp_path / "run")
    with pytest.raises(CostlabError, match="usd_per_hour"):
        build_tables(run, run / "tables", tables_cfg(hardware_profiles=[]), {**HARDWARE, "usd_per_hour": None},
                     PRICING, None)
    with pytest.raises(CostlabError, match="nope.yaml"):
        build_tables(run, run / "tables", tables_cfg(hardware_profiles=["nope"]), HARDWARE, PRICING, None)


def test_nothing_measured_is_an_error(tmp_path):
    from costlab.tables.stage import build_tables

    run = make_eval_run(tmp_path / "run")
    for f in (run / "eval").glob("*.json"):
        rec = json.loads(f.read_text())
        if "variant" in rec:
            rec["status"] = "error"
            rec["error"] = "backend missing"
            f.write_text(json.dumps(rec))
    with pytest.raises(CostlabError, match="no variant was measured"):
        build_tables(run, run / "tables", tables_cfg(), HARDWARE, PRICING, None)


def test_outputs_written(built):
    t = built[0] / "tables"
    for f in ("cost_table.json", "cost_table.csv", "cost_table.md", "routing_table.json", "break_even.md",
              "litellm_model_prices.json", "pareto.png", "latency.png"):
        assert (t / f).stat().st_size > 0, f
    assert (t / "pareto.png").read_bytes()[:4] == b"\x89PNG"
    csv = (t / "cost_table.csv").read_text().splitlines()
    assert csv[0].startswith("model,kind,hardware") and len(csv) == 1 + 3 + 2 + 5


def test_litellm_export_keys_and_costs(built):
    from costlab.tables.litellm_export import ENTRY_KEYS

    run, _, cost, _ = built
    ex = json.loads((run / "tables/litellm_model_prices.json").read_text())
    assert set(ex) == set(VARIANTS)
    r = _row(cost, "student-Q8_0")
    e = ex["student-Q8_0"]
    assert set(ENTRY_KEYS) <= set(e)
    assert math.isclose(e["output_cost_per_token"], r["output_usd_per_1m"] / 1e6)
    assert e["mode"] == "chat" and e["max_input_tokens"] == 2048


def test_litellm_export_loads_in_litellm(built):
    litellm = pytest.importorskip("litellm")
    run, _, cost, _ = built
    ex = json.loads((run / "tables/litellm_model_prices.json").read_text())
    litellm.register_model(ex)  # the file as written, metadata included
    p, c = litellm.cost_per_token(model="student-Q4_K_M", prompt_tokens=1000, completion_tokens=500)
    r = _row(cost, "student-Q4_K_M")
    assert math.isclose(p, 1000 * r["input_usd_per_1m"] / 1e6, rel_tol=1e-9)
    assert math.isclose(c, 500 * r["output_usd_per_1m"] / 1e6, rel_tol=1e-9)


def test_pareto_front():
    from costlab.tables.plots import pareto_front

    pts = [(1.0, 0.9, "a"), (2.0, 0.8, "b"), (3.0, 1.0, "c"), (0.5, 0.5, "d")]
    assert [p[2] for p in pareto_front(pts)] == ["d", "a", "c"]


def test_retention_above_reference_is_clipped_for_routing(tmp_path):
    """A variant 'better than the teacher' on a few items ties with it at 1.0; the cheaper one wins 'quality'."""
    from costlab.tables.stage import build_tables

    run = make_eval_run(tmp_path / "run")
    f = run / "eval" / "student-Q4_K_M.json"
    rec = json.loads(f.read_text())
    rec["quality"]["code"].update(score=0.9, retention=1.5)
    f.write_text(json.dumps(rec))
    build_tables(run, run / "tables", tables_cfg(), HARDWARE, PRICING, None)
    rt = json.loads((run / "tables/routing_table.json").read_text())
    assert rt["routes"]["code"]["quality"]["model"] == "student-Q4_K_M"  # tie at 1.0 → cheaper
    assert rt["routes"]["code"]["quality"]["expected_retention"] == 1.0
    assert _row(json.loads((run / "tables/cost_table.json").read_text()), "student-Q4_K_M")["quality_retention"]["code"] == 1.5
    build_tables(run, run / "tables2", tables_cfg(max_retention=None), HARDWARE, PRICING, None)
    rt2 = json.loads((run / "tables2/routing_table.json").read_text())
    assert rt2["routes"]["code"]["quality"]["expected_retention"] == 1.5
