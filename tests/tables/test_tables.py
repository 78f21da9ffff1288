"""Table builder on hand-made eval results (tables_handmade.py): cost formula and its basis, the interval routing
rule, default route, unrouted classes, flips within the intervals, determinism, bad input, break-even, LiteLLM."""

from __future__ import annotations

import json
import math

import pytest
from tables_handmade import HARDWARE, PRICING, VARIANTS, make_eval_run, tables_cfg

from costlab.errors import CostlabError


def _build(tmp_path, cfg=None, name="run", edit=None, plots=False):
    from costlab.tables.stage import build_tables

    run = make_eval_run(tmp_path / name)
    if edit:
        edit(run)
    metrics = build_tables(run, run / "tables", cfg or tables_cfg(), HARDWARE, PRICING, context=2048, plots=plots)
    t = run / "tables"
    return (
        run,
        metrics,
        json.loads((t / "cost_table.json").read_text()),
        json.loads((t / "routing_table.json").read_text()),
    )


@pytest.fixture
def built(tmp_path):
    return _build(tmp_path)


def _row(cost, model, hw="cpu-2core"):
    return next(r for r in cost["rows"] if r["model"] == model and r["hardware"] == hw)


def _edit_eval(run, variant, fn):
    f = run / "eval" / f"{variant}.json"
    rec = json.loads(f.read_text())
    fn(rec)
    f.write_text(json.dumps(rec))


# ---------------------------------------------------------------------------------------------- cost
def test_cost_formula_prices_the_used_share_of_the_box(built):
    _, _, cost, _ = built
    for name, (dec, pre, ttft, *_rest) in VARIANTS.items():
        r = _row(cost, name)
        assert r["kind"] == "self_hosted" and r["source"] == f"eval/{name}.json"
        # measured with 1 of the box's 2 hardware threads: half the box's $/hour
        assert r["box_share"] == 0.5 and r["box_share_basis"] == "1 of 2 hardware threads"
        assert math.isclose(r["output_usd_per_1m"], 0.10 * 0.5 / (dec * 3600 * 0.5) * 1e6)
        assert math.isclose(r["input_usd_per_1m"], 0.10 * 0.5 / (pre * 3600 * 0.5) * 1e6)
        assert r["decode_tok_s"] == dec and r["ttft_ms_p50"] == ttft and r["context"] == 2048
        assert r["throughput_method"] == "batch1" and "same for every variant" in r["throughput_basis"]
        for k in (
            "model",
            "kind",
            "hardware",
            "input_usd_per_1m",
            "output_usd_per_1m",
            "context",
            "decode_tok_s",
            "ttft_ms_p50",
            "size_mb",
            "quality_retention",
            "source",
        ):  # the design's row keys
            assert k in r
    api = _row(cost, "gpt-4o-mini", None)
    assert api["kind"] == "api" and api["output_usd_per_1m"] == 0.60 and api["quality_retention"] == {}


def test_cost_rows_carry_intervals_named_kl_and_label(built):
    run, _, cost, _ = built
    r = _row(cost, "student-Q8_0")
    qa = r["quality_retention_ci"]["qa"]
    assert qa["n"] == 200 and qa["retention_lo"] < qa["retention"] < qa["retention_hi"]
    assert r["quality_retention"]["qa"] == qa["retention"] == pytest.approx(156 / 160)
    assert r["quality_retention_ci"]["general"]["n"] == 600
    assert r["kl_method"] == "kl_topk_lower_bound" and r["kl_lo"] < r["kl"] < r["kl_hi"]
    assert r["top1_lo"] < r["top1"] < r["top1_hi"]
    assert _row(cost, "teacher-fp32")["label"] == "teacher (Q4_1 GGUF, dequantized to fp32)"
    md = (run / "tables/cost_table.md").read_text()
    assert "KL top-k lower bound [CI]" in md and "0.975 [" in md and "n=200" in md
    assert "teacher (Q4_1 GGUF, dequantized to fp32)" in md and "1 of 2 hardware threads" in md
    assert "not measurable (" in md  # translation: reference at chance
    csv = (run / "tables/cost_table.csv").read_text().splitlines()
    assert "retention_qa_lo" in csv[0] and "kl_method" in csv[0]


def test_reference_row_has_retention_one_with_no_spread(built):
    """The reference against itself is retention 1 by definition. A smoothed paired interval of a variant against
    itself still spreads (the demo's cost table showed the reference's qa retention as [0.974, 1.03]): a spread no
    measurement has, so it is not shown."""
    _, _, cost, routing = built
    ref = routing["reference"]
    for cls, ci in _row(cost, ref)["quality_retention_ci"].items():
        assert (ci["retention"], ci["retention_lo"], ci["retention_hi"]) == (1.0, 1.0, 1.0), cls
        assert ci["p_value"] is None and ci["test"] == "reference (retention 1 by definition)", cls


def test_whole_box_and_price_range_knobs(tmp_path):
    _, _, cost, _ = _build(tmp_path, tables_cfg(price_share="whole_box", price="high"))
    r = _row(cost, "student-Q8_0")
    assert r["box_share"] == 1.0 and "whole box" in r["box_share_basis"]
    assert math.isclose(r["output_usd_per_1m"], 0.15 / (50.0 * 3600 * 0.5) * 1e6)


def test_concurrency_basis_needs_the_same_method_for_every_variant(tmp_path):
    def mixed(run):
        for name, agg in (("teacher-fp32", 30.0), ("student-Q8_0", None)):

            def fn(rec, agg=agg):
                if agg:
                    rec["latency"].update(
                        concurrency_method="batched_forward",
                        concurrency={"n": 4, "aggregate_decode_tok_s": {"p50": agg}},
                    )

            _edit_eval(run, name, fn)

    with pytest.raises(CostlabError, match=r"not measured the same way.*batched_forward: eval/teacher-fp32.json"):
        _build(tmp_path, tables_cfg(throughput="concurrency"), edit=mixed)
    assert not (tmp_path / "run/tables/cost_table.json").exists()  # nothing half-written

    def same(run):
        for name in VARIANTS:
            _edit_eval(
                run,
                name,
                lambda rec: rec["latency"].update(
                    concurrency_method="batched_forward", concurrency={"n": 4, "aggregate_decode_tok_s": {"p50": 99.0}}
                ),
            )

    _, _, cost, _ = _build(tmp_path, tables_cfg(throughput="concurrency"), name="run2", edit=same)
    r = _row(cost, "student-Q8_0")
    assert r["decode_tok_s"] == 99.0 and r["throughput_method"] == "batched_forward"


def test_unmeasured_hardware_and_failed_variants_are_not_measured(built):
    run, metrics, cost, routing = built
    assert not [r for r in cost["rows"] if r["hardware"] == "h100"]  # never extrapolated to another profile
    nm = {(m["model"], m["hardware"]): m for m in cost["not_measured"]}
    assert nm[("student-Q8_0", "h100")]["status"] == "not measured"
    assert nm[("student-Q2_K", "cpu-2core")]["status"] == "failed"
    assert "student-Q2_K" not in routing["models"]
    assert metrics["rows_not_measured"] == len(cost["not_measured"]) == 3 + 2  # 3 ok x h100 + failed x 2 profiles
    md = (run / "tables/cost_table.md").read_text()
    assert "not measured" in md and "student-Q2_K" in md


# ---------------------------------------------------------------------------------------------- routing
def test_routing_acts_on_the_lower_bound(built):
    _, metrics, cost, rt = built
    assert rt["version"] == 2 and rt["quality_floor"] == 0.9 and rt["confidence"] == 0.95
    assert rt["reference"] == "teacher-fp32" and rt["reference_label"] == "teacher (Q4_1 GGUF, dequantized to fp32)"
    qa = rt["routes"]["qa"]
    # Q4_K_M is cheaper and its point retention (0.94) is above the floor, but its lower bound is not: Q8_0
    ev = rt["evidence"]["qa"]
    assert ev["student-Q4_K_M"]["retention"] > 0.9 > ev["student-Q4_K_M"]["retention_lo"]
    assert ev["student-Q4_K_M"]["candidate"] is False and "lower bound" in ev["student-Q4_K_M"]["why"]
    assert qa["cost"]["model"] == "student-Q8_0" and qa["speed"]["model"] == "student-Q8_0"
    assert qa["quality"]["model"] == "teacher-fp32"  # no variant is significantly better than the reference
    c = qa["cost"]
    assert c["retention_lo"] >= 0.9 and c["retention_lo"] < c["expected_retention"] < c["retention_hi"]
    assert c["n"] == 200 and c["test"].startswith("non-inferiority") and c["paired_test"] == "exact McNemar"
    assert math.isclose(c["usd_per_1m"], _row(cost, "student-Q8_0")["output_usd_per_1m"])
    assert c["fallbacks"] == ["teacher-fp32"] and qa["quality"]["fallbacks"] == ["student-Q8_0"]
    # code: no variant is non-inferior → the reference, explicitly
    assert {p: rt["routes"]["code"][p]["model"] for p in ("cost", "quality", "speed")} == {
        p: "teacher-fp32" for p in ("cost", "quality", "speed")
    }
    assert metrics["classes_routed_to_a_variant"] == 1


def test_unmeasurable_class_is_unrouted_and_default_route_is_the_pooled_row(built):
    _, _, _, rt = built
    assert "translation" not in rt["routes"]
    assert rt["unrouted"]["translation"].startswith("not measurable with this reference")
    assert rt["default_route"] == "general" and "general" in rt["routes"] and "pooled" in rt["default_rule"]
    g = rt["evidence"]["general"]["student-Q8_0"]
    assert g["n"] == 600 and g["retention_lo"] < 0.9  # pooled: not non-inferior
    assert rt["routes"]["general"]["cost"]["model"] == "teacher-fp32"
    for routes in rt["routes"].values():  # every routed model is a measured one with prices
        for r in routes.values():
            for m in [r["model"], *r["fallbacks"]]:
                assert m in rt["models"] and rt["models"][m]["usd_per_1m_out"] is not None


def test_sensitivity_lists_the_decisions_that_would_flip(built):
    _, _, _, rt = built
    s = rt["sensitivity"]["qa"]
    assert [x["model"] for x in s["straddling_floor"]] == ["student-Q4_K_M"]
    flips = {(f["priority"], f["rule"]): f["would_be"] for f in s["picks_that_would_change"]}
    assert flips[("cost", "point estimate >= floor")] == "student-Q4_K_M"
    assert flips[("cost", "upper bound >= floor")] == "student-Q4_K_M"
    assert rt["sensitivity"]["code"]["picks_that_would_change"] == []
    g = rt["sensitivity"]["general"]
    assert [x["model"] for x in g["straddling_floor"]] == ["student-Q8_0"]


def test_lower_floor_admits_more_candidates(tmp_path):
    _, _, _, rt = _build(tmp_path, tables_cfg(quality_floor=0.7))
    assert rt["routes"]["code"]["cost"]["model"] == "student-Q8_0"  # lower bound 0.73 >= 0.7
    assert rt["routes"]["qa"]["cost"]["model"] == "student-Q4_K_M"


def test_quality_pick_needs_a_variant_significantly_better_than_the_reference(tmp_path):
    """No clipping of retention: a variant wins 'quality' only when its lower bound is above 1."""
    from tables_handmade import item_scores

    from costlab import stats

    def better(wrong, extra):
        """Q8_0 on qa: wrong on the reference's first `wrong` right items, right on `extra` items it missed."""

        def edit(run):
            def fn(rec):
                r = item_scores(160)
                v = [0.0 if i < wrong else 1.0 if i < 160 + extra else 0.0 for i in range(200)]
                rec["quality"]["qa"].update(item_scores=v, **stats.compare_class(v, r, 0.0))

            _edit_eval(run, "student-Q8_0", fn)

        return edit

    _, _, _, rt = _build(tmp_path, edit=better(3, 5))  # 162/160: interval contains 1, a tie → the reference
    assert (
        rt["evidence"]["qa"]["student-Q8_0"]["retention"] > 1.0 > rt["evidence"]["qa"]["student-Q8_0"]["retention_lo"]
    )
    assert rt["routes"]["qa"]["quality"]["model"] == "teacher-fp32"
    _, _, _, rt = _build(tmp_path, name="run2", edit=better(3, 33))  # 190/160, lower bound > 1
    assert rt["routes"]["qa"]["quality"]["model"] == "student-Q8_0"
    assert rt["routes"]["qa"]["quality"]["retention_lo"] > 1.0


def test_rebuild_gives_the_same_tables_except_created(tmp_path):
    from costlab.tables.stage import build_tables

    run = make_eval_run(tmp_path / "run")
    out = []
    for d in ("t1", "t2"):
        build_tables(run, run / d, tables_cfg(), HARDWARE, PRICING, context=2048)
        texts = {}
        for f in ("routing_table.json", "cost_table.json", "cost_table.csv", "cost_table.md"):
            b = (run / d / f).read_bytes()
            if f.endswith(".json"):
                created = json.loads(b)["created"]
                b = b.replace(created.encode(), b"CREATED")
            texts[f] = b
        out.append(texts)
    assert out[0] == out[1]


def test_serving_loader_accepts_the_routing_table(built):
    from costlab.serving.tables import load_tables

    t = load_tables(built[0] / "tables")
    assert t.routes["qa"]["cost"].model == "student-Q8_0" and "general" in t.routes
    assert t.retention("student-Q8_0", "qa") == pytest.approx(156 / 160)


# ---------------------------------------------------------------------------------------------- bad input
def _keep_old_tables(tmp_path, edit, match):
    from costlab.tables.stage import build_tables

    run = make_eval_run(tmp_path / "run")
    build_tables(run, run / "tables", tables_cfg(), HARDWARE, PRICING, context=2048)
    before = {f.name: f.read_bytes() for f in (run / "tables").iterdir()}
    evals_before = None
    edit(run)
    evals_before = {f.name: f.read_bytes() for f in (run / "eval").glob("*.json")}
    with pytest.raises(CostlabError, match=match) as e:
        build_tables(run, run / "tables", tables_cfg(), HARDWARE, PRICING, context=2048)
    assert e.value.fix  # says what to do
    assert {f.name: f.read_bytes() for f in (run / "tables").iterdir()} == before  # no table half-rewritten
    assert {f.name: f.read_bytes() for f in (run / "eval").glob("*.json")} == evals_before  # eval data untouched
    return e.value


def test_missing_per_item_samples_names_file_and_class(tmp_path):
    def edit(run):
        def fn(rec):
            for q in rec["quality"].values():
                q.pop("item_scores")
            rec.pop("samples_file")

        _edit_eval(run, "student-Q8_0", fn)

    e = _keep_old_tables(tmp_path, edit, r"eval/student-Q8_0.json: task class 'qa' has no per-item samples")
    assert "re-run the evaluate stage" in e.fix


def test_class_with_zero_items_names_file_and_class(tmp_path):
    def edit(run):
        def fn(rec):
            rec["quality"]["code"].update(n=0, item_ids=[], item_scores=[], item_chance=[], score=None)

        _edit_eval(run, "teacher-fp32", fn)

    e = _keep_old_tables(tmp_path, edit, r"eval/teacher-fp32.json: task class 'code' has 0 items")
    assert "eval.quality.limit" in e.fix


def test_reference_at_chance_everywhere_is_a_clear_error(tmp_path):
    from tables_handmade import CLASSES, _quality

    def edit(run):
        low = {c: 52 if c == "translation" else 0 for c in CLASSES}
        for name in VARIANTS:
            _edit_eval(run, name, lambda rec: rec.update(quality=_quality(low, low)))

    e = _keep_old_tables(
        tmp_path, edit, r"reference 'teacher-fp32' is not significantly above chance on any task class"
    )
    assert "stronger reference" in e.fix


def test_variant_missing_reference_items_is_an_error(tmp_path):
    def edit(run):
        def fn(rec):
            q = rec["quality"]["qa"]
            for k in ("item_ids", "item_scores", "item_chance"):
                q[k] = q[k][:-5]
            q["n"] = len(q["item_ids"])

        _edit_eval(run, "student-Q4_K_M", fn)

    _keep_old_tables(tmp_path, edit, r"student-Q4_K_M.json class 'qa': 5 of the reference's 200 items have no score")


def test_hardware_profile_without_price_is_an_error(tmp_path):
    from costlab.tables.stage import build_tables

    run = make_eval_run(tmp_path / "run")
    with pytest.raises(CostlabError, match="usd_per_hour"):
        build_tables(
            run, run / "tables", tables_cfg(hardware_profiles=[]), {**HARDWARE, "usd_per_hour": None}, PRICING, None
        )
    with pytest.raises(CostlabError, match="hardware profile 'nope' not found"):
        build_tables(run, run / "tables", tables_cfg(hardware_profiles=["nope"]), HARDWARE, PRICING, None)


def test_reference_not_measured_is_an_error(tmp_path):
    from costlab.tables.stage import build_tables

    run = make_eval_run(tmp_path / "run")
    _edit_eval(run, "teacher-fp32", lambda rec: rec.update(status="error", error="backend missing"))
    with pytest.raises(CostlabError, match="the reference 'teacher-fp32' has no ok eval result"):
        build_tables(run, run / "tables", tables_cfg(), HARDWARE, PRICING, None)


# ---------------------------------------------------------------------------------------------- other outputs
def test_break_even(built):
    run = built[0]
    be = json.loads((run / "tables/break_even.json").read_text())
    b = next(x for x in be if x["variant"] == "student-Q4_K_M" and x["api_model"] == "gpt-4o")
    api_req = (500 * 2.5 + 200 * 10.0) / 1e6
    assert math.isclose(b["api_usd_per_request"], api_req)
    assert math.isclose(b["break_even_requests_per_month"], 0.10 * 0.5 * 720 / api_req)  # the used half of the box
    cap = 30 * 86400 * 0.5 / (500 / 600.0 + 200 / 80.0)
    assert math.isclose(b["capacity_requests_per_month"], cap)
    assert b["boxes_needed"] == math.ceil(300000 / cap)
    cheap = next(x for x in be if x["variant"] == "teacher-fp32" and x["api_model"] == "gpt-4o-mini")
    assert cheap["break_even_requests_per_month"] is None and cheap["break_even"].startswith("never")


def test_outputs_written(tmp_path):
    t = _build(tmp_path, plots=True)[0] / "tables"
    for f in (
        "cost_table.json",
        "cost_table.csv",
        "cost_table.md",
        "routing_table.json",
        "break_even.md",
        "litellm_model_prices.json",
        "pareto.png",
        "latency.png",
    ):
        assert (t / f).stat().st_size > 0, f
    assert (t / "pareto.png").read_bytes()[:4] == b"\x89PNG"
    csv = (t / "cost_table.csv").read_text().splitlines()
    assert csv[0].startswith("model,label,kind,hardware") and len(csv) == 1 + 3 + 2 + 5


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


def test_litellm_export_loads_in_litellm(built, monkeypatch):
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # litellm's bundled map: no network at import
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
