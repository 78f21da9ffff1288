"""Prompts JSONL: one object per line with ``id``, ``messages`` (chat) or ``prompt`` (text), ``task_class``."""

from __future__ import annotations

from pathlib import Path

from costlab.errors import CostlabError
from costlab.io import iter_jsonl

ROLES = {"system", "user", "assistant"}


def normalize_prompt(row: dict, where: str) -> dict:
    if "messages" in row:
        msgs = row["messages"]
        if (
            not isinstance(msgs, list)
            or not msgs
            or not all(
                isinstance(m, dict) and m.get("role") in ROLES and isinstance(m.get("content"), str) for m in msgs
            )
        ):
            raise CostlabError(
                f"{where}: 'messages' must be a non-empty list of {{role, content}} with role in {sorted(ROLES)}"
            )
    elif isinstance(row.get("prompt"), str) and row["prompt"].strip():
        msgs = [{"role": "user", "content": row["prompt"]}]
    else:
        raise CostlabError(f"{where}: row has neither 'messages' nor a non-empty 'prompt'", "add one of them")
    return {
        "id": str(row["id"]),
        "task_class": str(row.get("task_class", "general")),
        "messages": msgs,
        **({"reference": row["reference"]} if "reference" in row else {}),
    }


def load_prompts(path: str | Path, limit: int | None = None) -> list[dict]:
    """Read and validate a prompts file (first ``limit`` rows). Duplicate ids and empty files are errors."""
    rows, seen = [], set()
    for i, row in enumerate(iter_jsonl(path, required=("id",)), 1):
        p = normalize_prompt(row, f"{path}: row {i} (id={row.get('id')!r})")
        if p["id"] in seen:
            raise CostlabError(f"{path}: duplicate id {p['id']!r}", "ids must be unique within a prompts file")
        seen.add(p["id"])
        rows.append(p)
        if limit is not None and len(rows) >= limit:
            break
    if not rows:
        raise CostlabError(f"{path}: no prompts", "the prompts file is empty; fill it or point data.* at another file")
    return rows
