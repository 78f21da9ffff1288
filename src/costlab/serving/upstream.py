"""Upstream calls: always streamed (SSE) so output caps, client disconnects and the overall deadline work the
same for every request. Retries with exponential backoff on connect errors, 5xx, and streams that die before
the first chunk (nothing has reached the client yet). After the first chunk, no retry.

Errors the client sees never carry the upstream's internals (its error text for 5xx, its URL, exception
text): those go to the log. An upstream 4xx keeps its message (it is about the client's request) with URLs
redacted. A ``data:`` line that is not JSON is a malformed stream (counted in ``bad_lines``), never skipped.

The HTTP client is a keep-alive pool of bare HTTP/1.1 connections (``_Conn``: an asyncio protocol whose responses
httptools' C parser reads, chunked or sized; TLS for https endpoints): the request leaves in one write, and the SSE
body is split into lines here from whatever each socket read returned. It replaced one aiohttp session, whose
request and response machinery was ~0.4 ms of the gateway's CPU per streamed call on this box (docs/serving.md);
httpx before it was ~2.6 ms. No redirects are followed (a 3xx is an error naming the fix), no cookies are kept
and no proxy variables are read (as with the aiohttp session).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import ssl
import time
from typing import Any, AsyncIterator
from urllib.parse import urlsplit

import anyio
import httptools

from costlab.serving.errors import GatewayError, upstream_error

log = logging.getLogger("costlab.serving")
_URL = re.compile(r"\b(?:https?|wss?|redis|postgres(?:ql)?)://\S+|\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b")


def redact(text: str) -> str:
    return _URL.sub("<redacted>", text)


class StreamBroken(GatewayError):
    def __init__(self, msg: str):
        super().__init__(502, msg, "upstream_error", "upstream_stream_broken")


class DeadlineExceeded(GatewayError):
    def __init__(self, model: str, total_s: float):
        super().__init__(
            504,
            f"upstream {model} did not finish within the gateway's request deadline "
            f"({total_s:g} s, serve.limits.request_timeout_s)",
            "upstream_error",
            "upstream_timeout",
        )


class _Dropped(Exception):
    """The upstream closed or reset the connection, or sent what is not HTTP, before its response was complete."""


class _ConnectFailed(Exception):
    """No connection within connect_timeout_s (or no free pool slot in time), or the connect was refused."""


class _ReadTimeout(Exception):
    """Nothing arrived for read_timeout_s (or until the request deadline)."""


_PAUSE_AT = 1 << 20  # unread response bytes held before the socket stops being read (flow control)


class _Conn(asyncio.Protocol):
    """One HTTP/1.1 connection to an upstream, reused for one request after another (keep-alive). The request
    leaves in one write; httptools (C) parses the response into ``status`` and body pieces (``take``)."""

    def __init__(self) -> None:
        self.transport: Any = None
        self.lost = False
        self.waiter: asyncio.Future | None = None
        self.idle_since = 0.0
        self._reset()

    def _reset(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.status = 0
        self.head = False  # status line and headers parsed
        self.complete = False  # the whole message parsed
        self.framed = False  # content-length or chunked: else the body ends when the connection does
        self.keep_alive = True
        self.body: list[bytes] = []
        self.buffered = 0
        self.paused = False
        self.error: Exception | None = None

    def send(self, request: bytes) -> None:
        self._reset()
        self.transport.write(request)

    # asyncio.Protocol
    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as e:
            self.error = _Dropped(f"unparseable HTTP response ({type(e).__name__})")
            self.transport.close()
        if self.buffered > _PAUSE_AT and not self.paused:
            self.paused = True
            self.transport.pause_reading()
        self._wake()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if self.head and not self.complete and not self.framed and self.error is None:
            self.complete, self.keep_alive = True, False  # a body delimited by the connection's end
        self._wake()

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() in (b"content-length", b"transfer-encoding"):
            self.framed = True

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        self.keep_alive = self.parser.should_keep_alive()
        self.head = True

    def on_body(self, body: bytes) -> None:
        self.body.append(body)
        self.buffered += len(body)

    def on_message_complete(self) -> None:
        self.complete = True

    def _wake(self) -> None:
        w = self.waiter
        if w is not None and not w.done():
            w.set_result(None)

    async def wait(self, timeout: float) -> None:
        """Until more bytes, the message's end or the connection's end; _ReadTimeout after ``timeout`` s."""
        if self.error is not None:
            raise self.error
        if self.lost:
            raise _Dropped("the upstream closed the connection")
        loop = asyncio.get_running_loop()
        fut = self.waiter = loop.create_future()
        timer = loop.call_later(timeout, _expire, fut)
        try:
            await fut
        finally:
            timer.cancel()
            self.waiter = None

    def take(self) -> bytes:
        data = self.body[0] if len(self.body) == 1 else b"".join(self.body)
        self.body, self.buffered = [], 0
        if self.paused:
            self.paused = False
            self.transport.resume_reading()
        return data

    def reusable(self) -> bool:
        return self.complete and self.keep_alive and not self.lost and self.error is None


def _expire(fut: asyncio.Future) -> None:
    if not fut.done():
        fut.set_exception(_ReadTimeout())


class _Target:
    """An endpoint URL parsed once: where to connect and the request line's target."""

    def __init__(self, url: str):
        u = urlsplit(url)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise GatewayError(
                502, "upstream endpoint is not an http(s) URL", "upstream_error", "upstream_misconfigured"
            )
        self.tls = u.scheme == "https"
        self.host = u.hostname
        self.port = u.port or (443 if self.tls else 80)
        self.key = (self.tls, self.host, self.port)
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = self.port == (443 if self.tls else 80)
        self.head = (
            f"POST {u.path or '/'}{'?' + u.query if u.query else ''} HTTP/1.1\r\n"
            f"host: {host if default else f'{host}:{self.port}'}\r\n"
        )


class _Pool:
    """Idle keep-alive connections per (tls, host, port) of one event loop; at most ``limit`` open at once."""

    def __init__(self, loop: asyncio.AbstractEventLoop, limit: int, keepalive_s: float):
        self.loop = loop
        self.idle: dict[tuple, list[_Conn]] = {}
        self.slots = asyncio.Semaphore(limit)
        self.keepalive_s = keepalive_s
        self._ssl: ssl.SSLContext | None = None

    async def acquire(self, t: _Target, connect_s: float, wait_s: float) -> _Conn:
        if self.slots.locked():
            try:
                await asyncio.wait_for(self.slots.acquire(), wait_s)
            except asyncio.TimeoutError:
                raise _ConnectFailed("no free connection slot") from None
        else:
            await self.slots.acquire()  # free: returns without suspending
        try:
            idle = self.idle.get(t.key)
            now = time.monotonic()
            while idle:
                c = idle.pop()
                if not c.lost and now - c.idle_since < self.keepalive_s:
                    return c
                c.transport.close()
            if t.tls and self._ssl is None:
                self._ssl = ssl.create_default_context()
            try:
                _, c = await asyncio.wait_for(
                    self.loop.create_connection(
                        _Conn,
                        t.host,
                        t.port,
                        ssl=self._ssl if t.tls else None,
                        server_hostname=t.host if t.tls else None,
                    ),
                    connect_s,
                )
            except (OSError, asyncio.TimeoutError) as e:
                raise _ConnectFailed(type(e).__name__) from e
            return c
        except BaseException:
            self.slots.release()
            raise

    def release(self, t: _Target, c: _Conn) -> None:
        """Back to the pool when its response was read to the end and it stays open; else closed (an upstream
        still generating for a client that left stops on the closed connection)."""
        if c.reusable():
            c.idle_since = time.monotonic()
            self.idle.setdefault(t.key, []).append(c)
        elif c.transport is not None:
            c.transport.close()
        self.slots.release()

    def close(self) -> None:
        for conns in self.idle.values():
            for c in conns:
                c.transport.close()
        self.idle.clear()


class UpstreamClient:
    def __init__(
        self,
        connect_timeout_s: float = 2.0,
        read_timeout_s: float = 60.0,
        retries: int = 2,
        backoff_s: float = 0.1,
        api_keys: dict[str, str] | None = None,
        max_connections: int = 256,
        keepalive_s: float = 30.0,
    ):
        self.retries = int(retries)
        self.backoff_s = float(backoff_s)
        self.api_keys = api_keys or {}
        for v in self.api_keys.values():
            if "\r" in v or "\n" in v:
                raise ValueError("an upstream API key contains a line break")
        self.connect_timeout_s = connect_timeout_s
        self.read_timeout_s = read_timeout_s
        self.max_connections = max_connections
        self.keepalive_s = keepalive_s
        self._pool: _Pool | None = None  # made in the serving loop on first use
        self._targets: dict[str, _Target] = {}
        self.retried = 0
        self.bad_lines = 0
        self.last_failure = -1e9  # time.monotonic() of the last failed call (for /health)

    def pool(self) -> _Pool:
        loop = asyncio.get_running_loop()
        p = self._pool
        if p is None or p.loop is not loop:  # a gateway object reused in a new loop
            p = self._pool = _Pool(loop, self.max_connections, self.keepalive_s)
        return p

    async def aclose(self) -> None:
        if self._pool is not None:
            self._pool.close()

    def _target(self, url: str) -> _Target:
        t = self._targets.get(url)
        if t is None:
            t = self._targets[url] = _Target(url)
        return t

    def _read_s(self, deadline: float) -> float:
        return max(0.001, min(self.read_timeout_s, deadline - time.monotonic()))

    async def _open(self, t: _Target, body: dict, headers: str, deadline: float) -> _Conn:
        """Send the request on a pooled (or new) connection; the connection once the response's head is in."""
        r = max(0.001, deadline - time.monotonic())
        c = await self.pool().acquire(t, min(self.connect_timeout_s, r), min(self.read_timeout_s, r))
        try:
            content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
            c.send(f"{t.head}{headers}content-length: {len(content)}\r\n\r\n".encode("latin-1") + content)
            while not c.head:
                await c.wait(self._read_s(deadline))
        except BaseException:
            self.pool().release(t, c)
            raise
        return c

    async def _read_all(self, c: _Conn, deadline: float) -> bytes:
        while not c.complete:
            await c.wait(self._read_s(deadline))
        return c.take()

    async def stream(
        self, model: str, endpoint: str, body: dict, deadline: float, total_s: float
    ) -> AsyncIterator[dict]:
        """Yield parsed SSE chunk dicts from ``endpoint``/chat/completions until [DONE] or ``deadline``
        (time.monotonic()). GatewayError on failure (after retries when nothing was yielded yet)."""
        url = endpoint.rstrip("/") + "/chat/completions"
        headers = "accept: text/event-stream\r\ncontent-type: application/json\r\n"
        if self.api_keys.get(model):
            headers += f"authorization: Bearer {self.api_keys[model]}\r\n"
        inner = self._attempts(model, url, body, headers, deadline, total_s)
        try:
            async for chunk in inner:
                yield chunk
        except GatewayError as e:
            if e.status >= 500:
                self.last_failure = time.monotonic()
            raise
        finally:
            if inner.ag_frame is not None:  # not run to its end: close the attempt (and its connection) now, not at GC
                with anyio.CancelScope(shield=True):
                    await inner.aclose()

    async def _attempts(
        self, model: str, url: str, body: dict, headers: str, deadline: float, total_s: float
    ) -> AsyncIterator[dict]:
        t = self._target(url)
        last_err: GatewayError | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                self.retried += 1
                await asyncio.sleep(self.backoff_s * (2 ** (attempt - 1)))
            if time.monotonic() >= deadline:
                raise DeadlineExceeded(model, total_s)
            c = None
            try:
                c = await self._open(t, body, headers, deadline)
                if c.status >= 500:
                    txt = (await self._read_all(c, deadline)).decode(errors="replace")[:300]
                    log.warning("upstream %s (%s) returned %d: %s", model, url, c.status, txt)
                    last_err = upstream_error(f"upstream {model} failed (HTTP {c.status})", 502)
                    continue
                if c.status >= 400:
                    txt = (await self._read_all(c, deadline)).decode(errors="replace")[:500]
                    try:
                        msg = str(json.loads(txt)["error"]["message"])
                    except Exception:  # noqa: BLE001
                        msg = txt
                    log.info("upstream %s (%s) rejected the request (%d): %s", model, url, c.status, txt)
                    raise GatewayError(
                        c.status if c.status in (400, 404, 413, 422, 429) else 502,
                        f"upstream {model}: {redact(msg)[:300]}",
                        "upstream_error",
                        "upstream_rejected",
                    )
                if c.status >= 300 or c.status < 200:
                    log.warning("upstream %s (%s) answered HTTP %d", model, url, c.status)
                    raise GatewayError(
                        502,
                        f"upstream {model} answered HTTP {c.status} (a redirect is not followed: set the model's "
                        "endpoint to the URL it points to)",
                        "upstream_error",
                        "upstream_rejected",
                    )
                first = True
                try:
                    async for chunk in self._iter_sse(c, model, deadline, total_s):
                        first = False
                        yield chunk
                except (StreamBroken, _Dropped) as e:
                    log.warning("upstream %s (%s) stream broken: %s", model, url, e)
                    if not first:
                        raise StreamBroken(f"upstream {model} dropped the stream mid-way") from e
                    last_err = upstream_error(
                        f"upstream {model} closed or garbled the stream before sending anything", 502
                    )
                    continue
                return
            except _ConnectFailed as e:
                log.warning("cannot connect to upstream %s at %s: %s", model, url, e)
                last_err = upstream_error(f"cannot connect to upstream {model}", 502)
                continue
            except _ReadTimeout as e:
                if time.monotonic() >= deadline - 0.01:
                    raise DeadlineExceeded(model, total_s) from e
                raise upstream_error(f"upstream {model} timed out", 504) from e
            except _Dropped as e:  # while opening: nothing sent to the client yet
                log.warning("upstream %s (%s) dropped the connection: %s", model, url, e)
                last_err = upstream_error(f"upstream {model} dropped the connection", 502)
                continue
            finally:
                if c is not None:
                    self.pool().release(t, c)  # read to the end: reused; else closed
        assert last_err is not None
        raise last_err

    async def _iter_sse(self, c: _Conn, model: str, deadline: float, total_s: float) -> AsyncIterator[dict]:
        done = False
        buf = b""
        while True:
            if not c.body:
                if c.complete:
                    break
                await c.wait(self._read_s(deadline))  # _Dropped when the connection ends before the message
                continue
            data = c.take()
            if time.monotonic() > deadline:
                raise DeadlineExceeded(model, total_s)
            buf += data
            if b"\n" not in data:
                if len(buf) > MAX_LINE:
                    self.bad_lines += 1
                    raise StreamBroken(f"upstream {model} sent a stream line over {MAX_LINE} bytes")
                continue
            *lines, buf = buf.split(b"\n")
            if done:
                continue  # after [DONE]: read to the end so the connection is reused
            for line in lines:
                if not line:
                    continue  # the blank line after each event
                obj = self._event(line, model)
                if obj is _DONE:
                    done = True
                    break
                if obj is not None:
                    yield obj
        if not done and buf.strip():  # a last line without its newline
            obj = self._event(buf, model)
            done = obj is _DONE
            if obj is not None and not done:
                yield obj
        if not done:  # fell off the end without [DONE]: the stream was cut
            raise StreamBroken(f"upstream {model} stream ended without [DONE]")

    def _event(self, line: bytes, model: str) -> Any:
        """One SSE line -> its JSON object, _DONE, or None (comments, event names, blank lines)."""
        if not line.startswith(b"data:"):
            return None
        data = line[5:].strip()
        if data == b"[DONE]":
            return _DONE
        try:  # json.loads(data) without its per-call wrapping (~40% of its time on a one-token event)
            text = data.decode()
            obj, end = _scan(text, 0)
            if end != len(text):
                raise ValueError("extra data")
        except (ValueError, RecursionError, StopIteration):  # JSONDecodeError, UnicodeDecodeError, no value
            self.bad_lines += 1
            raise StreamBroken(f"upstream {model} sent an undecodable stream line") from None
        if not isinstance(obj, dict):
            self.bad_lines += 1
            raise StreamBroken(f"upstream {model} sent a stream event that is not an object")
        if "error" in obj and not obj.get("choices"):
            log.warning("upstream %s sent an error mid-stream: %s", model, str(obj["error"])[:300])
            raise StreamBroken(f"upstream {model} reported an error mid-stream")
        return obj


_scan = json.JSONDecoder().scan_once  # what json.loads runs, minus detect_encoding/decode/whitespace wrapping
MAX_LINE = 16 << 20  # one SSE line longer than this is a broken stream, not a reason to buffer without bound
_DONE = object()
