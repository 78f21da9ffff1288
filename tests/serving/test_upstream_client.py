"""The upstream HTTP client (upstream.py: keep-alive pool of bare HTTP/1.1 connections, httptools parser) against
scripted raw loopback servers: connection reuse, a server that closes a kept-alive connection, a body delimited by
the connection's end, chunk boundaries anywhere, redirects, and a response that is not HTTP."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from costlab.serving.errors import GatewayError
from costlab.serving.upstream import UpstreamClient

EVENTS = [{"choices": [{"index": 0, "delta": {"content": f"t{i}"}, "finish_reason": None}]} for i in range(3)]
SSE = b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in EVENTS) + b"data: [DONE]\n\n"


def chunked(body: bytes, piece: int = 7) -> bytes:
    out = b""
    for i in range(0, len(body), piece):
        part = body[i : i + piece]
        out += f"{len(part):x}\r\n".encode() + part + b"\r\n"
    return out + b"0\r\n\r\n"


async def serve(handler) -> tuple[asyncio.AbstractServer, str, list]:
    """A raw HTTP server on loopback: ``handler(n, reader, writer)`` answers the n-th request it reads
    (n counts per server); returns (server, base URL, the connection numbers each request came on)."""
    seen: list = []
    conns = [0]
    count = [0]

    async def on_conn(reader, writer):
        conns[0] += 1
        me = conns[0]
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                n = int(next(h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")).split(b":")[1])
                await reader.readexactly(n)
                seen.append(me)
                count[0] += 1
                if not await handler(count[0], reader, writer):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    srv = await asyncio.start_server(on_conn, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    return srv, f"http://127.0.0.1:{port}/v1", seen


async def collect(u: UpstreamClient, url: str) -> list[dict]:
    return [c async for c in u.stream("m", url, {"messages": []}, time.monotonic() + 5, 5)]


def run(coro):
    return asyncio.run(coro)


def test_keep_alive_reuses_one_connection_and_chunks_split_anywhere():
    async def main():
        async def h(n, reader, writer):
            writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" + chunked(SSE, 7 + n))
            await writer.drain()
            return True

        srv, url, seen = await serve(h)
        u = UpstreamClient(retries=0)
        for _ in range(3):
            assert await collect(u, url) == EVENTS
        assert seen == [1, 1, 1] and u.retried == 0  # one connection for all three
        await u.aclose()
        srv.close()

    run(main())


def test_a_kept_alive_connection_the_server_closed_is_not_reused():
    async def main():
        async def h(n, reader, writer):  # keep-alive promised, then the connection is closed after each answer
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(SSE) + SSE)
            await writer.drain()
            return False

        srv, url, seen = await serve(h)
        u = UpstreamClient(retries=0)
        assert await collect(u, url) == EVENTS
        await asyncio.sleep(0.05)  # the FIN has arrived
        assert await collect(u, url) == EVENTS
        assert seen == [1, 2] and u.retried == 0
        await u.aclose()
        srv.close()

    run(main())


def test_body_delimited_by_the_connection_end_and_a_cut_chunked_stream():
    async def main():
        async def whole(n, reader, writer):  # HTTP/1.0 style: no length, no chunks, then close
            writer.write(b"HTTP/1.0 200 OK\r\ncontent-type: text/event-stream\r\n\r\n" + SSE)
            await writer.drain()
            return False

        srv, url, _ = await serve(whole)
        u = UpstreamClient(retries=0)
        assert await collect(u, url) == EVENTS
        srv.close()

        async def cut(n, reader, writer):  # chunked, cut after the first event: never a complete answer
            first = b"data: " + json.dumps(EVENTS[0]).encode() + b"\n\n"
            writer.write(
                b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
                + chunked(first, len(first))[:-5]
                + b"5\r\ndata:"
            )
            await writer.drain()
            return False

        srv, url, _ = await serve(cut)
        got = []
        with pytest.raises(GatewayError) as e:
            async for c in u.stream("m", url, {"messages": []}, time.monotonic() + 5, 5):
                got.append(c)
        assert e.value.status == 502 and got == EVENTS[:1]  # mid-way: what came was relayed, then the error
        await u.aclose()
        srv.close()

    run(main())


def test_redirect_and_non_http_answers_are_502_naming_the_problem():
    async def main():
        async def redirect(n, reader, writer):
            writer.write(
                b"HTTP/1.1 307 Temporary Redirect\r\nlocation: http://elsewhere/v1\r\ncontent-length: 0\r\n\r\n"
            )
            await writer.drain()
            return True

        srv, url, _ = await serve(redirect)
        u = UpstreamClient(retries=1, backoff_s=0.0)
        with pytest.raises(GatewayError) as e:
            await collect(u, url)
        assert e.value.status == 502 and "redirect" in e.value.message and u.retried == 0
        srv.close()

        async def garbage(n, reader, writer):
            writer.write(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
            await writer.drain()
            return True

        srv, url, seen = await serve(garbage)
        with pytest.raises(GatewayError) as e:
            await collect(u, url)
        assert e.value.status == 502 and len(seen) == 2 and u.retried == 1  # retried once, then 502
        await u.aclose()
        srv.close()

    run(main())


def test_api_key_with_a_line_break_is_refused_at_start():
    with pytest.raises(ValueError):
        UpstreamClient(api_keys={"m": "sk-abc\r\nx-injected: 1"})


def test_read_timeout_counts_from_the_last_bytes_not_from_the_start():
    """One timer per request (not one per read): bytes every 0.1 s keep a 0.3 s read timeout from firing for
    0.6 s in all; then silence is a 504 after ~0.3 s, well before the 5 s deadline."""

    async def main():
        first = b"data: " + json.dumps(EVENTS[0]).encode() + b"\n\n"

        async def trickle(n, reader, writer):
            writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
            for _ in range(6):
                writer.write(chunked(b": keep-alive\n\n")[:-5])
                await writer.drain()
                await asyncio.sleep(0.1)
            writer.write(chunked(first)[:-5])
            await writer.drain()
            await asyncio.sleep(3)
            return False

        srv, url, _ = await serve(trickle)
        u = UpstreamClient(read_timeout_s=0.3, retries=0)
        got, t0 = [], time.monotonic()
        with pytest.raises(GatewayError) as e:
            async for c in u.stream("m", url, {"messages": []}, time.monotonic() + 5, 5):
                got.append(c)
        took = time.monotonic() - t0
        assert e.value.status == 504 and "timed out" in e.value.message and got == EVENTS[:1]
        assert 0.85 < took < 2.0, took
        await u.aclose()
        srv.close()

    run(main())
