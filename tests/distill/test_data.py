"""Teacher rows → training examples: EOS only where the teacher stopped by itself."""

import pytest

from costlab.distill.data import build_examples, row_tokens
from costlab.errors import CostlabError

MSG = [{"role": "user", "content": "Name three colours."}]


def _api_row(i, finish):
    return {
        "id": f"a{i}",
        "task_class": "qa",
        "messages": MSG,
        "response": "Red, green and",
        "finish_reason": finish,
        "backend": "openai",
    }


def test_truncated_api_row_gets_no_eos(tokenizer):
    """Regression (issue 10 §3): an API row cut off at max_tokens (finish_reason "length") had EOS appended, which
    teaches the student to stop exactly where the teacher was truncated."""
    eos = tokenizer.eos_token_id
    _, r_len = row_tokens(_api_row(0, "length"), tokenizer)
    _, r_stop = row_tokens(_api_row(1, "stop"), tokenizer)
    assert r_stop[-1] == eos and r_stop[:-1] == r_len  # a finished answer ends with EOS ...
    assert eos not in r_len  # ... a truncated one does not


def test_truncated_rows_policy_keep_or_drop(tokenizer):
    rows = [_api_row(0, "length"), _api_row(1, "stop"), _api_row(2, "length")]
    kept = build_examples(rows, tokenizer, max_seq_len=64, with_topk=False, truncated_rows="keep")
    assert [e["id"] for e in kept] == ["a0", "a1", "a2"]
    assert [e["truncated"] for e in kept] == [True, False, True]
    assert tokenizer.eos_token_id not in kept[0]["labels"] and kept[1]["labels"][-1] == tokenizer.eos_token_id
    dropped = build_examples(rows, tokenizer, max_seq_len=64, with_topk=False, truncated_rows="drop")
    assert [e["id"] for e in dropped] == ["a1"]
    with pytest.raises(CostlabError, match="truncated_rows"):
        build_examples(rows, tokenizer, max_seq_len=64, with_topk=False, truncated_rows="maybe")
    with pytest.raises(CostlabError, match="every teacher row was truncated"):
        build_examples([rows[0]], tokenizer, max_seq_len=64, with_topk=False, truncated_rows="drop")
