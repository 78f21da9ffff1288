"""Held-out and calibration text: which file, which rows, how many tokens."""

from __future__ import annotations

import json

import pytest

from costlab.errors import CostlabError
from costlab.quant.texts import calibration_texts, heldout_ids, row_text


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_row_text_joins_messages_and_response():
    row = {
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Capital of France?"}],
        "response": "Paris.",
        "id": "x",
    }
    assert row_text(row) == "Be brief.\nCapital of France?\nParis."
    assert row_text({"prompt": "Hi"}) == "Hi" and row_text({"id": 1}) == ""


def test_heldout_falls_back_to_the_next_file_and_truncates(tmp_path, tokenizer):
    second = _jsonl(tmp_path / "prompts.jsonl", [{"messages": [{"role": "user", "content": "word " * 50}]}] * 3)
    ids, src = heldout_ids(tokenizer, [tmp_path / "missing.jsonl", second], max_tokens=64)
    assert src == str(second) and len(ids) == 64
    with pytest.raises(CostlabError, match="no held-out text"):
        heldout_ids(tokenizer, [tmp_path / "missing.jsonl"], 64)
    short = _jsonl(tmp_path / "short.jsonl", [{"prompt": "Hi"}])
    with pytest.raises(CostlabError, match=r"only \d held-out tokens"):
        heldout_ids(tokenizer, [short], 64)


def test_calibration_skips_short_rows_and_caps_count(tmp_path, tokenizer):
    f = _jsonl(
        tmp_path / "train.jsonl",
        [{"prompt": "short"}] + [{"prompt": f"a long enough row number {i} " * 4} for i in range(10)],
    )
    texts, src = calibration_texts([f], n_samples=3, tokenizer=tokenizer, min_tokens=8)
    assert len(texts) == 3 and all(len(tokenizer(t)["input_ids"]) >= 8 for t in texts) and src == str(f)
    assert calibration_texts([tmp_path / "none.jsonl"], 3) == ([], None)
