"""Prompt compression on the request path: lossless-ish rewrites that cut input tokens.

If the cost tooling's ``costlab.cost.compress`` is importable the gateway uses it (whitespace, fillers,
de-duplicated instructions, optional history window); otherwise this fallback: collapse runs of whitespace, drop a few filler phrases
("Please could you kindly", "I was wondering if you could") and drop exact duplicate consecutive messages.
It never touches code blocks (``` ... ```), where whitespace matters.
"""

from __future__ import annotations

import re
from typing import Callable

_FILLERS = [
    r"\b(?:could|would|can) you (?:please |kindly )?(?=\w)",
    r"\bI was wondering if you could\s+",
    r"\bplease\s+(?=\w)",
    r"\bkindly\s+(?=\w)",
    r"\bif you don'?t mind,?\s*",
    r"\bthank you( very much)?( in advance)?[.!]?\s*$",
    r"\bthanks( in advance)?[.!]?\s*$",
]
_FILLER_RX = [re.compile(p, re.I) for p in _FILLERS]
_CODE = re.compile(r"```.*?```", re.S)


def _squash(text: str, fillers: bool) -> str:
    parts, last = [], 0
    for m in _CODE.finditer(text):
        parts.append((False, text[last:m.start()]))
        parts.append((True, m.group(0)))
        last = m.end()
    parts.append((False, text[last:]))
    out = []
    for is_code, s in parts:
        if not is_code:
            if fillers:
                for rx in _FILLER_RX:
                    s = rx.sub("", s)
            s = re.sub(r"[ \t]+", " ", s)
            s = re.sub(r"\n\s*\n+", "\n\n", s)
        out.append(s)
    return "".join(out).strip()


def compress_messages(messages: list[dict], fillers: bool = True) -> list[dict]:
    out: list[dict] = []
    for m in messages:
        c = m.get("content")
        if isinstance(c, str):
            m = {**m, "content": _squash(c, fillers and m.get("role") == "user")}
        if out and out[-1] == m:
            continue
        out.append(m)
    return out


def get_compressor(fillers: bool = True, keep_last: int | None = None) -> tuple[str, Callable[[list[dict]], list[dict]]]:
    """The cost tooling's compressor when it is installed (``costlab.cost.compress.compress_messages``
    returns (messages, stats)), else this module's fallback."""
    try:
        from costlab.cost.compress import CompressionConfig, compress_messages as ext  # type: ignore

        cfg = CompressionConfig(fillers=fillers, keep_last=keep_last)
        return "costlab.cost.compress", lambda msgs: ext(msgs, cfg)[0]
    except ImportError:
        return "costlab.serving.compress", lambda msgs: compress_messages(msgs, fillers)
