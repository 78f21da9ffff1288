"""Per-request state and the OpenAI-shaped bodies the gateway sends: chat.completion (JSON), chat.completion.chunk
(SSE), usage with the ``costlab`` block, the x-costlab-* headers. The upstream's deltas are relayed as they come
(content, tool_calls, refusal, logprobs) and merged for JSON responses and the cache.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi.responses import StreamingResponse

from costlab.serving.accounting import PromptCount
from costlab.serving.auth import KeyInfo
from costlab.serving.budgets import Reservation
from costlab.serving.router import Decision
from costlab.serving.upstream import StreamBroken


@dataclass
class Ctx:
    rid: str
    t0: float
    deadline: float
    key: KeyInfo
    requested_model: str
    priority: str | None
    messages: list[dict]
    forward: dict  # parameters sent upstream besides model/messages/stream/max_tokens
    stream: bool
    include_usage: bool
    max_out: int
    cacheable: bool
    exact_key: str | None = None
    sem_scope: str | None = None
    sem_vec: Any = None
    sem_text: str | None = None
    decision: Decision | None = None
    reservation: Reservation | None = None
    prompt: PromptCount | None = None
    downgraded_from: str | None = None
    # filled while streaming
    content: list[str] = field(default_factory=list)
    refusal: list[str] = field(default_factory=list)
    tool_calls: dict[int, dict] = field(default_factory=dict)
    logprobs: list[dict] = field(default_factory=list)
    completion_tokens: int = 0
    prompt_tokens: int | None = None
    upstream_usage: dict | None = None
    finish_reason: str | None = None
    ttft: float | None = None
    capped: bool = False  # the gateway cut the upstream at max_out (it ignored max_tokens)
    done: bool = False
    cost: float = 0.0
    billing: str = "none"

    @property
    def model(self) -> str:
        return self.decision.model if self.decision else self.requested_model

    @property
    def generated(self) -> bool:
        return bool(self.content or self.tool_calls or self.refusal)

    def message(self) -> dict:
        msg: dict[str, Any] = {
            "role": "assistant",
            "content": "".join(self.content) if self.content or not self.tool_calls else None,
        }
        if self.tool_calls:
            msg["tool_calls"] = [self.tool_calls[i] for i in sorted(self.tool_calls)]
        if self.refusal:
            msg["refusal"] = "".join(self.refusal)
        return msg


def malformed(model: str, what: str) -> StreamBroken:
    return StreamBroken(f"upstream {model} sent a malformed stream event ({what})")


def take_choice(ctx: Ctx, ch: dict) -> dict | None:
    """Validate one upstream chunk, merge it into ``ctx``; the delta to relay (None: nothing to relay).
    Raises StreamBroken on a chunk that is not OpenAI-shaped.

    The common chunk (one choice, index 0, a delta holding only a non-empty ``content`` string, no logprobs, no
    usage) takes a short path with the same effect as the general one (tests/serving/test_gateway.py checks both
    give equal results); it is most of a stream's chunks."""
    choices = ch.get("choices")
    if type(choices) is list and len(choices) == 1 and ch.get("usage") is None:
        c = choices[0]
        if type(c) is dict and c.get("index", 0) == 0 and c.get("logprobs") is None:
            delta = c.get("delta")
            if type(delta) is dict and len(delta) == 1:
                content = delta.get("content")
                if type(content) is str and content:
                    if ctx.completion_tokens >= ctx.max_out:
                        ctx.finish_reason, ctx.capped = "length", True
                        return {"_cap": True}
                    ctx.completion_tokens += 1
                    if ctx.ttft is None:
                        ctx.ttft = time.perf_counter() - ctx.t0
                    ctx.content.append(content)
                    if c.get("finish_reason"):
                        ctx.finish_reason = c["finish_reason"]
                    return {"content": content}
    return _take_choice(ctx, ch)


def _take_choice(ctx: Ctx, ch: dict) -> dict | None:
    usage = ch.get("usage")
    if usage is not None:
        ctx.upstream_usage = usage if isinstance(usage, dict) else {"prompt_tokens": usage, "completion_tokens": usage}
    choices = ch.get("choices")
    if choices is None:
        return None
    if not isinstance(choices, list):
        raise malformed(ctx.model, "choices is not a list")
    out = None
    for c in choices:
        if not isinstance(c, dict):
            raise malformed(ctx.model, "a choice is not an object")
        if c.get("index", 0) != 0:
            continue
        delta = c.get("delta") or {}
        if not isinstance(delta, dict):
            raise malformed(ctx.model, "delta is not an object")
        content, calls, refusal = delta.get("content"), delta.get("tool_calls"), delta.get("refusal")
        if content is not None and not isinstance(content, str):
            raise malformed(ctx.model, "content is not a string")
        if calls is not None and not (isinstance(calls, list) and all(isinstance(t, dict) for t in calls)):
            raise malformed(ctx.model, "tool_calls is not a list of objects")
        if refusal is not None and not isinstance(refusal, str):
            raise malformed(ctx.model, "refusal is not a string")
        lp = c.get("logprobs")
        if lp is not None and not isinstance(lp, dict):
            raise malformed(ctx.model, "logprobs is not an object")
        relay = {k: v for k, v in delta.items() if k not in ("role",) and v is not None}
        if content or calls or refusal:
            if ctx.completion_tokens >= ctx.max_out:
                ctx.finish_reason, ctx.capped = "length", True  # the upstream ignores max_tokens: cut it here
                return {"_cap": True}
            ctx.completion_tokens += 1  # one token per chunk (llama.cpp, vLLM, OpenAI stream that way)
            if ctx.ttft is None:
                ctx.ttft = time.perf_counter() - ctx.t0
        if content:
            ctx.content.append(content)
        if refusal:
            ctx.refusal.append(refusal)
        for t in calls or []:
            i = t.get("index", 0) if isinstance(t.get("index", 0), int) else 0
            e = ctx.tool_calls.setdefault(
                i, {"id": None, "type": "function", "function": {"name": "", "arguments": ""}}
            )
            if isinstance(t.get("id"), str):
                e["id"] = t["id"]
            fn = t.get("function") if isinstance(t.get("function"), dict) else {}
            if isinstance(fn.get("name"), str):
                e["function"]["name"] += fn["name"]
            if isinstance(fn.get("arguments"), str):
                e["function"]["arguments"] += fn["arguments"]
        if lp is not None:
            if isinstance(lp.get("content"), list):
                ctx.logprobs.extend(lp["content"])
            relay["_logprobs"] = lp
        if c.get("finish_reason"):
            ctx.finish_reason = c["finish_reason"]
        if relay.get("content") == "":
            relay.pop("content")
        out = relay or None
    return out


def usage(ctx: Ctx, cached: str) -> dict:
    d = ctx.decision
    pt, ct = ctx.prompt_tokens or 0, ctx.completion_tokens
    return {
        "prompt_tokens": pt,
        "completion_tokens": ct,
        "total_tokens": pt + ct,
        "costlab": {
            "model": ctx.model,
            "cached": cached,
            "cost_usd": ctx.cost,
            "task_class": d.task_class if d else None,
            "priority": ctx.priority,
            "downgraded_from": ctx.downgraded_from,
            "billing": ctx.billing,
            "reserved_usd": ctx.reservation.usd if ctx.reservation else 0.0,
            "ttft_ms": None if ctx.ttft is None else round(ctx.ttft * 1000, 2),
        },
    }


def completion_body(ctx: Ctx, message: dict, logprobs: dict | None, finish: str, cached: str) -> dict:
    return {
        "id": ctx.rid,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": ctx.model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": logprobs}],
        "usage": usage(ctx, cached),
    }


def chunk(ctx: Ctx, created: int, delta: dict, finish: str | None = None, logprobs: dict | None = None) -> bytes:
    c: dict[str, Any] = {"index": 0, "delta": delta, "finish_reason": finish}
    if logprobs is not None:
        c["logprobs"] = logprobs
    return sse(
        {"id": ctx.rid, "object": "chat.completion.chunk", "created": created, "model": ctx.model, "choices": [c]}
    )


def usage_chunk(ctx: Ctx, created: int, cached: str) -> bytes:
    return sse(
        {
            "id": ctx.rid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": ctx.model,
            "choices": [],
            "usage": usage(ctx, cached),
        }
    )


def headers(ctx: Ctx, cached: str, cost: float | None) -> dict[str, str]:
    d = ctx.decision
    h = {"x-costlab-model": ctx.model, "x-costlab-cached": cached, "x-request-id": ctx.rid}
    if cost is not None:
        h["x-costlab-cost-usd"] = repr(float(cost))
    else:  # streaming: the exact cost is in the final usage chunk; the header carries the upper bound
        h["x-costlab-cost-usd-reserved"] = repr(float(ctx.reservation.usd if ctx.reservation else 0.0))
    if d and d.task_class:
        h["x-costlab-task-class"] = d.task_class
    if ctx.downgraded_from:
        h["x-costlab-downgraded-from"] = ctx.downgraded_from
    return h


def sse(obj: dict) -> bytes:
    return b"data: " + json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode() + b"\n\n"


DONE = b"data: [DONE]\n\n"


async def aclose(gen: Any) -> None:
    """Close an async generator, shielded from the cancellation of the task that closes it."""
    if getattr(gen, "ag_frame", True) is None:
        return  # ran to its end: nothing to close (the shield costs ~10 us of the event loop per request)
    import anyio

    with anyio.CancelScope(shield=True):
        try:
            await gen.aclose()
        except BaseException:  # noqa: BLE001
            pass


class GuardedStream(StreamingResponse):
    """Closes the body generator however the response ends (client disconnect included), so its ``finally``
    cancels the upstream call and bills what was generated."""

    async def __call__(self, scope, receive, send):  # type: ignore[override]
        try:
            await super().__call__(scope, receive, send)
        finally:
            await aclose(self.body_iterator)
