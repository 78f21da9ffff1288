"""Upstream calls: always streamed (SSE) so output caps, client disconnects and the overall deadline work the
same for every request. Retries with exponential backoff on connect errors, 5xx, and streams that die before
the first chunk (nothing has reached the client yet). After the first chunk, no retry.

Errors the client sees never carry the upstream's internals (its error text for 5xx, its URL, exception
text): those go to the log. An upstream 4xx keeps its message (it is about the client's request) with URLs
redacted. A ``data:`` line that is not JSON is a malformed stream (counted in ``bad_lines``), never skipped.

One aiohttp session (C HTTP parser, one keep-alive pool) for every upstream: request head and body leave in one
write, and the SSE body is split into lines here from whatever each socket read returned (several events per
read when the upstream is fast). httpx cost ~2.6 ms of the gateway's CPU per streamed request (docs/serving.md).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from typing import Any, AsyncIterator

import aiohttp
import anyio

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


class UpstreamClient:
    def __init__(
        self,
        connect_timeout_s: float = 2.0,
        read_timeout_s: float = 60.0,
        retries: int = 2,
        backoff_s: float = 0.1,
        api_keys: dict[str, str] | None = None,
        max_connections: int = 256,
    ):
        self.retries = int(retries)
        self.backoff_s = float(backoff_s)
        self.api_keys = api_keys or {}
        self.connect_timeout_s = connect_timeout_s
        self.read_timeout_s = read_timeout_s
        self.max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None  # made in the serving loop on first use
        self.retried = 0
        self.bad_lines = 0
        self.last_failure = -1e9  # time.monotonic() of the last failed call (for /health)

    def session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        s = self._session
        if s is None or s.closed or s._loop is not loop:  # noqa: SLF001 - a gateway object reused in a new loop
            conn = aiohttp.TCPConnector(limit=self.max_connections, limit_per_host=0, keepalive_timeout=30)
            s = self._session = aiohttp.ClientSession(connector=conn, skip_auto_headers=("User-Agent",))
        return s

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def _open(self, url: str, body: dict, headers: dict, remaining: float) -> aiohttp.ClientResponse:
        r = max(0.001, remaining)
        # connect = waiting for a pooled connection + connecting; sock_connect = the TCP connect alone
        t = aiohttp.ClientTimeout(
            total=None,
            connect=min(self.read_timeout_s, r),
            sock_connect=min(self.connect_timeout_s, r),
            sock_read=min(self.read_timeout_s, r),
        )
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        return await self.session().post(
            url, data=content, headers={**headers, "content-type": "application/json"}, timeout=t
        )

    async def stream(
        self, model: str, endpoint: str, body: dict, deadline: float, total_s: float
    ) -> AsyncIterator[dict]:
        """Yield parsed SSE chunk dicts from ``endpoint``/chat/completions until [DONE] or ``deadline``
        (time.monotonic()). GatewayError on failure (after retries when nothing was yielded yet)."""
        url = endpoint.rstrip("/") + "/chat/completions"
        headers = {"accept": "text/event-stream"}
        if self.api_keys.get(model):
            headers["authorization"] = f"Bearer {self.api_keys[model]}"
        inner = self._attempts(model, url, body, headers, deadline, total_s)
        try:
            async for chunk in inner:
                yield chunk
        except GatewayError as e:
            if e.status >= 500:
                self.last_failure = time.monotonic()
            raise
        finally:
            if inner.ag_frame is not None:  # not run to its end: close the attempt (and its response) now, not at GC
                with anyio.CancelScope(shield=True):
                    await inner.aclose()

    async def _attempts(
        self, model: str, url: str, body: dict, headers: dict, deadline: float, total_s: float
    ) -> AsyncIterator[dict]:
        last_err: GatewayError | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                self.retried += 1
                await asyncio.sleep(self.backoff_s * (2 ** (attempt - 1)))
            if time.monotonic() >= deadline:
                raise DeadlineExceeded(model, total_s)
            resp = None
            try:
                resp = await self._open(url, body, headers, deadline - time.monotonic())
                if resp.status >= 500:
                    txt = (await resp.read()).decode(errors="replace")[:300]
                    log.warning("upstream %s (%s) returned %d: %s", model, url, resp.status, txt)
                    last_err = upstream_error(f"upstream {model} failed (HTTP {resp.status})", 502)
                    continue
                if resp.status >= 400:
                    txt = (await resp.read()).decode(errors="replace")[:500]
                    try:
                        msg = str(json.loads(txt)["error"]["message"])
                    except Exception:  # noqa: BLE001
                        msg = txt
                    log.info("upstream %s (%s) rejected the request (%d): %s", model, url, resp.status, txt)
                    raise GatewayError(
                        resp.status if resp.status in (400, 404, 413, 422, 429) else 502,
                        f"upstream {model}: {redact(msg)[:300]}",
                        "upstream_error",
                        "upstream_rejected",
                    )
                first = True
                try:
                    async for chunk in self._iter_sse(resp, model, deadline, total_s):
                        first = False
                        yield chunk
                except (StreamBroken, aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError) as e:
                    log.warning("upstream %s (%s) stream broken: %s", model, url, e)
                    if not first:
                        raise StreamBroken(f"upstream {model} dropped the stream mid-way") from e
                    last_err = upstream_error(
                        f"upstream {model} closed or garbled the stream before sending anything", 502
                    )
                    continue
                return
            except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as e:
                log.warning("cannot connect to upstream %s at %s: %s", model, url, type(e).__name__)
                last_err = upstream_error(f"cannot connect to upstream {model}", 502)
                continue
            except aiohttp.SocketTimeoutError as e:
                if time.monotonic() >= deadline - 0.01:
                    raise DeadlineExceeded(model, total_s) from e
                raise upstream_error(f"upstream {model} timed out", 504) from e
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError, aiohttp.ClientPayloadError) as e:
                # while opening: nothing sent yet
                log.warning("upstream %s (%s) dropped the connection: %s", model, url, type(e).__name__)
                last_err = upstream_error(f"upstream {model} dropped the connection", 502)
                continue
            finally:
                if resp is not None:
                    if resp.content.at_eof():
                        resp.release()  # read to the end: the connection goes back to the pool
                    else:
                        resp.close()
        assert last_err is not None
        raise last_err

    async def _iter_sse(
        self, resp: aiohttp.ClientResponse, model: str, deadline: float, total_s: float
    ) -> AsyncIterator[dict]:
        done = False
        buf = b""
        async for data in resp.content.iter_any():
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
