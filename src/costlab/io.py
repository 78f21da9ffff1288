"""File I/O that survives crashes: atomic writes, append-only resumable JSONL, validated reads."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable, Iterator

from costlab.errors import CostlabError


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` so that readers see either the old file or the whole new one, never a torn one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")


def read_json(path: str | os.PathLike) -> Any:
    path = Path(path)
    if not path.exists():
        raise CostlabError(f"{path}: file not found")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise CostlabError(f"{path}: not valid JSON ({e})", "re-create the file or remove it") from e


def iter_jsonl(path: str | os.PathLike, required: Iterable[str] = (), numbered: bool = False) -> Iterator[Any]:
    """Yield JSON objects from a JSONL file (``(lineno, row)`` pairs if ``numbered``); a malformed line or a
    missing key is a clear error naming the file and line."""
    path = Path(path)
    if not path.exists():
        raise CostlabError(f"{path}: file not found", "check the path in your config (data.*/paths.*)")
    required = tuple(required)
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise CostlabError(f"{path}:{lineno}: malformed JSON ({e.msg})", "fix or delete that line") from e
            if not isinstance(row, dict):
                raise CostlabError(f"{path}:{lineno}: expected a JSON object, got {type(row).__name__}")
            missing = [k for k in required if k not in row]
            if missing:
                raise CostlabError(f"{path}:{lineno}: missing key(s) {missing}", f"every row needs {list(required)}")
            yield (lineno, row) if numbered else row


def read_jsonl(path: str | os.PathLike, required: Iterable[str] = (), allow_empty: bool = False) -> list[dict]:
    rows = list(iter_jsonl(path, required))
    if not rows and not allow_empty:
        raise CostlabError(f"{path}: no rows", "the file is empty; point the config at a JSONL with data")
    return rows


class ResumableJsonl:
    """Append-only JSONL keyed by an id field.

    On open, a torn last line (crash mid-write) is truncated away so its row is redone; ``done`` holds the ids
    already written. Each ``append`` flushes and fsyncs, so a crash loses at most the row being written.
    """

    def __init__(self, path: str | os.PathLike, id_key: str = "id"):
        self.path = Path(path)
        self.id_key = id_key
        self.done: set[str] = set()
        self.repaired_bytes = 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            self._recover()
        self._f = self.path.open("a", encoding="utf-8")

    def _recover(self) -> None:
        data = self.path.read_bytes()
        good_end = 0
        pos = 0
        while pos < len(data):
            nl = data.find(b"\n", pos)
            if nl == -1:  # last line without newline: torn
                break
            line = data[pos:nl]
            try:
                row = json.loads(line) if line.strip() else None
            except json.JSONDecodeError:
                break  # torn/corrupt line: drop it and everything after
            if row is not None:
                self.done.add(str(row[self.id_key]))
            pos = good_end = nl + 1
        if good_end < len(data):
            self.repaired_bytes = len(data) - good_end
            with self.path.open("r+b") as f:
                f.truncate(good_end)

    def append(self, row: dict) -> None:
        self._f.write(json.dumps(row, ensure_ascii=False) + "\n")
        self._f.flush()
        os.fsync(self._f.fileno())
        self.done.add(str(row[self.id_key]))

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> ResumableJsonl:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
