"""The upstream leg of a request: stream the upstream's deltas (upstream.py), relay them to the client as SSE or
collect them into one JSON body, settle exactly once however it ends (completed, upstream error mid-way, client gone,
the gateway's output cap); and the replay of a cached answer. The request path before this is in gateway.py.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING, AsyncIterator, Callable

from fastapi import Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from costlab.serving import responses as R
from costlab.serving.errors import GatewayError

if TYPE_CHECKING:
    from costlab.serving.gateway import Gateway


# how often a JSON response still streaming from the upstream checks that its client is there: ~10 tokens at
# 100 tokens/s (it was every 16 chunks, which a fast upstream paid on every request)
DISCONNECT_CHECK_S = 0.1


async def relay(gw: Gateway, ctx: R.Ctx, request: Request) -> Response:
    """Call the upstream for ``ctx`` and relay it: SSE as it comes, or one JSON body once it is complete."""
    gen = _deltas(gw, ctx)
    try:
        first = await anext(gen, None)  # errors before anything was sent are HTTP errors, streaming or not
        if ctx.stream:
            return R.GuardedStream(
                _sse(gw, ctx, first, gen), media_type="text/event-stream", headers=R.headers(ctx, "none", None)
            )
        if first is not None:
            check = time.monotonic() + DISCONNECT_CHECK_S
            async for _ in gen:
                # a JSON client that hung up: stop the upstream, bill what was generated. Checked every
                # DISCONNECT_CHECK_S of streaming (is_disconnected() costs a turn of the event loop)
                if time.monotonic() >= check:
                    check = time.monotonic() + DISCONNECT_CHECK_S
                    if await request.is_disconnected():
                        await R.aclose(gen)
                        gw.settle(ctx, "client_disconnected")
                        return Response(status_code=499)
    except GatewayError as e:
        gw.settle(ctx, "upstream_error", e)
        raise
    except BaseException:
        gw.settle(ctx, "cancelled")
        raise
    after = gw.settle(ctx, "ok", defer=True)
    try:
        lp = {"content": ctx.logprobs} if ctx.logprobs else None
        resp = AfterResponse(
            R.completion_body(ctx, ctx.message(), lp, ctx.finish_reason or "stop", "none"),
            headers=R.headers(ctx, "none", ctx.cost),
        )
    except BaseException:
        if after is not None:
            after()
        raise
    resp.after = after
    return resp


_JSON = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))  # JSONResponse.render's


class AfterResponse(JSONResponse):
    """A JSON response that runs ``after`` (the ledger row, metrics, cache store of Gateway.settle(defer=True))
    once it has been handed to the connection, however the sending ends: those ~50 us of the event loop are no
    longer between the last upstream event and the client (docs/serving.md). Its body and head are
    JSONResponse's, byte for byte (tests/serving/test_hot_path.py), built without Starlette's generic steps
    (a json.dumps that makes its encoder per call, the content-type and content-length look-ups)."""

    after: Callable[[], None] | None = None

    def __init__(self, content: dict, headers: dict[str, str] | None = None) -> None:
        self.status_code = 200
        self.background = None
        self.body = _JSON.encode(content).encode()
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
        raw.append((b"content-length", str(len(self.body)).encode()))
        raw.append((b"content-type", b"application/json"))
        self.raw_headers = raw

    async def __call__(self, scope, receive, send):  # type: ignore[override]
        try:
            await super().__call__(scope, receive, send)
            await asyncio.sleep(0)  # app._CoalescingTransport sends on the next loop tick: let it go first
        finally:
            if self.after is not None:
                self.after, after = None, self.after
                after()


async def _deltas(gw: Gateway, ctx: R.Ctx) -> AsyncIterator[dict]:
    d = ctx.decision
    assert d is not None
    m = gw.tables.models[d.model]
    body = {**ctx.forward, "model": d.model, "messages": ctx.messages, "stream": True, "max_tokens": ctx.max_out}
    if gw.s.upstream.stream_usage:
        body["stream_options"] = {"include_usage": True}
    agen = gw.upstream.stream(d.model, m.endpoint, body, ctx.deadline, gw.s.limits.request_timeout_s)
    try:
        async for ch in agen:
            try:
                relay = R.take_choice(ctx, ch)
            except GatewayError:
                gw.metrics.bad_upstream.inc()
                raise
            if relay is not None:
                if relay.get("_cap"):
                    return
                yield relay
    finally:
        await R.aclose(agen)


async def _sse(gw: Gateway, ctx: R.Ctx, first: dict | None, gen: AsyncIterator[dict]) -> AsyncIterator[bytes]:
    created = int(time.time())

    def out(relay: dict) -> bytes:
        lp = relay.pop("_logprobs", None)
        return R.chunk(ctx, created, relay, None, lp)

    completed = False
    try:
        yield R.chunk(ctx, created, {"role": "assistant", "content": ""})
        if first is not None:
            yield out(first)
            async for relay in gen:
                yield out(relay)
        completed = True
    except GatewayError as e:  # failed mid-way: tell the client in-band, bill what was generated
        completed = True
        gw.settle(ctx, "upstream_error", e)
        yield R.sse(e.body())
        yield R.DONE
        return
    finally:
        if not completed:
            # CancelledError/GeneratorExit: the client went away. Bill what was generated (sync, first),
            # then close the upstream stream (shielded from the cancellation).
            gw.settle(ctx, "client_disconnected")
            await R.aclose(gen)
    gw.settle(ctx, "ok")
    yield R.chunk(ctx, created, {}, ctx.finish_reason or "stop")
    if ctx.include_usage:
        yield R.usage_chunk(ctx, created, "none")
    yield R.DONE


def cached_stream(ctx: R.Ctx, msg: dict, hit: dict, kind: str, hdr: dict) -> StreamingResponse:
    """A cached answer replayed as SSE: one delta with the whole message, the finish chunk, usage, [DONE]."""
    delta = {k: v for k, v in msg.items() if v is not None}
    if "tool_calls" in delta:
        delta["tool_calls"] = [{"index": i, **t} for i, t in enumerate(delta["tool_calls"])]

    async def gen() -> AsyncIterator[bytes]:
        created = int(time.time())
        yield R.chunk(ctx, created, delta, None, hit.get("logprobs"))
        yield R.chunk(ctx, created, {}, ctx.finish_reason)
        if ctx.include_usage:
            yield R.usage_chunk(ctx, created, kind)
        yield R.DONE

    return StreamingResponse(gen(), media_type="text/event-stream", headers=hdr)
