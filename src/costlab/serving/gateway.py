"""The gateway: an OpenAI-compatible FastAPI app in front of the upstreams named in routing_table.json.

POST /v1/chat/completions (JSON or SSE), GET /v1/models, GET /metrics (Prometheus), GET /v1/spend.
Per request: auth → parse → compress → exact cache → semantic cache → route → budget reserve → upstream
(streamed; output capped at max_output_tokens; client disconnect cancels it) → settle + ledger (queued, off
the hot path) → cache store. Each response names its model, cache status and cost in the
``x-costlab-*`` headers and in ``usage.costlab``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from costlab.errors import CostlabError
from costlab.serving.auth import KeyInfo, KeyStore
from costlab.serving.cache import OUTPUT_PARAMS, RedisExactCache, SafeCache, SQLiteExactCache, cache_key
from costlab.serving.cache import redis_client as make_redis_client
from costlab.serving.classify import KeywordClassifier, LearnedClassifier
from costlab.serving.compress import get_compressor
from costlab.serving.errors import GatewayError, bad_request, budget_exhausted, unauthorized
from costlab.serving.ledger import Ledger, LocalBudgets, RedisBudgets, Reservation, limits_for
from costlab.serving.router import AUTO, Decision, Router
from costlab.serving.semantic import SafeSemanticCache, SemanticCache, scope_key
from costlab.serving.tables import Tables, load_tables
from costlab.serving.upstream import UpstreamClient

log = logging.getLogger("costlab.serving")


# ------------------------------------------------------------------------------------------------ settings

@dataclass
class Settings:
    """Everything the gateway reads (configs/serve/default.yaml documents each knob)."""

    tables_dir: str
    state_dir: str = ".cache/serve"
    endpoints: dict = field(default_factory=dict)  # model -> base URL override; "*" fills empty ones
    backend: str = "sqlite"                       # sqlite | redis
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_prefix: str = "costlab:"
    compress: dict = field(default_factory=lambda: {"enabled": True, "fillers": True, "keep_last": None})
    exact_cache: dict = field(default_factory=lambda: {"enabled": True, "ttl_s": 86400, "max_entries": 100_000,
                                                        "cache_sampled": False})
    semantic_cache: dict = field(default_factory=lambda: {"enabled": False, "threshold": 0.95, "ttl_s": 86400,
                                                           "max_entries": 100_000, "persist": True, "guard": True})
    router: dict = field(default_factory=lambda: {"classifier": "keyword", "artifact": None,
                                                   "default_priority": "cost", "default_task_class": "general"})
    budget: dict = field(default_factory=lambda: {"global": {"daily_usd": None, "monthly_usd": None},
                                                   "on_exhausted": "reject", "allow_below_floor": False,
                                                   "webhook": None, "redis_fail_open": True,
                                                   "prompt_chars_per_token": 3.0})
    auth: dict = field(default_factory=lambda: {"required": False, "keys_file": None, "keys": []})
    stream: dict = field(default_factory=lambda: {"default_max_output_tokens": 512, "max_output_tokens_cap": 4096})
    upstream: dict = field(default_factory=lambda: {"connect_timeout_s": 2.0, "read_timeout_s": 60.0, "retries": 2,
                                                     "backoff_s": 0.1, "api_key_env": {}, "stream_usage": True})
    logging: dict = field(default_factory=lambda: {"log_prompts": False, "log_keys": False})
    threads: int = 1

    @classmethod
    def from_dict(cls, d: dict) -> "Settings":
        d = dict(d)
        base = cls(tables_dir=str(d.pop("tables_dir")))
        for k, v in d.items():
            if not hasattr(base, k):
                raise CostlabError(f"serve config: unknown key '{k}'", "see configs/serve/default.yaml for the keys")
            cur = getattr(base, k)
            if isinstance(cur, dict) and isinstance(v, dict):
                merged = dict(cur)
                merged.update(v)
                setattr(base, k, merged)
            else:
                setattr(base, k, v)
        return base


# ------------------------------------------------------------------------------------------------ metrics

class Metrics:
    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("costlab_requests_total", "Chat completion requests", ["model", "cached", "status"], registry=r)
        self.cost = Counter("costlab_cost_usd_total", "Billed cost in USD", ["model"], registry=r)
        self.tokens = Counter("costlab_tokens_total", "Tokens", ["model", "kind"], registry=r)
        self.latency = Histogram("costlab_request_seconds", "End-to-end request latency", ["cached"], registry=r,
                                 buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60))
        self.ttft = Histogram("costlab_ttft_seconds", "Time to first token (upstream path)", ["model"], registry=r,
                              buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
        self.budget_rejects = Counter("costlab_budget_rejections_total", "Requests rejected for budget", ["budget"], registry=r)
        self.downgrades = Counter("costlab_downgrades_total", "Requests downgraded for budget", ["from_model", "to_model"], registry=r)
        self.degraded = Counter("costlab_degraded_total", "Component failures served as pass-through", ["component"], registry=r)
        self.compressed_chars = Counter("costlab_compressed_chars_total", "Prompt characters removed by compression", registry=r)


# ------------------------------------------------------------------------------------------------ a call

@dataclass
class Ctx:
    rid: str
    t0: float
    key: KeyInfo
    requested_model: str
    priority: str | None
    messages: list[dict]
    params: dict
    stream: bool
    include_usage: bool
    max_out: int
    cacheable: bool
    exact_key: str | None = None
    sem_scope: str | None = None
    sem_vec: Any = None
    decision: Decision | None = None
    reservation: Reservation | None = None
    downgraded_from: str | None = None
    # filled while streaming
    parts: list[str] = field(default_factory=list)
    completion_tokens: int = 0
    prompt_tokens: int | None = None
    upstream_usage: dict | None = None
    finish_reason: str | None = None
    ttft: float | None = None
    capped: bool = False  # the gateway cut the upstream at max_out (it ignored max_tokens)
    done: bool = False
    cost: float = 0.0


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def _last_user_text(messages: list[dict]) -> str:
    for m in reversed(messages):
        if m.get("role") == "user":
            return _text_of(m.get("content"))
    return _text_of(messages[-1].get("content")) if messages else ""


class Gateway:
    def __init__(self, settings: Settings, tables: Tables | None = None, embedder: Any = None,
                 redis_client: Any = None):
        self.s = settings
        self.tables = tables or load_tables(settings.tables_dir, settings.endpoints)
        self.state_dir = Path(settings.state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.metrics = Metrics()
        self._embedder = embedder
        self.keys = KeyStore.from_file(settings.auth.get("keys_file"), bool(settings.auth.get("required", False)),
                                       settings.auth.get("keys") or [])
        # compression
        self.compressor_name, self.compressor = get_compressor(bool(settings.compress.get("fillers", True)),
                                                                  settings.compress.get("keep_last"))
        # router
        rc = settings.router
        if rc.get("classifier", "keyword") == "learned":
            clf: Any = LearnedClassifier.load(rc["artifact"], self.embedder)
        else:
            clf = KeywordClassifier(default=rc.get("default_task_class", "general"))
        self.router = Router(self.tables, clf, rc.get("default_priority", "cost"), rc.get("default_task_class", "general"))
        # state backends
        self.redis = redis_client
        if settings.backend == "redis" and self.redis is None:
            self.redis = make_redis_client(settings.redis_url)
        elif settings.backend not in ("sqlite", "redis"):
            raise CostlabError(f"serve.backend={settings.backend!r}", "use sqlite or redis")
        ec = settings.exact_cache
        self.exact: SafeCache | None = None
        if ec.get("enabled", True):
            if settings.backend == "redis":
                inner: Any = RedisExactCache(self.redis, settings.redis_prefix + "cache:", int(ec.get("max_entries", 100_000)))
            else:
                inner = SQLiteExactCache(self.state_dir / "exact_cache.sqlite", int(ec.get("max_entries", 100_000)))
            self.exact = SafeCache(inner, "exact")
        sc = settings.semantic_cache
        self.semantic: SafeSemanticCache | None = None
        if sc.get("enabled", False):
            self.semantic = SafeSemanticCache(SemanticCache(
                self.embedder, float(sc.get("threshold", 0.92)), float(sc.get("ttl_s", 86400)),
                int(sc.get("max_entries", 100_000)),
                self.state_dir / "semantic_cache.sqlite" if sc.get("persist", True) else None,
                guard=bool(sc.get("guard", True))))
        self.ledger = Ledger(self.state_dir / "ledger.sqlite")
        bc = settings.budget
        if settings.backend == "redis":
            self.budgets: Any = RedisBudgets(self.redis, settings.redis_prefix + "budget:", bc.get("webhook"),
                                             bool(bc.get("redis_fail_open", True)))
        else:
            self.budgets = LocalBudgets(self.ledger.spent_by_scope(), bc.get("webhook"))
        if bc.get("on_exhausted", "reject") not in ("reject", "downgrade"):
            raise CostlabError(f"serve.budget.on_exhausted={bc.get('on_exhausted')!r}", "use reject or downgrade")
        uc = settings.upstream
        api_keys = {m: os.environ.get(env, "") for m, env in (uc.get("api_key_env") or {}).items()}
        self.upstream = UpstreamClient(float(uc.get("connect_timeout_s", 2.0)), float(uc.get("read_timeout_s", 60.0)),
                                       int(uc.get("retries", 2)), float(uc.get("backoff_s", 0.1)), api_keys)
        self.app = self._build_app()

    @property
    def embedder(self) -> Any:
        if self._embedder is None:
            from costlab.serving.embed import shared_minilm

            self._embedder = shared_minilm(self.s.threads)
        return self._embedder

    async def aclose(self) -> None:
        await self.upstream.aclose()
        self.ledger.close()

    # -------------------------------------------------------------------------------------------- app

    def _build_app(self) -> FastAPI:
        from contextlib import asynccontextmanager

        @asynccontextmanager
        async def lifespan(app: FastAPI):
            yield
            await self.aclose()

        app = FastAPI(title="costlab gateway", lifespan=lifespan)

        @app.exception_handler(GatewayError)
        async def _gw_err(request: Request, exc: GatewayError):
            return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

        from starlette.exceptions import HTTPException as StarletteHTTPException

        @app.exception_handler(StarletteHTTPException)
        async def _http_err(request: Request, exc: StarletteHTTPException):
            return JSONResponse(GatewayError(exc.status_code, str(exc.detail), "invalid_request_error",
                                             "not_found" if exc.status_code == 404 else None).body(),
                                status_code=exc.status_code)

        @app.exception_handler(Exception)
        async def _any_err(request: Request, exc: Exception):
            log.exception("internal error: %s", type(exc).__name__)
            return JSONResponse(GatewayError(500, f"internal gateway error ({type(exc).__name__})", "server_error",
                                             "internal_error").body(), status_code=500)

        @app.post("/v1/chat/completions")
        async def chat(request: Request):
            return await self.chat(request)

        @app.get("/v1/models")
        async def models(request: Request):
            self._auth(request)
            now = int(time.time())
            data = [{"id": m, "object": "model", "created": now, "owned_by": "costlab-router"} for m in self.router.aliases()]
            data += [{"id": n, "object": "model", "created": now, "owned_by": f"costlab:{m.backend}",
                      "usd_per_1m_in": m.usd_per_1m_in, "usd_per_1m_out": m.usd_per_1m_out}
                     for n, m in sorted(self.tables.models.items())]
            return {"object": "list", "data": data}

        @app.get("/v1/spend")
        async def spend(request: Request, day: str | None = None, tenant: str | None = None):
            key = self._auth(request)
            if not key.admin:
                tenant = key.tenant
            await asyncio.to_thread(self.ledger.flush, 5.0)
            out = await asyncio.to_thread(self.ledger.spend, day, tenant)
            out["budgets"] = self.budgets.state() if key.admin else None
            return out

        @app.get("/metrics")
        async def metrics():
            from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

            return Response(generate_latest(self.metrics.registry), media_type=CONTENT_TYPE_LATEST)

        @app.get("/health")
        async def health():
            return {"status": "ok", "tables": self.tables.source, "backend": self.s.backend,
                    "exact_cache_errors": self.exact.errors if self.exact else None,
                    "ledger_fallback_rows": self.ledger.fallback_rows}

        return app

    def _auth(self, request: Request) -> KeyInfo:
        key = self.keys.lookup(request.headers.get("authorization"))
        if key is None:
            raise unauthorized()
        return key

    # -------------------------------------------------------------------------------------------- chat

    async def _parse(self, request: Request) -> dict:
        raw = await request.body()
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise bad_request(f"We could not parse the JSON body of your request ({e}).", code="invalid_json") from e
        if not isinstance(body, dict):
            raise bad_request("The request body must be a JSON object.", code="invalid_json")
        if not isinstance(body.get("model"), str) or not body["model"]:
            raise bad_request("'model' is required and must be a string.", "model")
        msgs = body.get("messages")
        if not isinstance(msgs, list) or not msgs or not all(
                isinstance(m, dict) and isinstance(m.get("role"), str) and "content" in m for m in msgs):
            raise bad_request("'messages' must be a non-empty list of {role, content} objects.", "messages")
        if body.get("n", 1) not in (1, None):
            raise bad_request("only n=1 is supported by the gateway", "n")
        return body

    async def chat(self, request: Request) -> Response:
        t0 = time.perf_counter()
        rid = "chatcmpl-" + uuid.uuid4().hex[:24]
        key = self._auth(request)
        body = await self._parse(request)
        model = body["model"]
        self.router.check_model(model)
        extra = body.get("costlab") if isinstance(body.get("costlab"), dict) else {}
        prio_in = request.headers.get("x-costlab-priority") or extra.get("priority")
        priority = self.router.parse_priority(model, prio_in) if (model == AUTO or model.startswith(AUTO + "-")) else None
        messages = body["messages"]
        if self.s.compress.get("enabled", True):
            before = sum(len(_text_of(m.get("content"))) for m in messages)
            try:
                messages = self.compressor(messages)
            except Exception as e:  # noqa: BLE001
                self.metrics.degraded.labels("compress").inc()
                log.warning("compressor failed (%s); sending the prompt as is", e)
            self.metrics.compressed_chars.inc(max(0, before - sum(len(_text_of(m.get("content"))) for m in messages)))
        sc = self.s.stream
        req_max = body.get("max_completion_tokens") or body.get("max_tokens")
        if req_max is not None and (not isinstance(req_max, int) or req_max < 1):
            raise bad_request("max_tokens must be a positive integer", "max_tokens")
        max_out = min(int(req_max or sc.get("default_max_output_tokens", 512)), int(sc.get("max_output_tokens_cap", 4096)))
        temperature = body.get("temperature")
        temperature = 1.0 if temperature is None else temperature  # OpenAI's default
        if not isinstance(temperature, (int, float)) or isinstance(temperature, bool):
            raise bad_request("temperature must be a number", "temperature")
        params = {k: body.get(k) for k in OUTPUT_PARAMS if k in body}
        params["max_tokens"] = max_out
        params.pop("max_completion_tokens", None)
        cacheable = float(temperature) <= 0 or bool(self.s.exact_cache.get("cache_sampled", False))
        stream = bool(body.get("stream", False))
        so = body.get("stream_options") or {}
        ctx = Ctx(rid, t0, key, model, priority, messages, params, stream, bool(so.get("include_usage")), max_out, cacheable)
        if self.s.logging.get("log_prompts"):
            log.info("%s prompt: %s", rid, json.dumps(messages)[:2000])

        # exact cache
        if self.exact is not None and cacheable:
            ctx.exact_key = cache_key(model, priority, messages, params, key.tenant)
            errs = self.exact.errors
            hit = self.exact.get(ctx.exact_key)
            if self.exact.errors > errs:
                self.metrics.degraded.labels("exact_cache").inc()
            if hit is not None:
                return self._cached_response(ctx, hit, "exact")
        # semantic cache (its embedding is reused by the learned classifier)
        text = _last_user_text(messages)
        need_vec = (self.semantic is not None and cacheable) or isinstance(self.router.classifier, LearnedClassifier)
        if need_vec and (model == AUTO or model.startswith(AUTO + "-") or self.semantic is not None):
            try:
                ctx.sem_vec = await asyncio.to_thread(self.embedder.encode, [text])
                ctx.sem_vec = ctx.sem_vec[0]
            except Exception as e:  # noqa: BLE001
                self.metrics.degraded.labels("embedder").inc()
                log.warning("embedding failed (%s); semantic cache and learned routing skipped", e)
        if self.semantic is not None and cacheable and ctx.sem_vec is not None:
            ctx.sem_scope = scope_key(model, priority, messages[:-1] + [{"params": params}], key.tenant)
            hit = self.semantic.lookup(ctx.sem_scope, ctx.sem_vec, query=text)
            if hit is not None:
                return self._cached_response(ctx, dict(hit.value, similarity=hit.similarity), "semantic")
        # route
        vec = ctx.sem_vec if isinstance(self.router.classifier, LearnedClassifier) else None
        ctx.decision = self.router.route(model, text, priority, vec)
        # budget
        self._reserve(ctx)
        # upstream
        gen = self._deltas(ctx)
        try:
            first = await gen.__anext__()
        except StopAsyncIteration:
            first = None
        except GatewayError as e:
            self._finish(ctx, "upstream_error", e)
            raise
        except BaseException:
            self._finish(ctx, "cancelled")
            raise
        if stream:
            return _GuardedStream(self._sse(ctx, first, gen), media_type="text/event-stream",
                                  headers=self._headers(ctx, "none", None))
        try:
            if first is not None:
                async for _ in gen:
                    # a JSON client that hung up: stop the upstream and bill what was generated (checked every
                    # 16 tokens; is_disconnected() is a non-blocking receive)
                    if ctx.completion_tokens % 16 == 0 and await request.is_disconnected():
                        await _aclose(gen)
                        self._finish(ctx, "client_disconnected")
                        return Response(status_code=499)
        except GatewayError as e:
            self._finish(ctx, "upstream_error", e)
            raise
        except BaseException:
            self._finish(ctx, "cancelled")
            raise
        self._finish(ctx, "ok")
        content = "".join(ctx.parts)
        return JSONResponse(self._completion_body(ctx, content, ctx.finish_reason or "stop", "none"),
                            headers=self._headers(ctx, "none", ctx.cost))

    # -------------------------------------------------------------------------------------------- pieces

    def _estimate(self, ctx: Ctx, model: str) -> tuple[int, float]:
        cpt = float(self.s.budget.get("prompt_chars_per_token", 3.0))
        chars = sum(len(_text_of(m.get("content"))) for m in ctx.messages)
        prompt_est = int(chars / cpt) + 8 * len(ctx.messages) + 8
        return prompt_est, self.tables.models[model].cost(prompt_est, ctx.max_out)

    def _reserve(self, ctx: Ctx) -> None:
        d = ctx.decision
        assert d is not None
        bc = self.s.budget
        limits = limits_for(ctx.key.key_id if ctx.key.key_id != "anonymous" else None, ctx.key.budget, bc.get("global"))
        if not limits:
            ctx.reservation = Reservation([], 0.0)
            return
        _, est = self._estimate(ctx, d.model)
        try:
            res, hit = self.budgets.reserve(limits, est)
        except Exception as e:  # noqa: BLE001 - only reached with redis_fail_open=false
            self.metrics.degraded.labels("budgets").inc()
            raise GatewayError(503, f"budget backend unavailable ({type(e).__name__}); retry later",
                               "server_error", "budget_backend_unavailable") from e
        if res is None and bc.get("on_exhausted") == "downgrade" and d.routed:
            for cand in self.router.downgrade_candidates(d, bool(bc.get("allow_below_floor", False))):
                _, est_c = self._estimate(ctx, cand)
                res, _ = self.budgets.reserve(limits, est_c)
                if res is not None:
                    self.metrics.downgrades.labels(d.model, cand).inc()
                    ctx.downgraded_from = d.model
                    d.model = cand
                    break
        if res is None:
            assert hit is not None
            self.metrics.budget_rejects.labels(hit.scope.split(":")[0]).inc()
            self.metrics.requests.labels(d.model, "none", "budget_exhausted").inc()
            raise budget_exhausted(f"Budget exhausted: {hit.name} limit ${hit.usd:.6f} (this request needs up to "
                                   f"${est:.6f}). Raise the limit, wait for the next period, or lower max_tokens.")
        ctx.reservation = res

    async def _deltas(self, ctx: Ctx) -> AsyncIterator[str]:
        d = ctx.decision
        assert d is not None
        m = self.tables.models[d.model]
        passthrough = {k: v for k, v in ctx.params.items() if k not in ("max_tokens", "n")}
        body = {"model": d.model, "messages": ctx.messages, "stream": True, "max_tokens": ctx.max_out, **passthrough}
        if self.s.upstream.get("stream_usage", True):
            body["stream_options"] = {"include_usage": True}
        agen = self.upstream.stream(d.model, m.endpoint, body)
        try:
            async for ch in agen:
                if isinstance(ch.get("usage"), dict):
                    ctx.upstream_usage = ch["usage"]
                for choice in ch.get("choices") or []:
                    delta = (choice.get("delta") or {}).get("content")
                    if delta:
                        if ctx.completion_tokens >= ctx.max_out:
                            # the upstream ignores max_tokens: cut it here, bill max_out tokens
                            ctx.finish_reason = "length"
                            ctx.capped = True
                            return
                        if ctx.ttft is None:
                            ctx.ttft = time.perf_counter() - ctx.t0
                        ctx.completion_tokens += 1  # one token per chunk (llama.cpp, vLLM, OpenAI stream that way)
                        ctx.parts.append(delta)
                        yield delta
                    if choice.get("finish_reason"):
                        ctx.finish_reason = choice["finish_reason"]
                # after max_out tokens keep reading only for the finish/usage chunks of an upstream that honours
                # max_tokens; any further content is cut above
        finally:
            await _aclose(agen)

    async def _sse(self, ctx: Ctx, first: str | None, gen: AsyncIterator[str]) -> AsyncIterator[bytes]:
        created = int(time.time())
        model = ctx.decision.model if ctx.decision else ctx.requested_model

        def chunk(delta: dict, finish: str | None = None) -> bytes:
            return _sse({"id": ctx.rid, "object": "chat.completion.chunk", "created": created, "model": model,
                         "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})

        completed = False
        try:
            yield chunk({"role": "assistant", "content": ""})
            if first is not None:
                yield chunk({"content": first})
                async for delta in gen:
                    yield chunk({"content": delta})
            completed = True
        except GatewayError as e:  # dropped mid-way: tell the client in-band, bill what was generated
            completed = True
            self._finish(ctx, "upstream_error", e)
            yield _sse(e.body())
            yield b"data: [DONE]\n\n"
            return
        finally:
            if not completed:
                # CancelledError/GeneratorExit: the client went away. Bill what was generated (sync, first),
                # then close the upstream stream (shielded from the cancellation).
                self._finish(ctx, "client_disconnected")
                await _aclose(gen)
        self._finish(ctx, "ok")
        yield chunk({}, ctx.finish_reason or "stop")
        if ctx.include_usage:
            yield _sse({"id": ctx.rid, "object": "chat.completion.chunk", "created": created, "model": model,
                        "choices": [], "usage": self._usage(ctx, "none")})
        yield b"data: [DONE]\n\n"

    def _finish(self, ctx: Ctx, status: str, err: GatewayError | None = None) -> None:
        """Settle the reservation, write the ledger row, update metrics, store in cache. Exactly once."""
        if ctx.done:
            return
        ctx.done = True
        d = ctx.decision
        model = d.model if d else ctx.requested_model
        up = ctx.upstream_usage or {}
        complete = status == "ok" and not ctx.capped
        if status in ("upstream_error", "cancelled") and not ctx.parts:
            pt, ct = 0, 0  # nothing generated: nothing billed
        else:
            pt = int(up.get("prompt_tokens") or self._estimate(ctx, model)[0])
            ct = int(up["completion_tokens"]) if complete and up.get("completion_tokens") is not None else ctx.completion_tokens
            ct = min(ct, ctx.max_out)
        ctx.prompt_tokens, ctx.completion_tokens = pt, ct
        ctx.cost = self.tables.models[model].cost(pt, ct) if model in self.tables.models else 0.0
        if ctx.reservation is not None:
            try:
                self.budgets.settle(ctx.reservation, ctx.cost)
            except Exception as e:  # noqa: BLE001
                self.metrics.degraded.labels("budgets").inc()
                log.warning("budget settle failed: %s", e)
        latency = time.perf_counter() - ctx.t0
        self._record(ctx, model, "none", status, latency)
        mt = self.metrics
        mt.cost.labels(model).inc(ctx.cost)
        mt.tokens.labels(model, "prompt").inc(pt)
        mt.tokens.labels(model, "completion").inc(ct)
        if ctx.ttft is not None:
            mt.ttft.labels(model).observe(ctx.ttft)
        if status == "ok" and ctx.parts and ctx.cacheable:
            value = {"content": "".join(ctx.parts), "finish_reason": ctx.finish_reason or "stop", "model": model,
                     "usage": {"prompt_tokens": pt, "completion_tokens": ct}, "query": _last_user_text(ctx.messages)}
            if self.exact is not None and ctx.exact_key:
                self.exact.put(ctx.exact_key, value, float(self.s.exact_cache.get("ttl_s", 86400)))
            if self.semantic is not None and ctx.sem_scope and ctx.sem_vec is not None:
                self.semantic.store(ctx.sem_scope, ctx.sem_vec, value)

    def _record(self, ctx: Ctx, model: str, cached: str, status: str, latency: float) -> None:
        d = ctx.decision
        self.ledger.record({
            "id": ctx.rid, "tenant": ctx.key.tenant, "key_id": ctx.key.key_id, "requested_model": ctx.requested_model,
            "model": model, "task_class": d.task_class if d else None, "priority": ctx.priority,
            "prompt_tokens": ctx.prompt_tokens or 0, "completion_tokens": ctx.completion_tokens, "cached": cached,
            "cost_usd": ctx.cost, "reserved_usd": ctx.reservation.usd if ctx.reservation else 0.0,
            "latency_ms": latency * 1000, "ttft_ms": None if ctx.ttft is None else ctx.ttft * 1000,
            "status": status, "finish_reason": ctx.finish_reason, "stream": float(ctx.stream)})
        self.metrics.requests.labels(model, cached, status).inc()
        self.metrics.latency.labels(cached).observe(latency)
        who = f" key={ctx.key.key_id}" if self.s.logging.get("log_keys") else ""
        log.info("%s tenant=%s%s model=%s cached=%s status=%s tokens=%s/%s cost=$%.8f latency=%.1fms",
                 ctx.rid, ctx.key.tenant, who, model, cached, status, ctx.prompt_tokens, ctx.completion_tokens,
                 ctx.cost, latency * 1000)

    def _cached_response(self, ctx: Ctx, hit: dict, kind: str) -> Response:
        ctx.done = True
        ctx.prompt_tokens = int(hit.get("usage", {}).get("prompt_tokens", 0))
        ctx.completion_tokens = int(hit.get("usage", {}).get("completion_tokens", 0))
        ctx.cost = 0.0
        ctx.finish_reason = hit.get("finish_reason", "stop")
        model = hit.get("model", ctx.requested_model)
        ctx.decision = Decision(model, None, ctx.priority)
        ctx.ttft = time.perf_counter() - ctx.t0
        self._record(ctx, model, kind, "ok", time.perf_counter() - ctx.t0)
        headers = self._headers(ctx, kind, 0.0)
        if "similarity" in hit:
            headers["x-costlab-similarity"] = f"{hit['similarity']:.4f}"
        if not ctx.stream:
            return JSONResponse(self._completion_body(ctx, hit["content"], ctx.finish_reason, kind), headers=headers)

        async def gen() -> AsyncIterator[bytes]:
            created = int(time.time())
            base = {"id": ctx.rid, "object": "chat.completion.chunk", "created": created, "model": model}
            yield _sse({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": hit["content"]}, "finish_reason": None}]})
            yield _sse({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": ctx.finish_reason}]})
            if ctx.include_usage:
                yield _sse({**base, "choices": [], "usage": self._usage(ctx, kind)})
            yield b"data: [DONE]\n\n"

        return StreamingResponse(gen(), media_type="text/event-stream", headers=headers)

    def _usage(self, ctx: Ctx, cached: str) -> dict:
        d = ctx.decision
        pt, ct = ctx.prompt_tokens or 0, ctx.completion_tokens
        return {"prompt_tokens": pt, "completion_tokens": ct, "total_tokens": pt + ct,
                "costlab": {"model": d.model if d else ctx.requested_model, "cached": cached,
                            "cost_usd": ctx.cost, "task_class": d.task_class if d else None,
                            "priority": ctx.priority, "downgraded_from": ctx.downgraded_from,
                            "reserved_usd": ctx.reservation.usd if ctx.reservation else 0.0,
                            "ttft_ms": None if ctx.ttft is None else round(ctx.ttft * 1000, 2)}}

    def _completion_body(self, ctx: Ctx, content: str, finish: str, cached: str) -> dict:
        d = ctx.decision
        return {"id": ctx.rid, "object": "chat.completion", "created": int(time.time()),
                "model": d.model if d else ctx.requested_model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish,
                             "logprobs": None}],
                "usage": self._usage(ctx, cached)}

    def _headers(self, ctx: Ctx, cached: str, cost: float | None) -> dict[str, str]:
        d = ctx.decision
        h = {"x-costlab-model": d.model if d else ctx.requested_model, "x-costlab-cached": cached,
             "x-request-id": ctx.rid}
        if cost is not None:
            h["x-costlab-cost-usd"] = repr(float(cost))
        else:  # streaming: the exact cost is in the final usage chunk; the header carries the upper bound
            h["x-costlab-cost-usd-reserved"] = repr(float(ctx.reservation.usd if ctx.reservation else 0.0))
        if d and d.task_class:
            h["x-costlab-task-class"] = d.task_class
        if ctx.downgraded_from:
            h["x-costlab-downgraded-from"] = ctx.downgraded_from
        return h


def _sse(obj: dict) -> bytes:
    return b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\n\n"


async def _aclose(gen: Any) -> None:
    import anyio

    with anyio.CancelScope(shield=True):
        try:
            await gen.aclose()
        except BaseException:  # noqa: BLE001
            pass


class _GuardedStream(StreamingResponse):
    """Closes the body generator however the response ends (client disconnect included), so its ``finally``
    cancels the upstream call and bills what was generated."""

    async def __call__(self, scope, receive, send):  # type: ignore[override]
        try:
            await super().__call__(scope, receive, send)
        finally:
            await _aclose(self.body_iterator)
