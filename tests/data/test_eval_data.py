"""The eval sets under data/eval/: reproducible, large enough, multiple choice without an answer key built in."""

from __future__ import annotations

import collections
import importlib.util
import json
import math
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EVAL = ROOT / "data" / "eval"
MC_SETS = ["reasoning", "translation", "code"]
K = 4
CHI2_CRIT_DF3_P001 = 11.345  # chi-square critical value, 3 degrees of freedom, p = 0.01
MIN_ITEMS = {"reasoning": 300, "translation": 300, "code": 300, "qa": 100, "formatting": 80, "summarization": 20}


@pytest.fixture(scope="module")
def gen():
    spec = importlib.util.spec_from_file_location("build_eval_data", EVAL / "build_eval_data.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def read(name: str) -> list[dict]:
    return [json.loads(line) for line in (EVAL / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()]


def chi2_uniform(counts: collections.Counter, k: int = K) -> float:
    n = sum(counts.values())
    return sum((counts.get(i, 0) - n / k) ** 2 / (n / k) for i in range(k))


def numeric(choices: list[str]) -> list[float] | None:
    try:
        return [float(c) for c in choices]
    except ValueError:
        return None


def gold_rank(row: dict) -> int | None:
    vals = numeric(row["choices"])
    return None if vals is None else sorted(vals).index(vals[row["gold"]])


# ---------------------------------------------------------------------------------------------- checks (data → problems)
def position_problems(rows: list[dict]) -> list[str]:
    pos = collections.Counter(r["gold"] for r in rows)
    out = []
    if chi2_uniform(pos) > CHI2_CRIT_DF3_P001:
        out.append(f"gold positions not uniform: {dict(pos)} (chi2 {chi2_uniform(pos):.1f})")
    if max(abs(pos.get(i, 0) / len(rows) - 1 / K) for i in range(K)) > 0.03:
        out.append(f"a gold position share is off 1/4 by more than 0.03: {dict(pos)}")
    return out


def rank_problems(rows: list[dict]) -> list[str]:
    num = [r for r in rows if gold_rank(r) is not None]
    if not num:
        return []
    ranks = collections.Counter(gold_rank(r) for r in num)
    out = []
    if chi2_uniform(ranks) > CHI2_CRIT_DF3_P001:
        out.append(f"gold ranks not uniform: {dict(ranks)} (chi2 {chi2_uniform(ranks):.1f})")
    # a model with a fixed number bias (always the smallest, the second smallest, ...) scores chance
    se = math.sqrt(0.25 * 0.75 / len(num))
    for k in range(K):
        acc = ranks.get(k, 0) / len(num)
        if abs(acc - 0.25) > 3 * se:
            out.append(f"'always pick the option of rank {k}' scores {acc:.2f} (chance 0.25)")
    return out


def offset_pattern_problems(rows: list[dict], max_share: float = 0.10) -> list[str]:
    """No fixed distractor pattern (the set of option - gold offsets) covers more than max_share of the items."""
    pats = collections.Counter()
    for r in rows:
        vals = numeric(r["choices"])
        if vals is not None:
            g = vals[r["gold"]]
            pats[tuple(sorted(v - g for i, v in enumerate(vals) if i != r["gold"]))] += 1
    if not pats:
        return []
    pat, n = pats.most_common(1)[0]
    share = n / sum(pats.values())
    return [f"distractor offsets {pat} in {share:.0%} of items"] if share > max_share else []


# ---------------------------------------------------------------------------------------------- tests
def test_generator_reproduces_checked_in_files(gen):
    assert gen.main(["--check"]) == 0, "data/eval is stale: run python data/eval/build_eval_data.py"


@pytest.mark.parametrize("name", sorted(MIN_ITEMS))
def test_sets_are_large_enough_and_ids_unique(name):
    rows = read(name)
    assert len(rows) >= MIN_ITEMS[name], (name, len(rows))
    assert len({r["id"] for r in rows}) == len(rows)


@pytest.mark.parametrize("name", MC_SETS)
def test_mc_items_are_well_formed(name):
    for r in read(name):
        assert len(r["choices"]) == K and len(set(r["choices"])) == K, r["id"]
        assert 0 <= r["gold"] < K, r["id"]
        if r.get("gold_rank") is not None:
            assert gold_rank(r) == r["gold_rank"], r["id"]


@pytest.mark.parametrize("name", MC_SETS)
def test_gold_position_is_balanced(name):
    rows = read(name)
    assert position_problems(rows) == []
    # the file is balanced in blocks, so the first items (eval.quality.limit) are balanced too
    head = rows[:64]
    assert (
        max(collections.Counter(r["gold"] for r in head).values())
        - min(collections.Counter(r["gold"] for r in head).values())
        <= 4
    )


@pytest.mark.parametrize("name", ["reasoning", "code"])
def test_gold_rank_is_balanced_and_no_number_bias_wins(name):
    rows = read(name)
    assert sum(gold_rank(r) is not None for r in rows) >= 150
    assert rank_problems(rows) == []


@pytest.mark.parametrize("name", ["reasoning", "code"])
def test_distractors_follow_no_fixed_offset_pattern(name):
    assert offset_pattern_problems(read(name)) == []


def test_the_old_answer_key_would_be_caught():
    """The pre-issue-9 reasoning set: options ans-1, ans, ans+1, ans+3 — gold always the 2nd smallest."""
    old = [{"choices": [str(a - 1), str(a), str(a + 1), str(a + 3)], "gold": 1} for a in range(5, 25)]
    for r in old[::2]:  # shuffled positions do not hide it
        r["choices"] = r["choices"][::-1]
        r["gold"] = 2
    assert rank_problems(old) and offset_pattern_problems(old)


def test_code_golds_are_computed():
    for r in read("code"):
        assert r["choices"][r["gold"]] == repr(eval(r["expression"])), r["id"]  # noqa: S307 - our own data
        for i, c in enumerate(r["choices"]):
            if i != r["gold"]:
                assert c != repr(eval(r["expression"])), r["id"]  # noqa: S307


def test_translation_distractors_are_same_category_same_language(gen):
    langs = gen.LANGS
    for r in read("translation"):
        words = gen.VOCAB[r["category"]]
        if r["language"] == "English":
            pool = set(words)
        else:
            li = langs.index(r["language"])
            pool = {t[li] for t in words.values()}
        assert set(r["choices"]) <= pool, r["id"]
    kinds = collections.Counter((r["source_language"] == "English") for r in read("translation"))
    assert min(kinds.values()) > 100  # both directions


def test_generation_sets_mix_their_kinds_in_any_prefix():
    for name in ("qa", "formatting"):
        head = read(name)[:20]
        assert len({r["kind"] for r in head}) >= 4, name
