"""The HTTP surface of the gateway (FastAPI routes and error handlers); the request path is in gateway.py.

Disclosure: every error body is OpenAI-shaped and carries no internals. ``/metrics`` and the details of
``/health`` need an admin key (``auth.metrics_public: true`` opens them, for a gateway reachable only on
loopback); plain ``/health`` says ok / degraded (200: a component is failing over — ledger fallback file, Redis,
cache, the upstream in the last 10 s) or failing (503: the ledger cannot write anything durable).
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from costlab.serving.errors import GatewayError

if TYPE_CHECKING:
    from costlab.serving.gateway import Gateway

log = logging.getLogger("costlab.serving")


CHAT = "/v1/chat/completions"


class GatewayApp(FastAPI):
    """FastAPI, except that ``POST /v1/chat/completions`` goes straight to ``Gateway.chat``: the route every paid
    request takes skips FastAPI's middleware stack, routing and dependency solving (~0.1 ms of the event loop per
    request, docs/serving.md). Its errors get the same OpenAI-shaped bodies as the handlers below; every other
    path, method and the lifespan are FastAPI's."""

    gw: Gateway

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != CHAT or scope["method"] != "POST":
            return await super().__call__(scope, receive, send)
        try:
            response = await self.gw.chat(Request(scope, receive, send))
        except GatewayError as exc:
            response = gateway_error(exc)
        except Exception as exc:  # noqa: BLE001 - the same 500 as the handler for any other route
            response = internal_error(exc)
        await response(scope, receive, send)


def gateway_error(exc: GatewayError) -> Response:
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)


def internal_error(exc: Exception) -> Response:
    log.error("internal error: %s", type(exc).__name__, exc_info=exc)
    return JSONResponse(
        GatewayError(500, "internal gateway error", "server_error", "internal_error").body(), status_code=500
    )


def build_app(gw: Gateway) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        await gw.aclose()

    app = GatewayApp(title="costlab gateway", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.gw = gw

    @app.exception_handler(GatewayError)
    async def _gw_err(request: Request, exc: GatewayError):
        return gateway_error(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http_err(request: Request, exc: StarletteHTTPException):
        return JSONResponse(
            GatewayError(
                exc.status_code,
                str(exc.detail),
                "invalid_request_error",
                "not_found" if exc.status_code == 404 else None,
            ).body(),
            status_code=exc.status_code,
        )

    @app.exception_handler(Exception)
    async def _any_err(request: Request, exc: Exception):
        return internal_error(exc)

    def admin(request: Request) -> None:
        if gw.s.auth.metrics_public:
            return
        key = gw.keys.lookup(request.headers.get("authorization"))
        if key is None or key is gw.keys.anonymous:
            raise GatewayError(
                401,
                "This endpoint needs an admin key: 'Authorization: Bearer <admin key>'.",
                "invalid_request_error",
                "invalid_api_key",
            )
        if not key.admin:
            raise GatewayError(403, "This endpoint needs an admin key.", "invalid_request_error", "forbidden")

    @app.post(CHAT)  # reached only through FastAPI's own stack (GatewayApp answers POSTs itself)
    async def chat(request: Request):
        return await gw.chat(request)

    @app.get("/v1/models")
    async def models(request: Request):
        gw.authenticate(request)
        now = int(time.time())
        data = [{"id": m, "object": "model", "created": now, "owned_by": "costlab-router"} for m in gw.router.aliases()]
        data += [
            {
                "id": n,
                "object": "model",
                "created": now,
                "owned_by": f"costlab:{m.backend}",
                "usd_per_1m_in": m.usd_per_1m_in,
                "usd_per_1m_out": m.usd_per_1m_out,
            }
            for n, m in sorted(gw.tables.models.items())
        ]
        return {"object": "list", "data": data}

    @app.get("/v1/spend")
    async def spend(request: Request, day: str | None = None, tenant: str | None = None):
        key = gw.authenticate(request)
        if not key.admin:
            tenant = key.tenant
        await asyncio.to_thread(gw.ledger.flush, 2.0)
        out = await asyncio.to_thread(gw.ledger.spend, day, tenant)
        out["unrecorded_rows"] = gw.ledger.unrecorded
        out["budgets"] = gw.budgets.state() if key.admin else None
        return out

    @app.get("/metrics")
    async def metrics(request: Request):
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        admin(request)
        gw.metrics.ledger_failing.set(1 if gw.ledger.failing else 0)
        return Response(generate_latest(gw.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/health")
    async def health(request: Request):
        faults = current_faults(gw)
        status = "failing" if gw.ledger.failing else ("degraded" if faults else "ok")
        code = 503 if status == "failing" else 200
        body: dict = {"status": status}
        if request.headers.get("authorization") or gw.s.auth.metrics_public:
            admin(request)
            body.update(
                {
                    "faults": faults,
                    "backend": gw.s.backend,
                    "ledger": gw.ledger.health(),
                    "ledger_on_write_failure": "reject" if gw.ledger_fail_closed else "serve",
                    "exact_cache_errors": gw.exact.errors if gw.exact else None,
                    "semantic_cache_errors": gw.semantic.errors if gw.semantic else None,
                    "budget_backend_errors": getattr(gw.budgets, "errors", 0),
                    "upstream_retries": gw.upstream.retried,
                    "upstream_bad_lines": gw.upstream.bad_lines,
                }
            )
        return JSONResponse(body, status_code=code)

    return app


def current_faults(gw: Gateway) -> list[str]:
    """Components failing right now (or within their cool-off / the last 10 s), for /health."""
    now_w, now_m = time.time(), time.monotonic()
    out = []
    if gw.ledger.state != "ok":
        out.append(f"ledger:{gw.ledger.state}")
    if gw.exact is not None and gw.exact._down_until > now_w:
        out.append("exact_cache")
    if getattr(gw.budgets, "_down_until", 0.0) > now_w:
        out.append("budget_backend")
    if now_m - gw.upstream.last_failure < 10.0:
        out.append("upstream")
    return out


class _CoalescingTransport:
    """Writes made in one event-loop tick leave in one send(). uvicorn writes a response's head and its body
    separately, so a JSON response cost two packets and two wake-ups of the client's process (measured ~0.5-1 ms
    each on the loaded 2-core box, docs/serving.md); SSE chunks that are ready together leave together too.
    Everything else is the real transport's."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop):
        self._t, self._loop, self._buf = transport, loop, []

    def write(self, data: bytes) -> None:
        if not self._buf:
            self._loop.call_soon(self._flush)
        self._buf.append(data)

    def writelines(self, lines: Any) -> None:
        for d in lines:
            self.write(d)

    def _flush(self) -> None:
        if self._buf:
            data = b"".join(self._buf)
            self._buf.clear()
            if not self._t.is_closing():
                self._t.write(data)

    def close(self) -> None:
        self._flush()
        self._t.close()

    def abort(self) -> None:
        self._buf.clear()
        self._t.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._t, name)


def http_protocol() -> Any:
    """uvicorn's ``http`` for the gateway: its httptools protocol with writes coalesced per loop tick; "auto"
    when httptools is not installed."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:
        return "auto"

    class CoalescingHttpToolsProtocol(HttpToolsProtocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(_CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]

    return CoalescingHttpToolsProtocol
