"""Teacher JSONL → training examples (prompt + teacher response tokens, prompt masked out of the loss)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from costlab.errors import CostlabError
from costlab.io import read_jsonl
from costlab.teacher import codec

IGNORE = -100
TRUNCATED_POLICIES = ("keep", "drop")


def is_truncated(row: dict) -> bool:
    """The teacher was cut off (max tokens) instead of stopping by itself: the row must not end with EOS."""
    return bool(row.get("truncated", row.get("finish_reason") == "length"))


def load_teacher_rows(path: str | Path) -> list[dict]:
    rows = read_jsonl(path, required=("id", "response"))
    return rows


def row_tokens(row: dict, tokenizer) -> tuple[list[int], list[int]]:
    """(prompt ids, response ids). Local-backend rows carry exact ids (EOS included only if generated); API rows
    are re-tokenized and get EOS appended only when the endpoint says the teacher stopped (finish_reason != "length")."""
    if "prompt_ids" in row and "response_ids" in row:
        return codec.decode(row["prompt_ids"]).tolist(), codec.decode(row["response_ids"]).tolist()
    p = list(
        tokenizer.apply_chat_template(row["messages"], add_generation_prompt=True, tokenize=True, return_dict=True)[
            "input_ids"
        ]
    )
    r = list(tokenizer(row["response"], add_special_tokens=False)["input_ids"])
    if not is_truncated(row):
        r.append(tokenizer.eos_token_id)
    return p, r


def build_examples(rows: list[dict], tokenizer, max_seq_len: int, with_topk: bool, truncated_rows: str) -> list[dict]:
    """Examples with input_ids, labels (−100 on the prompt) and, if asked, the teacher top-k per input position.

    ``truncated_rows`` (teacher_data.truncated_rows): rows the teacher did not finish (finish_reason "length") are
    kept without EOS and flagged (``keep``) or left out (``drop``).

    Teacher top-k for response token j (its distribution given the prefix) sits at input position P + j − 1, the
    position whose logits predict it, matching KDLoss's shift.
    """
    if truncated_rows not in TRUNCATED_POLICIES:
        raise CostlabError(f"teacher_data.truncated_rows={truncated_rows!r}", f"use one of {list(TRUNCATED_POLICIES)}")
    out = []
    n_trunc = 0
    for row in rows:
        trunc = is_truncated(row)
        n_trunc += trunc
        if trunc and truncated_rows == "drop":
            continue
        p, r = row_tokens(row, tokenizer)
        ids = (p + r)[:max_seq_len]
        if len(p) >= len(ids):  # prompt alone fills the window: nothing to learn from this row
            continue
        labels = [IGNORE] * len(p) + r
        labels = labels[: len(ids)]
        ex = {"input_ids": ids, "labels": labels, "id": row["id"], "truncated": trunc}
        if with_topk:
            tk = row.get("topk") or {}
            if "ids" not in tk:
                raise CostlabError(
                    f"teacher row {row['id']!r} has no top-k token ids (backend {row.get('backend')})",
                    "offline top-k KD needs teacher data from the local hf backend; use "
                    "distill.teacher_signal=online or none",
                )
            k = int(tk["k"])
            tid = np.zeros((len(ids), k), dtype=np.int64)
            tlp = np.full((len(ids), k), -1e4, dtype=np.float32)  # positions without a signal are masked by labels
            rid, rlp = codec.decode(tk["ids"]), codec.decode(tk["logprobs"])
            n = min(len(r), len(ids) - len(p))
            tid[len(p) - 1 : len(p) - 1 + n] = rid[:n]
            tlp[len(p) - 1 : len(p) - 1 + n] = rlp[:n]
            ex["topk_ids"], ex["topk_logprobs"], ex["topk_temperature"] = tid, tlp, float(tk["temperature"])
        out.append(ex)
    if not out and rows and n_trunc == len(rows) and truncated_rows == "drop":
        raise CostlabError(
            f"every teacher row was truncated ({n_trunc} rows hit teacher_data.max_new_tokens) and "
            "teacher_data.truncated_rows=drop left none",
            "raise teacher_data.max_new_tokens and regenerate, or set teacher_data.truncated_rows=keep",
        )
    if not out:
        raise CostlabError(
            "no usable training examples (every prompt filled distill.max_seq_len)",
            "raise distill.max_seq_len or use shorter prompts",
        )
    return out


class Collator:
    def __init__(self, pad_id: int):
        self.pad_id = pad_id

    def __call__(self, batch: list[dict]) -> dict:
        L = max(len(b["input_ids"]) for b in batch)
        B = len(batch)
        ids = torch.full((B, L), self.pad_id, dtype=torch.long)
        lab = torch.full((B, L), IGNORE, dtype=torch.long)
        att = torch.zeros((B, L), dtype=torch.long)
        for i, b in enumerate(batch):
            n = len(b["input_ids"])
            ids[i, :n] = torch.tensor(b["input_ids"])
            lab[i, :n] = torch.tensor(b["labels"])
            att[i, :n] = 1
        out = {"input_ids": ids, "attention_mask": att, "labels": lab}
        if "topk_ids" in batch[0]:
            k = batch[0]["topk_ids"].shape[1]
            tid = torch.zeros((B, L, k), dtype=torch.long)
            tlp = torch.full((B, L, k), -1e4)
            for i, b in enumerate(batch):
                n = len(b["input_ids"])
                tid[i, :n] = torch.from_numpy(b["topk_ids"])
                tlp[i, :n] = torch.from_numpy(b["topk_logprobs"])
            out["topk_ids"], out["topk_logprobs"] = tid, tlp
        return out
