"""The healing report: general-text fidelity, task quality before/after KD, the unpruned control, intervals."""

import pytest

from costlab.distill import healing
from costlab.errors import CostlabError
from costlab.io import read_json
from costlab.pipeline import open_run, run_stage
from tests.distill.test_train import HEALING_SMALL


def test_text_sequences_window_and_budget(tokenizer, tmp_path):
    f = tmp_path / "general.txt"
    f.write_text("The quick brown fox jumps over the lazy dog. " * 40)
    seqs = healing.text_sequences(f, tokenizer, seq_len=16, max_tokens=50)
    assert sum(len(s["input_ids"]) - s["start"] for s in seqs) == 50  # exactly the scored-token budget
    assert all(len(s["input_ids"]) <= 16 and s["start"] == 1 for s in seqs)
    with pytest.raises(CostlabError, match="distill.healing.general_text"):
        healing.text_sequences(tmp_path / "missing.txt", tokenizer, 16, 50)


def _items(scores, chance=0.25):
    return {
        "task": "t",
        "metric": "acc",
        "n": len(scores),
        "item_ids": [str(i) for i in range(len(scores))],
        "item_scores": [float(x) for x in scores],
        "item_chance": [chance] * len(scores),
    }


def test_task_quality_is_chance_normalized_with_paired_change():
    before = [0, 0, 1, 0] * 10  # acc 0.25 = chance → normalized 0
    after = [1, 0, 1, 0] * 10  # acc 0.5 → (0.5 - 0.25) / 0.75 = 1/3
    t = healing.task_quality_table(
        {"teacher": {"r": _items([1] * 40)}, "before": {"r": _items(before)}, "after": {"r": _items(after)}},
        n_boot=500,
        confidence=0.95,
        seed=0,
    )["r"]
    assert t["n"] == 40 and t["chance"] == 0.25
    assert t["before"]["score"] == pytest.approx(0.0) and t["after"]["score"] == pytest.approx(1 / 3)
    assert t["teacher"]["score"] == pytest.approx(1.0)
    d = t["after_minus_before"]
    assert d["delta"] == pytest.approx(1 / 3) and d["delta_lo"] > 0 and d["test"] == "exact McNemar"
    assert d["p_value"] < 0.01  # 10 items flipped right, none flipped wrong
    assert t["after"]["score_lo"] < 1 / 3 < t["after"]["score_hi"]
    with pytest.raises(CostlabError, match="other items"):
        bad = _items(after)
        bad["item_ids"] = bad["item_ids"][::-1]
        healing.task_quality_table(
            {"before": {"r": _items(before)}, "after": {"r": bad}}, n_boot=10, confidence=0.95, seed=0
        )


def test_healing_report_with_unpruned_control(compose, tiny_run_overrides, tmp_path):
    text = tmp_path / "heldout_general.txt"
    text.write_text("Rivers carry water from the hills down to the sea, and towns grow along their banks. " * 30)
    cfg = compose(
        tiny_run_overrides
        + HEALING_SMALL
        + ["distill.control=true", f"distill.healing.general_text={text}", "distill.trainer.max_steps=3"]
    )
    run_dir = open_run(cfg)
    run_stage(cfg, run_dir, "generate_teacher")
    m = run_stage(cfg, run_dir, "train_student")
    h = read_json(run_dir / "student" / "healing.json")
    assert h["control"]["global_step"] == h["global_step"] == 3  # same recipe, same number of steps
    assert m["control_train_seconds"] > 0 and m["control_measure_seconds"] > 0
    for block in ("heldout_teacher_responses", "general_text"):
        b = h[block]
        assert set(b) == {"teacher", "before", "after", "control_after"}
        assert b["control_after"]["kl_dense"] > 0  # the control moved away from the teacher by training
        assert b["teacher"]["ppl_lo"] <= b["teacher"]["ppl"] <= b["teacher"]["ppl_hi"]
    assert h["general_text_source"] == str(text)
    tq = h["task_quality"]["reasoning"]
    assert tq["n"] == 3 and tq["chance"] == pytest.approx(0.25)
    for k in ("teacher", "before", "after", "control_after"):
        assert tq[k]["score_lo"] <= tq[k]["score"] <= tq[k]["score_hi"]
    assert {"after_minus_before", "control_after_minus_teacher"} <= set(tq)
    txt = (run_dir / "student" / "healing.txt").read_text()
    assert "control: teacher after the same KD" in txt and "kl_dense" in txt and "general text" in txt
    assert not (run_dir / "student" / "checkpoints_control").exists()


def test_task_quality_flags_a_reference_at_chance():
    at_chance = [1, 0, 0, 0] * 10  # acc 0.25 on 4-way items
    t = healing.task_quality_table(
        {"teacher": {"r": _items(at_chance)}, "before": {"r": _items(at_chance)}, "after": {"r": _items(at_chance)}},
        n_boot=100,
        confidence=0.95,
        seed=0,
    )
    assert t["r"]["teacher_above_chance"]["measurable"] is False
    txt = healing.healing_text({"task_quality": t, "student_params": 1e6, "teacher_params": 2e6})
    assert "not measurable with this reference" in txt
