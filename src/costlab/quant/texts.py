"""Held-out text for the sanity perplexity and calibration text for GPTQ/AWQ/imatrix, from the run's own data.

A row is a teacher-data row (``messages`` + ``response``) or a prompt row (``messages``); ``text`` / ``prompt``
strings are accepted too. Messages are joined as plain text (role names dropped): the sanity check needs the
same text for every variant, not a chat rendering.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from costlab.errors import CostlabError
from costlab.io import iter_jsonl


def row_text(row: dict[str, Any]) -> str:
    parts: list[str] = []
    msgs = row.get("messages")
    if isinstance(msgs, list):
        for m in msgs:
            if isinstance(m, dict) and isinstance(m.get("content"), str):
                parts.append(m["content"])
    for k in ("prompt", "text", "response"):
        if isinstance(row.get(k), str):
            parts.append(row[k])
    return "\n".join(p.strip() for p in parts if p and p.strip())


def first_existing(paths: Iterable[str | Path | None]) -> Path | None:
    for p in paths:
        if p and Path(str(p)).is_file():
            return Path(str(p))
    return None


def load_texts(path: Path, limit: int | None = None) -> list[str]:
    out = []
    for row in iter_jsonl(path):
        t = row_text(row)
        if t:
            out.append(t)
        if limit is not None and len(out) >= limit:
            break
    return out


def heldout_ids(tokenizer, paths: Iterable[str | Path | None], max_tokens: int) -> tuple[list[int], str]:
    """Token ids of the first ``max_tokens`` tokens of held-out text (rows joined by blank lines)."""
    path = first_existing(paths)
    if path is None:
        raise CostlabError(
            f"no held-out text for the sanity check (looked at {[str(p) for p in paths if p]})",
            "run the generate_teacher stage first or set quant.sanity.heldout_paths",
        )
    ids: list[int] = []
    for t in load_texts(path):
        ids.extend(tokenizer(t + "\n\n", add_special_tokens=False)["input_ids"])
        if len(ids) >= max_tokens:
            break
    if len(ids) < 16:
        raise CostlabError(f"{path}: only {len(ids)} held-out tokens", "need at least 16; add rows to that file")
    return ids[:max_tokens], str(path)


def calibration_texts(
    paths: Iterable[str | Path | None], n_samples: int, tokenizer=None, min_tokens: int = 0
) -> tuple[list[str], str | None]:
    """Up to ``n_samples`` calibration texts; rows shorter than ``min_tokens`` tokens are skipped.

    Returns ([], None) when no file exists: the caller fails the variants that need calibration.
    """
    path = first_existing(paths)
    if path is None:
        return [], None
    out = []
    for t in load_texts(path):
        if min_tokens and tokenizer is not None and len(tokenizer(t)["input_ids"]) < min_tokens:
            continue
        out.append(t)
        if len(out) >= n_samples:
            break
    return out, str(path)
