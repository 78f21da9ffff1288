"""What a request may cost before it runs (the budget reservation) and what is plausible after (settlement).

Reservation: every part of the request counts — text parts, image parts by OpenAI's documented token formula
(https://platform.openai.com/docs/guides/vision, "Calculating costs": ``detail: low`` = 85 tokens; otherwise
fit in 2048x2048, scale the shortest side to 768, 170 tokens per 512-px tile + 85), other non-text parts and
tool calls by their bytes, and the tool schemas. Text is counted with the model's own tokenizer when it has
one (``serve.tokenizers``, or tiktoken for OpenAI model names); otherwise by UTF-8 bytes, an upper bound for
byte-level BPE tokenizers (every byte is at most one token). ``PromptCount.bound`` is always that byte bound.

Settlement (``plausible_usage``): upstream usage must be non-negative integers; prompt tokens are capped at
min(context, bound) and completion tokens at max_tokens. Anything else bills the reservation instead and is
reported as an alert.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
import struct
from dataclasses import dataclass
from typing import Any, Callable

log = logging.getLogger("costlab.serving")

MSG_OVERHEAD = 8  # role + chat-template markers per message (ChatML: <|im_start|>role\n ... <|im_end|>\n = 5)
REPLY_PRIME = 8  # tokens that open the assistant turn
IMAGE_LOW = 85
IMAGE_TILE = 170


def image_tokens_for(w: int, h: int, detail: str | None) -> int:
    if detail == "low":
        return IMAGE_LOW
    if w <= 0 or h <= 0:
        return image_tokens_max()
    s = min(1.0, 2048 / max(w, h))
    w, h = w * s, h * s
    s = min(1.0, 768 / min(w, h))
    w, h = w * s, h * s
    return IMAGE_LOW + IMAGE_TILE * math.ceil(w / 512) * math.ceil(h / 512)


def image_tokens_max() -> int:
    """The most any image can cost under the formula (shortest side 768, longest 2048: 2 x 4 tiles)."""
    return IMAGE_LOW + IMAGE_TILE * 2 * 4


def image_size(url: str) -> tuple[int, int] | None:
    """Width/height from a data URL's PNG / GIF / JPEG / WebP header (the header only: no image library)."""
    if not url.startswith("data:") or ";base64," not in url[:100]:
        return None
    b64 = url[url.index(";base64,") + 8 :]
    try:
        head = base64.b64decode(b64[: 65536 - 65536 % 4] if len(b64) > 65536 else b64 + "=" * (-len(b64) % 4))
    except (binascii.Error, ValueError):
        return None
    if head[:8] == b"\x89PNG\r\n\x1a\n" and len(head) >= 24:
        return struct.unpack(">II", head[16:24])
    if head[:6] in (b"GIF87a", b"GIF89a") and len(head) >= 10:
        return struct.unpack("<HH", head[6:10])
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP" and len(head) >= 30:
        if head[12:16] == b"VP8X":
            return 1 + int.from_bytes(head[24:27], "little"), 1 + int.from_bytes(head[27:30], "little")
        if head[12:16] == b"VP8 ":
            w, h = struct.unpack("<HH", head[26:30])
            return w & 0x3FFF, h & 0x3FFF
        return None
    if head[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(head):
            if head[i] != 0xFF:
                return None
            marker = head[i + 1]
            seg = struct.unpack(">H", head[i + 2 : i + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
                h, w = struct.unpack(">HH", head[i + 5 : i + 9])
                return w, h
            i += 2 + seg
    return None


def image_tokens(part: dict) -> int:
    img = part.get("image_url") or {}
    detail = img.get("detail")
    if detail == "low":
        return IMAGE_LOW
    size = image_size(str(img.get("url", "")))
    return image_tokens_for(*size, detail) if size else image_tokens_max()


@dataclass
class PromptCount:
    estimate: int  # what the reservation holds (the model's tokenizer when it has one, else = bound)
    bound: int  # byte-level upper bound: the most a plausible upstream may bill
    method: str


def _bytes(s: str) -> int:
    return len(s) if s.isascii() else len(s.encode("utf-8", "replace"))


def count_prompt(
    messages: list[dict], tools: list | None, counter: Callable[[str], int] | None = None, method: str = "bytes"
) -> PromptCount:
    """Tokens of a chat request: see the module docstring. ``counter`` counts a text with the model's tokenizer."""
    texts: list[str] = []
    fixed = REPLY_PRIME
    for m in messages:
        fixed += MSG_OVERHEAD
        c = m.get("content")
        if isinstance(c, str):
            texts.append(c)
        elif isinstance(c, list):
            for p in c:
                t = p.get("type")
                if t == "text":
                    texts.append(p.get("text", ""))
                elif t == "refusal":
                    texts.append(p.get("refusal", ""))
                elif t == "image_url":
                    fixed += image_tokens(p)
                else:  # audio / file / unknown: their bytes (an upper bound for any tokenizer that sees them)
                    texts.append(json.dumps(p, ensure_ascii=False))
        for k in ("tool_calls", "function_call"):
            if m.get(k):
                texts.append(json.dumps(m[k], ensure_ascii=False))
        if m.get("name"):
            texts.append(str(m["name"]))
    if tools:
        texts.append(json.dumps(tools, ensure_ascii=False))
    bound = fixed + sum(_bytes(t) for t in texts)
    if counter is None:
        return PromptCount(bound, bound, "bytes")
    est = fixed + sum(counter(t) for t in texts if t)
    return PromptCount(min(est, bound), bound, method)


class Tokenizers:
    """model name -> a text-token counter, from ``serve.tokenizers`` (HF dir / .gguf / ``tiktoken:<encoding>``;
    key ``_default`` for the rest) or tiktoken for OpenAI model names; None = count bytes."""

    def __init__(self, spec: dict[str, str]):
        self.spec = dict(spec)
        self._cache: dict[str, tuple[Callable[[str], int] | None, str]] = {}

    def get(self, model: str) -> tuple[Callable[[str], int] | None, str]:
        hit = self._cache.get(model)
        if hit is None:
            hit = self._cache[model] = self._load(model)
        return hit

    def _load(self, model: str) -> tuple[Callable[[str], int] | None, str]:
        from costlab.cost.compress import find_tiktoken_file, hf_counter, tiktoken_encoding_for
        from costlab.paths import set_env

        name = self.spec.get(model) or self.spec.get("_default")
        enc_name = name[len("tiktoken:") :] if name and name.startswith("tiktoken:") else None
        if name is None:
            enc_name = tiktoken_encoding_for(model)
        if enc_name:
            f = find_tiktoken_file(enc_name)
            try:
                import tiktoken

                if f is None:
                    raise FileNotFoundError(enc_name)
                set_env("TIKTOKEN_CACHE_DIR", str(f.parent))
                enc = tiktoken.get_encoding(enc_name)
                return (lambda s: len(enc.encode(s, disallowed_special=()))), f"tiktoken:{enc_name}"
            except Exception as e:  # noqa: BLE001
                if name:
                    raise
                log.info("no offline tiktoken %s for %s (%s): counting bytes", enc_name, model, e)
                return None, "bytes"
        if name:
            c = hf_counter(name)
            return c.count, c.name
        return None, "bytes"


def _count(v: Any) -> int | None:
    """A token count as reported: a non-negative finite integer (or integral float), else None."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    if isinstance(v, float) and (not math.isfinite(v) or v != int(v)):
        return None
    return int(v) if v >= 0 else None


def plausible_usage(
    usage: dict | None, prompt: PromptCount, context: int | None, max_out: int, counted_completion: int
) -> tuple[int, int, str, str | None]:
    """(prompt_tokens, completion_tokens, billing, problem). billing: usage | counted | capped | reserved."""
    if usage is None or ("prompt_tokens" not in usage and "completion_tokens" not in usage):
        return prompt.estimate, min(counted_completion, max_out), "counted", None
    pt, ct = (
        _count(usage.get("prompt_tokens", prompt.estimate)),
        _count(usage.get("completion_tokens", counted_completion)),
    )
    if pt is None or ct is None:
        return (
            prompt.estimate,
            max_out,
            "reserved",
            (f"upstream usage is not a non-negative integer ({str(usage)[:120]}): billed the reservation"),
        )
    pt_cap = min(prompt.bound, context) if context else prompt.bound
    if pt > pt_cap or ct > max_out:
        return (
            min(pt, pt_cap),
            min(ct, max_out),
            "capped",
            (
                f"upstream usage {pt}/{ct} tokens exceeds what is plausible ({pt_cap} prompt, {max_out} completion): capped"
            ),
        )
    return pt, ct, "usage", None
