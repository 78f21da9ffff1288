"""Every eval task says its chance score (metadata.chance) and cost class (metadata.kind), and the number holds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TASKS = sorted((ROOT / "configs/eval/tasks").glob("*.yaml"))


def _cfg(path: Path) -> dict:
    from costlab.eval.quality import load_task_config

    return load_task_config(path)


def _rows(cfg: dict) -> list[dict]:
    files = (cfg.get("dataset_kwargs") or {}).get("data_files") or {}
    path = Path(next(iter(files.values())))
    if path.suffix == ".jsonl":
        return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    return []


@pytest.mark.parametrize("path", TASKS, ids=lambda p: p.stem)
def test_task_declares_chance_and_kind(path):
    meta = _cfg(path).get("metadata") or {}
    assert meta.get("kind") in ("loglik", "generate"), f"{path.name}: metadata.kind must be loglik | generate"
    assert isinstance(meta.get("chance"), float) and 0 <= meta["chance"] < 1, f"{path.name}: metadata.chance"
    assert meta.get("chance_basis"), f"{path.name}: say where the chance number comes from"


@pytest.mark.parametrize("path", TASKS, ids=lambda p: p.stem)
def test_multiple_choice_chance_is_one_over_k(path):
    cfg = _cfg(path)
    if cfg["output_type"] != "multiple_choice":
        pytest.skip("generation task")
    assert cfg["metadata"]["kind"] == "loglik"
    ks = {len(r["choices"]) for r in _rows(cfg)}
    assert len(ks) == 1, f"{path.name}: items with different numbers of options: {ks}"
    assert cfg["metadata"]["chance"] == pytest.approx(1 / ks.pop())


def test_generation_chance_is_at_least_the_trivial_baseline():
    from costlab.eval.scoring import check_format, contains_answer, unigram_f1

    by_task = {p.stem: _cfg(p) for p in TASKS}
    qa = _rows(by_task["costlab_qa"])
    echo_qa = sum(contains_answer(r["question"], r["answers"]) for r in qa) / len(qa)
    fmt = _rows(by_task["costlab_formatting"])
    echo_fmt = sum(check_format(r["instruction"], r["check"], r["answer"]) for r in fmt) / len(fmt)
    summ = _rows(by_task["costlab_summarization"])
    lead1 = sum(unigram_f1(r["passage"].split(". ")[0] + ".", r["summary"]) for r in summ) / len(summ)
    assert by_task["costlab_qa"]["metadata"]["chance"] >= echo_qa
    assert by_task["costlab_formatting"]["metadata"]["chance"] >= echo_fmt
    # summarization: a summarizer that copies the first sentence is the floor, not 0
    assert by_task["costlab_summarization"]["metadata"]["chance"] == pytest.approx(lead1, abs=1e-4)
    assert lead1 > 0.2
