"""Routing task classifier trained on varied wording (issue 12 finding 10): template-disjoint split, per-language
accuracy with intervals beside the keyword rules, artifact round trip through LearnedClassifier.load.
TF-IDF only here (no MiniLM): a fit takes ~1-2 s."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from costlab.errors import CostlabError
from costlab.serving import classifier_data as D
from costlab.serving.classify import LearnedClassifier
from costlab.serving.task_classifier import (
    TextTaskClassifier,
    _eval_sets,
    evaluate,
    fit,
    format_metrics,
    score_artifact,
    train_and_evaluate,
)

ROOT = Path(__file__).resolve().parents[2]
WILD = ROOT / "data/classifier/wild.jsonl"
BLIND = ROOT / "data/classifier/blind/test.jsonl"


def _grams(t: str) -> set[str]:
    """Char-3-grams of a lowercased text with template slots removed (the similarity bound below)."""
    import re

    t = re.sub(r"\s+", " ", re.sub(r"\{\w+\}", " ", t.lower()))
    return {t[i : i + 3] for i in range(len(t) - 2)}


def _norm(t: str) -> str:
    from costlab.data.decontam import normalize

    return " ".join(normalize(t, mask_numbers=False))


def _blind_overlap(blind_path: Path) -> int:
    """How many rows of ``blind_path`` have the same normalized text as a training row (template rows as trained,
    free-form rows, every data/prompts file). Returns a count only: blind rows are never printed."""
    from costlab.io import read_jsonl
    from costlab.serving.task_classifier import prompt_rows

    train = {_norm(r["text"]) for r in D.make_rows()["train"]}
    for f in sorted((ROOT / "data/prompts").glob("*.jsonl")):
        train |= {_norm(r["text"]) for r in prompt_rows(f)}
    return sum(_norm(r["text"]) in train for r in read_jsonl(blind_path, required=("text",)))


@pytest.fixture(scope="module")
def data():
    return D.make_rows(per_template=6, freeform=False, decontaminate=())  # template rows only: a fit in ~2 s


@pytest.fixture(scope="module")
def model(data):
    return fit(data["train"])  # no embedder: TF-IDF features only


def test_split_is_by_template_and_no_template_is_shared(data):
    tr = {r["template"] for r in data["train"]}
    te = {r["template"] for r in data["test"]}
    assert tr and te and not tr & te
    split_ids = {tid for tid, *_ in D.iter_templates()}
    train_only = {tid for tid, *_ in D.iter_train_templates()}
    assert train_only and not train_only & split_ids and train_only <= tr  # training-only templates: never test
    assert tr | te == split_ids | train_only
    full = D.make_rows(per_template=2, decontaminate=())  # free-form rows: training only, never test
    free = {r["template"] for r in D.freeform_rows()}
    assert free and all(t.startswith(D.FREEFORM_PREFIX) for t in free)
    assert free <= {r["template"] for r in full["train"]} and not free & {r["template"] for r in full["test"]}
    assert not {r["text"] for r in data["train"]} & {r["text"] for r in data["test"]}
    # every class has unseen templates in every language
    assert {(r["label"], r["lang"]) for r in data["test"]} == {(c, l) for c in D.CLASSES for l in ("en", "zh", "mixed")}


def test_training_only_templates_leave_the_test_rows_unchanged():
    with_extra = D.make_rows(per_template=3, freeform=False, decontaminate=())
    without = D.make_rows(per_template=3, train_only=False, freeform=False, decontaminate=())
    assert with_extra["test"] == without["test"]
    assert with_extra["train"][: len(without["train"])] == without["train"]
    assert len(with_extra["train"]) > len(without["train"])


def test_free_form_rows_are_training_only_and_leave_the_test_rows_unchanged():
    # decontaminate=(): compared row by row here, so no evaluation file may take part (a diff would print rows)
    with_free = D.make_rows(per_template=3, decontaminate=())
    without = D.make_rows(per_template=3, freeform=False, decontaminate=())
    assert with_free["test"] == without["test"]
    assert with_free["train"][: len(without["train"])] == without["train"]
    free = with_free["train"][len(without["train"]) :]
    assert free == D.freeform_rows() and len(free) >= 1500
    assert {r["label"] for r in free} == set(D.CLASSES) and {r["lang"] for r in free} == {"en", "zh", "mixed"}


def test_free_form_file_is_what_make_freeform_writes():
    """train_freeform.jsonl is the output of data/classifier/make_freeform.py (deterministic), not edited by hand."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_freeform", ROOT / "data/classifier/make_freeform.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    on_disk = [json.loads(x) for x in (ROOT / "data/classifier/train_freeform.jsonl").read_text("utf-8").splitlines()]
    assert mod.build() == on_disk


def test_free_form_rows_do_not_copy_test_templates_test_slots_or_eval_rows():
    """The free-form rows were written with templates.json (test templates included) and wild.jsonl open: none may
    be (nearly) a test template or a wild prompt (char-3-gram Jaccard < 0.7; the highest is 0.64, a 3-word
    question), none may paste a test-half content slot value (a test row's content), and none may equal a test
    or wild row after normalization."""
    free = D.freeform_rows()
    split = D.template_split()
    test_t = [_grams(t) for tid, _, _, t in D.iter_templates() if split[tid] == "test"]
    wild = [json.loads(x)["text"] for x in WILD.read_text(encoding="utf-8").splitlines()]
    wild_g = [_grams(w) for w in wild]
    for r in free:
        g = _grams(r["text"])
        # Jaccard <= min(|g|, |h|) / max(|g|, |h|): only sets of comparable size can reach 0.7
        near = [h for h in test_t + wild_g if 0.7 * len(h) <= len(g) <= len(h) / 0.7]
        worst = max((len(g & h) / len(g | h) for h in near), default=0.0)
        assert worst < 0.7, (r["text"], worst)
    test_vals = {v for name in (n for grp in D.CONTENT.values() for n in grp) for v in D.SLOTS[name][1::2]}
    assert not [(v, r["text"]) for r in free for v in test_vals if v in r["text"]]
    evals = {_norm(r["text"]) for r in D.make_rows(freeform=False)["test"]} | {_norm(w) for w in wild}
    assert not [r["text"] for r in free if _norm(r["text"]) in evals]


def test_no_training_row_is_a_blind_row_check_can_fail(tmp_path):
    """The check below on a synthetic blind file: a training row (reworded only in case/punctuation) is found."""
    fixture = tmp_path / "blind.jsonl"
    train_text = D.freeform_rows()[0]["text"]
    rows = [{"text": "A prompt nobody trained on, about kumquats?", "label": "qa", "lang": "en"}]
    fixture.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert _blind_overlap(fixture) == 0
    rows.append({"text": train_text.upper() + " !", "label": "qa", "lang": "en"})
    fixture.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert _blind_overlap(fixture) == 1


def test_training_rows_equal_to_an_evaluation_row_are_dropped(tmp_path):
    """Decontamination in make_rows: a training prompt that equals (normalized) a row of an evaluation file is
    dropped and counted; without that file it stays."""
    free = D.freeform_rows()
    evalf = _write_jsonl(
        tmp_path / "eval.jsonl", [{"text": free[5]["text"].upper() + "?!", "label": "qa", "lang": "en"}]
    )
    clean, dirty = D.make_rows(per_template=1, decontaminate=(evalf,)), D.make_rows(per_template=1, decontaminate=())
    assert dirty["dropped"] == 0 and free[5] in dirty["train"]
    assert clean["dropped"] == 1 and free[5] not in clean["train"] and len(clean["train"]) == len(dirty["train"]) - 1
    assert clean["test"] == dirty["test"]


@pytest.mark.skipif(not BLIND.exists(), reason="no blind set (data/classifier/blind/test.jsonl) in this checkout")
def test_no_training_row_is_a_blind_row():
    """The blind set is written independently; no training prompt may coincide with one of its prompts. Only the
    size of the intersection is asserted (and reported): the blind rows are never printed."""
    n = _blind_overlap(BLIND)
    assert n == 0, f"{n} blind rows have the same normalized text as a training row"


def test_training_only_templates_are_not_copies_of_test_templates():
    """The training-only templates were written after the split existed: none may be (nearly) a test template.
    Char-3-gram Jaccard with slots removed; pairs among the original templates reach 1.0 (e.g. "What is {x}?")."""
    split = D.template_split()
    test = [_grams(t) for tid, _, _, t in D.iter_templates() if split[tid] == "test"]
    for tid, _, _, t in D.iter_train_templates():
        g = _grams(t)
        worst = max(len(g & h) / len(g | h) for h in test)
        assert worst < 0.7, (tid, t, worst)


def test_slot_values_of_test_templates_are_unseen_too():
    rng = __import__("random").Random(0)
    tr = D.fill("{lang_en}|{sent_zh}", rng, "train").split("|")
    assert tr[0] in D.SLOTS["lang_en"][0::2] and tr[1] in D.SLOTS["sent_zh"][0::2]
    te = D.fill("{lang_en}|{sent_zh}", rng, "test").split("|")
    assert te[0] in D.SLOTS["lang_en"][1::2] and te[1] in D.SLOTS["sent_zh"][1::2]


def test_generation_is_deterministic():
    assert D.make_rows(per_template=3, decontaminate=()) == D.make_rows(per_template=3, decontaminate=())
    assert D.template_split() == D.template_split()


def test_per_language_accuracy_with_intervals_and_keyword_baseline(model, data):
    wild = [json.loads(x) for x in WILD.read_text(encoding="utf-8").splitlines()]
    res = evaluate(model, data["test"], wild)
    for name in ("unseen_templates", "wild"):
        for who in ("learned", "keyword"):
            blk = res[name][who]
            assert set(blk) >= {"all", "en", "zh"}
            for _lang, b in blk.items():
                assert b["n"] > 0 and 0 <= b["ci_items"][0] <= b["accuracy"] <= b["ci_items"][1] <= 1
            assert sum(blk[lg]["n"] for lg in ("en", "zh", "mixed") if lg in blk) == blk["all"]["n"]
    assert "ci_templates" in res["unseen_templates"]["learned"]["zh"]  # bootstrap over templates


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


FIXTURE_BLIND = [  # synthetic: stands in for data/classifier/blind/test.jsonl, which these tests never read
    {"text": "what's the norwegian for 'good morning'", "label": "translation", "lang": "en"},
    {
        "text": "把这份周报压成两句话：本周完成登录页，修复三个缺陷，下周开始支付模块。",
        "label": "summarization",
        "lang": "zh",
    },
    {"text": "how many legs does a spider have", "label": "qa", "lang": "en"},
    {"text": "这些按字母排一下：pear, fig, apple", "label": "formatting", "lang": "mixed"},
    {"text": "小李有 12 颗糖，分给 3 个人后每人几颗？", "label": "reasoning", "lang": "zh"},
    {"text": "write a bash loop that prints 1 to 10", "label": "code", "lang": "en"},
]


def test_blind_set_is_scored_per_language_with_keyword_baseline_or_skipped_with_a_note(model, data, tmp_path):
    """The "blind" evaluation set (issue 12 #10), on a synthetic file: exact binomial interval per language for
    the learned model and the keyword rules beside it; absent file or --no-blind: a "skipped" note, no numbers."""
    blind = _write_jsonl(tmp_path / "blind.jsonl", FIXTURE_BLIND)
    res = _eval_sets(model, data["test"][:60], WILD, blind)
    for who in ("learned", "keyword"):
        blk = res["blind"][who]
        assert blk["all"]["n"] == 6 and blk["en"]["n"] == 3 and blk["zh"]["n"] == 2 and blk["mixed"]["n"] == 1
        for b in blk.values():
            assert 0 <= b["ci_items"][0] <= b["accuracy"] <= b["ci_items"][1] <= 1 and "ci_templates" not in b
    assert res["blind"]["sha256"] and res["blind"]["path"] == str(blind)
    assert "does not exist" in _eval_sets(model, data["test"][:60], None, tmp_path / "none.jsonl")["blind"]["skipped"]
    off = _eval_sets(model, data["test"][:60], None, None)
    assert "--no-blind" in off["blind"]["skipped"] and "learned" not in off["blind"]
    assert "blind: not scored" in format_metrics(
        {"kind": "k", "n_train": 1, "train_templates": [], "n_test": 0, "test_templates": [], **off}
    )


def test_chinese_prompts_of_unseen_wording_are_classified(model, data):
    """Issue 12 #10: the keyword rules and the old classifier had no Chinese. On Chinese prompts whose templates
    were never trained on, the template-trained classifier (TF-IDF only) must beat the keyword rules clearly."""
    res = evaluate(model, data["test"])["unseen_templates"]
    zh_learned, zh_kw = res["learned"]["zh"]["accuracy"], res["keyword"]["zh"]["accuracy"]
    assert zh_kw < 0.3  # the keyword rules: English regexes
    assert zh_learned >= 0.5 and zh_learned > zh_kw + 0.3
    # with the training-only templates (data/classifier/train_templates.json): 0.83 here; without them 0.77
    assert zh_learned >= 0.78


def test_artifact_round_trip_through_learned_classifier_load(tmp_path):
    m = train_and_evaluate(tmp_path / "clf", None, per_template=4, wild_path=WILD, blind_path=tmp_path / "absent")
    assert "does not exist" in m["blind"]["skipped"] and m["n_train_freeform"] >= 1500
    assert (tmp_path / "clf/text_classifier.joblib").stat().st_size < 5_000_000
    assert (tmp_path / "clf/provenance.json").exists()
    assert set(m["train_templates"]).isdisjoint(m["test_templates"])
    clf = LearnedClassifier.load(tmp_path / "clf", embedder=None)
    assert isinstance(clf, TextTaskClassifier) and isinstance(clf, LearnedClassifier)
    assert clf.predict(["把这句话翻译成法语：我明天去机场。", "Write a Python function that reverses a string."]) == [
        "translation",
        "code",
    ]
    assert "unseen_templates" in format_metrics(m) and "keyword" in format_metrics(m)
    # --score-only: the frozen artifact is scored (no refit) on a blind file; its numbers land in metrics.json
    s = score_artifact(tmp_path / "clf", None, WILD, _write_jsonl(tmp_path / "blind.jsonl", FIXTURE_BLIND))
    assert s["blind"]["learned"]["all"]["n"] == 6 and s["artifact_sha256"] == m["artifact_sha256"]
    assert s["unseen_templates"]["learned"]["all"] == m["unseen_templates"]["learned"]["all"]  # same model, rows
    assert json.loads((tmp_path / "clf/metrics.json").read_text())["blind"]["learned"]["all"]["n"] == 6
    from typer.testing import CliRunner

    from costlab.serving.cli import app

    args = ["train-classifier", "--no-minilm", "--score-only", "--no-blind", "--out", str(tmp_path / "clf")]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0 and "no refit" in r.output and "blind: not scored (disabled: --no-blind)" in r.output
    (tmp_path / "clf/text_classifier.joblib").write_bytes(b"not the artifact")
    with pytest.raises(CostlabError, match="not the artifact"):
        score_artifact(tmp_path / "clf", None, WILD, None)


def test_gateway_routes_a_chinese_prompt_with_the_trained_artifact(tmp_path, make_gateway, fake_state):
    """End to end: router.classifier=learned + the artifact of train-classifier (TF-IDF only: no MiniLM load)."""
    import httpx

    from costlab.serving.embed import HashEmbedder

    train_and_evaluate(tmp_path / "clf", None, per_template=4, freeform=False)
    _, url = make_gateway(
        embedder=HashEmbedder(64), router={"classifier": "learned", "artifact": str(tmp_path / "clf")}
    )
    r = httpx.post(
        url + "/v1/chat/completions",
        json={"model": "auto", "messages": [{"role": "user", "content": "帮我写一段Python代码，统计文件里的单词数"}]},
    )
    assert r.status_code == 200, r.text
    assert r.headers["x-costlab-task-class"] == "code"


def test_cross_validation_never_scores_a_template_it_trained_on(monkeypatch):
    """Settings are chosen by template-grouped CV on training rows (issue 12 #10): in every fold, the held-out
    templates are absent from that fold's training rows, training-only templates are never held out, and the
    test templates never appear at all."""
    import costlab.serving.task_classifier as TC

    rows = D.make_rows(per_template=2, freeform=False, decontaminate=())["train"] + D.freeform_rows()[::8]
    template_of = {r["text"]: r["template"] for r in rows}
    calls: list[tuple[set, set]] = []
    real_fit = TC.fit

    def spy_fit(train_rows, *a, **k):
        m = real_fit(train_rows, *a, **k)
        trained = {r["template"] for r in train_rows}
        real_predict = m.predict

        def predict(texts, vectors=None):
            calls.append((trained, {template_of[t] for t in texts}))
            return real_predict(texts, vectors)

        m.predict = predict
        return m

    monkeypatch.setattr(TC, "fit", spy_fit)
    res = TC.cross_validate(rows, [{"model": "svm", "C": 1.0, "edge_chars": 24}], folds=2, seeds=(0,))
    assert len(calls) == 2
    split = D.template_split()
    for trained, held in calls:
        assert held and not trained & held
        assert not any(t.rsplit("/", 1)[-1].startswith("t") for t in held)  # training-only: always trained on
        assert all(split.get(t, "train") == "train" for t in trained | held)
    acc = res[0]["accuracy"]
    assert 0.3 < acc["all"] <= 1 and set(acc) == {"all", "en", "zh", "mixed", "templates", "freeform"}
