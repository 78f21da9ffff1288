"""Tables loading, keyword and learned task classifiers, routing by task class and priority."""

from __future__ import annotations

import json

import pytest

from costlab.errors import CostlabError
from costlab.serving.classify import KeywordClassifier, LearnedClassifier, train_classifier
from costlab.serving.errors import GatewayError
from costlab.serving.router import Router
from costlab.serving.tables import load_tables

from .conftest import FIXTURES, write_tables

ROOT = FIXTURES.parents[2]


def test_load_fixture_tables():
    t = load_tables(FIXTURES)
    assert t.quality_floor == 0.9 and set(t.routes) == {"qa", "code", "general"}
    assert t.routes["qa"]["cost"].model == "student-Q4_K_M"
    assert t.models["student-Q2_K"].quality_retention["qa"] == 0.92  # merged from cost_table.json
    assert t.models["teacher-fp32"].cost(1_000_000, 1_000_000) == pytest.approx(4.0)


def test_bad_tables_name_file_and_fix(tmp_path):
    with pytest.raises(CostlabError, match="routing table not found"):
        load_tables(tmp_path)

    def bad_route(rt):
        rt["routes"]["qa"]["cost"]["model"] = "nope"

    write_tables(tmp_path / "t", "http://x/v1", bad_route)
    with pytest.raises(CostlabError, match=r"routes\.qa\.cost: model 'nope'"):
        load_tables(tmp_path / "t")

    def bad_prio(rt):
        rt["routes"]["qa"]["fastest"] = rt["routes"]["qa"]["cost"]

    write_tables(tmp_path / "u", "http://x/v1", bad_prio)
    with pytest.raises(CostlabError, match="unknown priority 'fastest'"):
        load_tables(tmp_path / "u")


def test_keyword_classifier_rules():
    k = KeywordClassifier()
    assert k.predict(
        [
            "Translate to French: good morning",
            "Summarize this article in two sentences",
            "Write a Python function that reverses a list",
            "Return the answer as JSON",
            "How many apples are left if I eat 3 of 7?",
            "Who wrote Hamlet?",
            "hello",
        ]
    ) == ["translation", "summarization", "code", "formatting", "reasoning", "qa", "general"]


def test_router_priorities_fallbacks_and_unknown_class():
    t = load_tables(FIXTURES)
    r = Router(t, KeywordClassifier())
    d = r.route("auto", "Who wrote Hamlet?", "quality")
    assert (d.model, d.task_class, d.priority, d.routed) == ("teacher-fp32", "qa", "quality", True)
    assert d.fallbacks == ["student-Q4_K_M", "student-Q2_K"]
    assert r.route("auto-speed", "Who wrote Hamlet?", None).model == "student-Q2_K"
    # a class with no row in the table (translation) takes the table's default_route (general)
    d = r.route("auto", "Translate to French: good morning", "cost")
    assert d.task_class == "translation" and d.model == "student-Q4_K_M"
    assert r.route("teacher-fp32", "anything", None).routed is False
    with pytest.raises(GatewayError) as e:
        r.route("gpt-5", "x", None)
    assert e.value.status == 404
    # downgrade candidates: cheaper and ≥ floor for the class
    d = r.route("auto", "Who wrote Hamlet?", "quality")
    assert r.downgrade_candidates(d, allow_below_floor=False) == ["student-Q4_K_M", "student-Q2_K"]
    d = r.route("auto", "Write a python function", "quality")
    assert r.downgrade_candidates(d, allow_below_floor=False) == []
    assert r.downgrade_candidates(d, allow_below_floor=True) == ["student-Q4_K_M"]


@pytest.mark.skipif(not (ROOT / "data/prompts/train.jsonl").exists(), reason="data/prompts not generated")
def test_learned_classifier_trains_saves_loads_and_routes(tmp_path, minilm, make_gateway, fake_state):
    out = tmp_path / "clf"
    m = train_classifier(ROOT / "data/prompts/train.jsonl", ROOT / "data/prompts/heldout.jsonl", out, minilm)
    assert (out / "classifier.joblib").exists() and (out / "provenance.json").exists()
    prov = json.loads((out / "provenance.json").read_text())
    assert "train" in prov["inputs"] and prov["inputs"]["train"]["sha256"]
    # both accuracies are measured on the same held-out prompts; the learned one is far above chance
    assert m["n_heldout"] > 0 and 0 <= m["keyword_accuracy"] <= 1
    assert m["learned_accuracy"] > 2 * m["majority_accuracy"]
    clf = LearnedClassifier.load(out, minilm)
    assert clf.predict(["Translate to German: the house is red."]) == ["translation"]
    v = minilm.encode(["Translate to German: the house is red."])[0]
    r = Router(load_tables(FIXTURES), clf)
    d = r.route("auto", "Translate to German: the house is red.", "cost", vector=v)
    assert d.task_class == "translation"
    # in the gateway: the request's embedding feeds the classifier
    import openai

    _, url = make_gateway(embedder=minilm, router={"classifier": "learned", "artifact": str(out)})
    raw = openai.OpenAI(base_url=url + "/v1", api_key="k", max_retries=0).chat.completions.with_raw_response.create(
        model="auto", messages=[{"role": "user", "content": "Please put this into Spanish: I like trains."}]
    )
    assert raw.headers["x-costlab-task-class"] == "translation"
    assert raw.headers["x-costlab-model"] == "student-Q4_K_M"  # no translation row: the 'general' route


def test_learned_classifier_missing_artifact(tmp_path, minilm):
    with pytest.raises(CostlabError, match="classifier artifact not found"):
        LearnedClassifier.load(tmp_path, minilm)


def test_gateway_serves_tables_built_by_the_tables_stage(tmp_path, make_gateway, fake, fake_state):
    """End to end on the real table writer: hand-made eval results → build_tables → this gateway."""
    import importlib.util

    import openai

    import costlab.tables.stage as stage  # an import error of our own module must fail, not skip

    helper = ROOT / "tests/tables/tables_handmade.py"
    if not helper.exists():
        pytest.skip("tables test helper not present")
    spec = importlib.util.spec_from_file_location("tables_handmade_for_serving", helper)
    hm = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hm)
    run = hm.make_eval_run(tmp_path / "run")
    stage.build_tables(run, run / "tables", hm.tables_cfg(), hm.HARDWARE, hm.PRICING, context=2048)
    rt = json.loads((run / "tables/routing_table.json").read_text())
    up = fake[0].url + "/v1"
    gw, url = make_gateway(tables_dir=str(run / "tables"), endpoints={m: up for m in rt["models"]})
    c = openai.OpenAI(base_url=url + "/v1", api_key="k", max_retries=0)
    r = c.chat.completions.with_raw_response.create(
        model="auto", messages=[{"role": "user", "content": "Who wrote Hamlet?"}], temperature=0
    )
    assert r.headers["x-costlab-task-class"] == "qa"
    assert r.headers["x-costlab-model"] == rt["routes"]["qa"]["cost"]["model"]
    m = rt["models"][r.headers["x-costlab-model"]]
    u = r.parse().usage
    assert u.costlab["cost_usd"] == pytest.approx(
        (u.prompt_tokens * (m["usd_per_1m_in"] or 0) + u.completion_tokens * m["usd_per_1m_out"]) / 1e6
    )


# ---------------------------------------------------------------------------------------------- issue 9 §3
def _handmade():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "tables_handmade_for_router", ROOT / "tests/tables/tables_handmade.py"
    )
    hm = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hm)
    return hm


def _built_router(tmp_path):
    from costlab.tables.stage import build_tables

    hm = _handmade()
    run = hm.make_eval_run(tmp_path / "run")
    build_tables(run, run / "tables", hm.tables_cfg(), hm.HARDWARE, hm.PRICING, context=2048)
    rt = json.loads((run / "tables/routing_table.json").read_text())
    return Router(load_tables(run / "tables", endpoints={"*": "http://x/v1"}), KeywordClassifier()), rt


def test_unknown_class_goes_to_the_default_route_not_another_class_pick(tmp_path):
    """Regression (issue 9): the keyword classifier says 'general' (no such class was measured); the router took
    the first route of the table (qa's cost pick, student-Q4_K_M). On the hand-made run the pooled (all items)
    retention of every student is below the floor, so the default route must be the reference."""
    r, rt = _built_router(tmp_path)
    for prio in ("cost", "quality", "speed"):
        d = r.route("auto", "hello there", prio)
        assert d.model == "teacher-fp32", (prio, d.model)


def test_unrouted_class_goes_to_the_default_route_not_another_class_pick(tmp_path):
    """Regression (issue 9): translation is unrouted (reference at 0 there); it took qa's cost pick."""
    r, rt = _built_router(tmp_path)
    assert "translation" in rt["unrouted"]
    d = r.route("auto", "Translate into French: good morning", "cost")
    assert d.task_class == "translation"
    assert d.model == "teacher-fp32", d.model


def _v2_table(tmp_path, edit=None):
    """A hand-written routing_table.json version 2 (docs/design.md): translation is the table's first route."""

    def route(model, fallbacks, lo):
        return {
            "model": model,
            "fallbacks": fallbacks,
            "expected_retention": 1.0,
            "retention_lo": lo,
            "retention_hi": 1.0,
            "n": 200,
            "test": "non-inferiority",
            "usd_per_1m": 1.0,
        }

    def row(model, fallbacks, lo=1.0):
        return {p: route(model, fallbacks, lo) for p in ("cost", "quality", "speed")}

    rt = {
        "version": 2,
        "created": "x",
        "run": "r",
        "quality_floor": 0.9,
        "confidence": 0.95,
        "reference": "T",
        "routes": {
            "translation": row("Q4", ["T"], 0.95),
            "qa": row("Q8", ["T"], 0.92),
            "general": row("T", ["Q8", "Q4"]),
        },
        "default_route": "general",
        "unrouted": {"code": "not measurable with this reference: at chance"},
        "models": {
            m: {"endpoint": "http://x/v1", "backend": "llama.cpp", "usd_per_1m_in": p, "usd_per_1m_out": p}
            for m, p in (("T", 3.0), ("Q8", 1.0), ("Q4", 0.5))
        },
        "evidence": {
            "general": {"T": {"retention_lo": 1.0}, "Q8": {"retention_lo": 0.93}, "Q4": {"retention_lo": 0.85}}
        },
    }
    if edit:
        edit(rt)
    (tmp_path / "routing_table.json").write_text(json.dumps(rt))
    return load_tables(tmp_path)


def test_v2_table_unknown_and_unrouted_classes_take_default_route(tmp_path):
    r = Router(_v2_table(tmp_path), KeywordClassifier())
    d = r.route("auto", "hello there", "cost")  # keyword classifier: 'general' is not a measured class
    assert (d.model, d.route_class) == ("T", "general")
    d = r.route("auto", "Write a Python function that reverses a list", "cost")  # code: unrouted
    assert (d.task_class, d.route_class, d.model) == ("code", "general", "T")
    d = r.route("auto", "Translate to French: good morning", "cost")
    assert (d.route_class, d.model) == ("translation", "Q4")


def test_downgrade_keeps_the_floor_on_the_row_used(tmp_path):
    r = Router(_v2_table(tmp_path), KeywordClassifier())
    d = r.route("auto", "hello there", "cost")
    # general's fallbacks: Q8 (lower bound 0.93) keeps the floor, Q4 (0.85) does not
    assert r.downgrade_candidates(d, allow_below_floor=False) == ["Q8"]
    assert r.downgrade_candidates(d, allow_below_floor=True) == ["Q8", "Q4"]


def test_table_without_a_default_route_fails_at_start(tmp_path):
    def edit(rt):
        rt.pop("default_route")
        rt["routes"].pop("general")

    with pytest.raises(CostlabError, match="no default route"):
        Router(_v2_table(tmp_path, edit), KeywordClassifier())
