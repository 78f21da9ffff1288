"""Upstream calls: always streamed (SSE) so output caps and client disconnects work the same for every
request. Retries with exponential backoff on connect errors, 5xx, and streams that die before the first
chunk (nothing has reached the client yet, so a retry is invisible to it). After the first chunk, no retry.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, AsyncIterator

import anyio
import httpx

from costlab.serving.errors import GatewayError, upstream_error

log = logging.getLogger("costlab.serving")


class UpstreamClient:
    def __init__(self, connect_timeout_s: float = 2.0, read_timeout_s: float = 60.0, retries: int = 2,
                 backoff_s: float = 0.1, api_keys: dict[str, str] | None = None, max_connections: int = 256,
                 shard_size: int = 8):
        self.retries = int(retries)
        self.backoff_s = float(backoff_s)
        self.api_keys = api_keys or {}
        # httpcore's pool scans every connection on each event (O(connections) per step): with 64+ concurrent
        # streams that dominated the gateway's CPU. Several small pools, picked round-robin, keep each scan short.
        n = max(1, max_connections // shard_size)
        timeout = httpx.Timeout(connect=connect_timeout_s, read=read_timeout_s, write=read_timeout_s, pool=read_timeout_s)
        self.clients = [httpx.AsyncClient(timeout=timeout, limits=httpx.Limits(
            max_connections=shard_size, max_keepalive_connections=shard_size)) for _ in range(n)]
        self._rr = 0
        self.retried = 0

    async def aclose(self) -> None:
        for c in self.clients:
            await c.aclose()

    async def _open(self, url: str, body: dict, headers: dict) -> httpx.Response:
        self._rr = (self._rr + 1) % len(self.clients)
        client = self.clients[self._rr]
        req = client.build_request("POST", url, json=body, headers=headers)
        return await client.send(req, stream=True)

    async def stream(self, model: str, endpoint: str, body: dict) -> AsyncIterator[dict]:
        """Yield parsed SSE chunk dicts from ``endpoint``/chat/completions. Raises GatewayError on failure
        before the first chunk (after retries); after the first chunk a failure raises ``StreamBroken``."""
        url = endpoint.rstrip("/") + "/chat/completions"
        headers = {"accept": "text/event-stream"}
        if self.api_keys.get(model):
            headers["authorization"] = f"Bearer {self.api_keys[model]}"
        last_err: GatewayError | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                self.retried += 1
                await asyncio.sleep(self.backoff_s * (2 ** (attempt - 1)))
            resp = None
            try:
                resp = await self._open(url, body, headers)
                if resp.status_code >= 500:
                    txt = (await resp.aread()).decode(errors="replace")[:300]
                    last_err = upstream_error(f"upstream {model} returned {resp.status_code}: {txt}", 502)
                    continue
                if resp.status_code >= 400:
                    txt = (await resp.aread()).decode(errors="replace")[:500]
                    try:
                        msg = json.loads(txt)["error"]["message"]
                    except Exception:  # noqa: BLE001
                        msg = txt
                    raise GatewayError(resp.status_code if resp.status_code in (400, 404, 413, 422, 429) else 502,
                                       f"upstream {model}: {msg}", "upstream_error", "upstream_rejected")
                first = True
                try:
                    async for chunk in _iter_sse(resp):
                        first = False
                        yield chunk
                except (StreamBroken, httpx.RemoteProtocolError, httpx.ReadError) as e:
                    if not first:
                        raise StreamBroken(f"upstream {model} dropped the stream mid-way: {e}") from e
                    last_err = upstream_error(f"upstream {model} closed the stream before sending anything ({e})", 502)
                    continue
                return
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as e:
                last_err = upstream_error(f"cannot connect to upstream {model} at {endpoint}: {type(e).__name__}", 502)
                continue
            except httpx.ReadTimeout as e:
                raise upstream_error(f"upstream {model} timed out", 504) from e
            except (httpx.RemoteProtocolError, httpx.ReadError) as e:  # while opening: nothing sent yet
                last_err = upstream_error(f"upstream {model} dropped the connection: {type(e).__name__}", 502)
                continue
            finally:
                if resp is not None:
                    with anyio.CancelScope(shield=True):  # close even when the caller was cancelled
                        await resp.aclose()
        assert last_err is not None
        raise last_err


class StreamBroken(GatewayError):
    def __init__(self, msg: str):
        super().__init__(502, msg, "upstream_error", "upstream_stream_broken")


async def _iter_sse(resp: httpx.Response) -> AsyncIterator[dict]:
    done = False
    async for line in resp.aiter_lines():
        if done or not line.startswith("data:"):
            continue  # after [DONE]: read the body to its end so the connection goes back to the pool
        data = line[5:].strip()
        if data == "[DONE]":
            done = True
            continue
        try:
            obj: Any = json.loads(data)
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict) and "error" in obj and not obj.get("choices"):
            raise StreamBroken(f"upstream sent an error mid-stream: {str(obj['error'])[:200]}")
        yield obj
    if not done:  # fell off the end without [DONE]: the stream was cut
        raise StreamBroken("upstream stream ended without [DONE]")
