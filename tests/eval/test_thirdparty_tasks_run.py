"""HumanEval and the IFEval-verifier task run end to end through lm-eval from the packaged data, offline, at a tiny
limit: a tiny random model generates, the sandboxed executor / the if-verifiable checkers score, and the per-class
record the evaluate stage stores comes out with n, per-item scores and the task's chance score."""

from __future__ import annotations

import pytest

from costlab.eval.quality import load_task_config, run_quality
from costlab.paths import CONFIG_DIR
from tests.eval.eval_helpers import tiny_model_dir

TASKS = {"code_exec": "costlab_humaneval", "ifeval": "costlab_ifeval"}


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory):
    from lm_eval.models.huggingface import HFLM

    from costlab.models import load_causal_lm, load_tokenizer

    path = tiny_model_dir(tmp_path_factory.mktemp("tiny"), seed=0)
    model = load_causal_lm(str(path), dtype="float32", device="cpu")
    return HFLM(pretrained=model, tokenizer=load_tokenizer(str(path)), batch_size=2, max_length=512)


def test_humaneval_and_ifeval_tasks_run_offline_at_a_tiny_limit(tiny_lm):
    tasks_dir = CONFIG_DIR / "eval" / "tasks"
    qcfg = {
        "tasks_dir": str(tasks_dir),
        "tasks": TASKS,
        "limit": 2,
        "class_limits": None,
        "apply_chat_template": True,
    }
    summary, samples = run_quality(tiny_lm, qcfg, seed=0)
    assert set(summary) == set(TASKS)
    for cls, task in TASKS.items():
        rec = summary[cls]
        meta = load_task_config(tasks_dir / f"{task}.yaml")["metadata"]
        assert rec["n"] == 2 and len(rec["item_ids"]) == 2 and len(rec["item_scores"]) == 2
        assert all(0.0 <= s <= 1.0 for s in rec["item_scores"])
        assert rec["chance"] == pytest.approx(float(meta["chance"]))
    # a random 32-wide model writes no working Python: the executor must have run and failed every candidate
    assert summary["code_exec"]["item_scores"] == [0.0, 0.0]
    assert len(samples) == 4
