"""Eval sets and held-out texts never overlap what the pipeline trains or calibrates on (costlab.data.decontam)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from costlab.data import decontam as dc

ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------------------------------------- the rules
def test_normalize_folds_case_unicode_punctuation_and_numbers():
    assert dc.normalize("  Ｔhe  cat's 12 ＡＰＰＬＥＳ,  3.5 kg!") == [
        "the",
        "cat",
        "s",
        "<n>",
        "apples",
        "<n>",
        "<n>",
        "kg",
    ]
    assert dc.normalize("Tom has 3 apples") == dc.normalize("tom HAS 17 apples.")
    assert dc.normalize("Tom has 3 apples", mask_numbers=False) == ["tom", "has", "3", "apples"]


def _index(*rows: tuple[str, str]) -> dc.TrainingIndex:
    return dc.TrainingIndex.build([(f"train:{i}", f"{q}\n{ref}", f"g{i}") for i, (q, ref) in enumerate(rows)])


@pytest.mark.parametrize(
    "probe, answers, train, rule",
    [
        # the leaks the issue found (eval item vs a training row), one per rule
        (
            "How many legs does a spider have?",
            ("8", "eight"),
            ("Trivia: How many legs does a spider have?", "Eight"),
            "whole",
        ),
        (
            "What gas do plants take in from the air?",
            ("carbon dioxide",),
            ("What gas do plants take in from the air to make food?", "Carbon dioxide"),
            "ngram",
        ),
        (
            "Who wrote the play Romeo and Juliet?",
            ("Shakespeare",),
            ("Who wrote Romeo and Juliet?", "William Shakespeare"),
            "answer",
        ),
        ("Good morning", ("Bonjour",), ("Translate to French: Good morning.", "Bonjour."), "whole"),
        # same reasoning schema with other numbers
        (
            "Tom has 3 apples and buys 2 more. How many apples does he have now?",
            ("5",),
            ("Help me: Tom has 7 apples and buys 4 more. How many apples does he have?", "11"),
            "ngram",
        ),
    ],
)
def test_known_leaks_are_caught(probe, answers, train, rule):
    hits = _index(train).check(dc.Probe("eval-1", probe, answers))
    assert rule in {h.rule for h in hits}, hits


@pytest.mark.parametrize(
    "probe, answers, train",
    [
        (
            "What is the capital of Japan?",
            ("Tokyo",),
            ("What is the capital of France?", "Paris"),
        ),  # template, other fact
        ("Thank you", ("Danke",), ("Translate to Spanish: Thank you very much.", "Muchas gracias.")),  # longer sentence
        (
            "A baker sells 12 loaves a day. How many loaves in a week?",
            ("84",),
            ("Maria sells 12 cakes and buys 3 more. How many does she have?", "15"),
        ),  # numbers alone
    ],
)
def test_different_items_are_not_flagged(probe, answers, train):
    assert _index(train).check(dc.Probe("eval-1", probe, answers)) == []


def test_a_template_shared_by_several_training_items_is_not_evidence():
    idx = dc.TrainingIndex.build(
        [
            ("t:1", "Give a short summary of the following text: the bakery sold out of bread by noon today.", "a"),
            ("t:2", "Give a short summary of the following text: the river flooded the lower town last week.", "b"),
        ]
    )
    probe = dc.Probe("h:1", "Give a short summary of the following text: a new bridge opened over the canal.")
    assert idx.check(probe) == []
    # ... but the same content under another phrasing is
    same = dc.Probe("h:2", "Summarize: the bakery sold out of bread by noon today.")
    assert [h.rule for h in idx.check(same)] == ["ngram"]


# ---------------------------------------------------------------------------------------------- the repo's data
class _TagTolerantLoader(yaml.SafeLoader):
    """lm-eval task YAMLs use ``!function``; the value does not matter here."""


_TagTolerantLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def test_training_sources_cover_every_train_and_calibration_input_in_configs():
    """Every path a config trains or calibrates on is a training source (or derived from one): a new
    calibration text added to configs/ without adding it to decontam.TRAINING_SOURCES fails here."""
    allowed = {f"${{paths.data_dir}}/{Path(p).relative_to('data')}" for p in dc.TRAINING_SOURCES}
    derived = {"${paths.run_dir}/teacher_data/train.jsonl"}  # teacher responses to the training prompts
    found = []
    for path in sorted((ROOT / "configs").rglob("*.yaml")):
        cfg = yaml.load(path.read_text(), Loader=_TagTolerantLoader) or {}
        if not isinstance(cfg, dict):
            continue
        if "train_file" in cfg:
            found.append((path, cfg["train_file"]))
        cal = cfg.get("calibration")
        if isinstance(cal, dict):
            for p in cal.get("paths") or []:
                found.append((path, p))
    assert found, "no train_file / calibration.paths found in configs/: the test is looking in the wrong place"
    for path, value in found:
        assert value in allowed | derived, f"{path.relative_to(ROOT)}: {value} is trained/calibrated on but not checked"
    # the student's pruning calibration reads the train split of the teacher data (the same derived file)
    src = (ROOT / "src/costlab/quant/texts.py").read_text()
    assert "calibration_texts" in src


def test_no_eval_item_or_heldout_text_overlaps_training_or_calibration_text():
    res = dc.check_repo(ROOT)
    assert any(k.startswith("data/eval/") for k in res), "no eval set was checked"
    assert "data/prompts/heldout.jsonl" in res
    bad = {k: sorted({str(h) for h in v})[:5] for k, v in res.items() if v}
    assert not bad, f"contaminated items (first 5 per file): {bad}"


def test_every_eval_item_yields_a_probe():
    for path in dc.eval_files(ROOT):
        rows = dc._jsonl(path)
        probes = dc.file_probes(path, ROOT)
        assert {p.item_id.rsplit(":", 1)[1] for p in probes} == {r["id"] for r in rows}, path.name


def test_heldout_general_text_is_checked():
    path = ROOT / "data/text/heldout_general.txt"
    assert path.is_file()
    assert "data/text/heldout_general.txt" in dc.check_repo(ROOT)
    assert len(re.findall(r"\w+", path.read_text())) >= 2000
