"""The gateway: an OpenAI-compatible FastAPI app in front of the upstreams named in routing_table.json.

POST /v1/chat/completions (JSON or SSE), GET /v1/models, GET /v1/spend, GET /metrics + GET /health details
(admin key). Per request: auth -> read (size limit) -> validate (request.py) -> compress -> exact cache ->
semantic cache -> route -> ledger check -> budget reserve (accounting.py) -> upstream (streamed; output capped at
max_tokens; client disconnect and the request deadline cancel it) -> settle + ledger row (queued) -> cache store.
Each response names its model, cache status and cost in ``x-costlab-*`` headers and in ``usage.costlab``.
Settings: ``costlab.schemas.serve.ServeConfig`` (values in configs/serve/default.yaml, loaded by settings.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from costlab.cost.compress import _text as text_of  # the one text-extraction helper
from costlab.paths import secret
from costlab.schemas.serve import ServeConfig
from costlab.serving import responses as R
from costlab.serving.accounting import Tokenizers, count_prompt, plausible_usage
from costlab.serving.auth import KeyInfo, KeyStore
from costlab.serving.budgets import LocalBudgets, RedisBudgets, Reservation, limits_for
from costlab.serving.cache import RedisExactCache, SafeCache, SQLiteExactCache, cache_key, last_user_text, semantic_text
from costlab.serving.cache import redis_client as make_redis_client
from costlab.serving.classify import KeywordClassifier, LearnedClassifier
from costlab.serving.errors import GatewayError, budget_exhausted, unauthorized
from costlab.serving.ledger import Ledger, new_id
from costlab.serving.metrics import Metrics
from costlab.serving.request import KNOWN, parse_request, read_body
from costlab.serving.router import AUTO, Decision, Router
from costlab.serving.semantic import SafeSemanticCache, SemanticCache, scope_key
from costlab.serving.streaming import cached_stream, relay
from costlab.serving.tables import Tables, load_tables
from costlab.serving.upstream import UpstreamClient

log = logging.getLogger("costlab.serving")

# body keys the gateway sets itself or consumes; never forwarded as sent
_OWN = frozenset(
    {"model", "messages", "stream", "stream_options", "costlab", "max_tokens", "max_completion_tokens", "n"}
)
# forwarded keys that do not change the answer (left out of cache keys)
_NOT_IN_KEY = frozenset({"user", "metadata", "store", "service_tier"})


class Gateway:
    def __init__(
        self, settings: ServeConfig, tables: Tables | None = None, embedder: Any = None, redis_client: Any = None
    ):
        self.s = s = settings
        self.tables = tables or load_tables(s.tables_dir, s.endpoints)
        self.state_dir = Path(s.state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.metrics = Metrics()
        self._embedder = embedder
        self.keys = KeyStore.from_file(
            s.auth.keys_file, s.auth.keys, s.auth.allow_anonymous, s.auth.anonymous_budget.model_dump()
        )
        self.compress = None
        if s.compress.enabled:
            from costlab.cost.compress import CompressionConfig, compress_messages

            cc = CompressionConfig(fillers=s.compress.fillers, keep_last=s.compress.keep_last)
            self.compress = lambda msgs: compress_messages(msgs, cc)[0]
        rc = s.router
        clf: Any = (
            LearnedClassifier.load(rc.artifact, self.embedder)
            if rc.classifier == "learned"
            else KeywordClassifier()  # text no rule matches: "general", which routes by the table's default_route
        )
        self.router = Router(self.tables, clf, rc.default_priority)
        self.keywords = KeywordClassifier()  # the learned classifier's fallback
        # one thread for embedding + learned classification: a stuck model holds only this, never the event loop
        # or the default executor (ledger flushes, /v1/spend)
        self._clf_pool = ThreadPoolExecutor(1, thread_name_prefix="costlab-classify")
        self._clf_stuck: Future | None = None  # a timed-out job still running on that thread
        self.redis = redis_client
        if s.backend == "redis" and self.redis is None:
            self.redis = make_redis_client(s.redis_url)
        self.exact: SafeCache | None = None
        if s.exact_cache.enabled:
            inner: Any = (
                RedisExactCache(self.redis, s.redis_prefix + "cache:", s.exact_cache.max_entries)
                if s.backend == "redis"
                else SQLiteExactCache(self.state_dir / "exact_cache.sqlite", s.exact_cache.max_entries)
            )
            self.exact = SafeCache(inner, "exact")
        sc = s.semantic_cache
        self.semantic: SafeSemanticCache | None = None
        if sc.enabled:
            self.semantic = SafeSemanticCache(
                SemanticCache(
                    self.embedder,
                    sc.threshold,
                    sc.ttl_s,
                    sc.max_entries,
                    self.state_dir / "semantic_cache.sqlite" if sc.persist else None,
                    guard=sc.guard,
                )
            )
        self.ledger = Ledger(self.state_dir / "ledger.sqlite", retry_s=s.ledger.retry_s)
        bc = s.budget
        self.global_budget = bc.global_.model_dump()
        if s.backend == "redis":
            self.budgets: Any = RedisBudgets(self.redis, s.redis_prefix + "budget:", bc.webhook, bc.redis_fail_open)
        else:
            self.budgets = LocalBudgets(self.ledger.spent_by_scope(), bc.webhook)
        has_budgets = any(v is not None for v in self.global_budget.values()) or self.keys.budgets()
        policy = s.ledger.on_write_failure
        self.ledger_fail_closed = policy == "reject" or (policy == "auto" and has_budgets)
        self._last_ledger_alert = 0.0
        self.tokenizers = Tokenizers(s.tokenizers)
        uc = s.upstream
        api_keys = {m: secret(env) or "" for m, env in uc.api_key_env.items()}
        self.upstream = UpstreamClient(uc.connect_timeout_s, uc.read_timeout_s, uc.retries, uc.backoff_s, api_keys)
        fu = s.request.forward_unknown
        self.forward_unknown = None if fu is None else frozenset(fu)
        from costlab.serving.app import build_app

        self.app: FastAPI = build_app(self)

    @property
    def embedder(self) -> Any:
        if self._embedder is None:
            from costlab.serving.embed import shared_minilm

            self._embedder = shared_minilm(self.s.threads)
        return self._embedder

    async def aclose(self) -> None:
        await self.upstream.aclose()
        self._clf_pool.shutdown(wait=False, cancel_futures=True)
        if self.exact is not None:
            await asyncio.to_thread(self.exact.close)  # commits the queued cache writes
        self.ledger.close()

    def authenticate(self, request: Request) -> KeyInfo:
        key = self.keys.lookup(request.headers.get("authorization"))
        if key is None:
            raise unauthorized()
        return key

    # -------------------------------------------------------------------------------------------- chat
    async def chat(self, request: Request) -> Response:
        t0 = time.perf_counter()
        lim = self.s.limits
        deadline = time.monotonic() + lim.request_timeout_s
        rid = "chatcmpl-" + new_id()
        key = self.authenticate(request)
        body, req = parse_request(await read_body(request, lim.max_body_bytes), lim.max_depth, lim.max_messages)
        model = req.model
        self.router.check_model(model)
        routed = model == AUTO or model.startswith(AUTO + "-")
        prio_in = request.headers.get("x-costlab-priority") or (req.costlab or {}).get("priority")
        priority = self.router.parse_priority(model, prio_in) if routed else None
        messages = body["messages"]
        if self.compress is not None:
            messages = self._compressed(messages)
        sc = self.s.stream
        max_out = min(
            req.max_completion_tokens or req.max_tokens or sc.default_max_output_tokens, sc.max_output_tokens_cap
        )
        forward = {
            k: v
            for k, v in body.items()
            if k not in _OWN and (k in KNOWN or self.forward_unknown is None or k in self.forward_unknown)
        }
        temperature = 1.0 if req.temperature is None else req.temperature  # OpenAI's default
        cacheable = temperature <= 0 or self.s.exact_cache.cache_sampled
        so = req.stream_options
        ctx = R.Ctx(
            rid,
            t0,
            deadline,
            key,
            model,
            priority,
            messages,
            forward,
            bool(req.stream),
            bool(so and so.include_usage),
            max_out,
            cacheable,
        )
        if self.s.logging.log_prompts:
            log.info("%s prompt: %s", rid, json.dumps(messages)[:2000])
        key_params = {k: v for k, v in forward.items() if k not in _NOT_IN_KEY}
        key_params["max_tokens"] = max_out
        if self.exact is not None and cacheable:
            ctx.exact_key = cache_key(model, priority, messages, key_params, key.tenant)
            errs = self.exact.errors
            hit = self.exact.get(ctx.exact_key)
            if self.exact.errors > errs:
                self.metrics.degraded.labels("exact_cache").inc()
            if hit is not None:
                return self._cached_response(ctx, hit, "exact")
        text = last_user_text(messages)[: self.s.router.max_classify_chars]
        learned = routed and isinstance(self.router.classifier, LearnedClassifier)
        sem_text = semantic_text(messages) if (self.semantic is not None and cacheable) else None
        if sem_text is not None or learned:
            ctx.sem_vec, ctx.decision = await self._embed_and_route(model, text, priority, sem_text, learned)
        if self.semantic is not None and sem_text is not None and ctx.sem_vec is not None:
            ctx.sem_scope = scope_key(model, priority, messages[:-1] + [{"params": key_params}], key.tenant)
            ctx.sem_text = sem_text
            hit = self.semantic.lookup(ctx.sem_scope, ctx.sem_vec, query=sem_text)
            if hit is not None:
                return self._cached_response(ctx, dict(hit.value, similarity=hit.similarity), "semantic")
        if ctx.decision is None:  # keyword rules (linear time on <= max_classify_chars), also when learned failed
            ctx.decision = self.router.route(model, text, priority, None, self.keywords if learned else None)
        self._check_ledger()
        self._reserve(ctx)
        return await relay(self, ctx, request)

    async def _embed_and_route(
        self, model: str, text: str, priority: str | None, sem_text: str | None, learned: bool
    ) -> tuple[Any, Decision | None]:
        """(embedding, learned route) in one job on the classifier thread, bounded by router.classifier_timeout_s:
        past it (or on an error) the request goes on without them (semantic lookup skipped, keyword route) and
        costlab_classifier_fallbacks_total counts it. While a timed-out job still runs, later requests do not
        queue behind it."""

        def job() -> tuple[Any, Decision | None]:
            try:
                vec = self.embedder.encode([sem_text if sem_text is not None else text])[0]
            except Exception as e:  # noqa: BLE001
                self.metrics.degraded.labels("embedder").inc()
                log.warning("embedding failed (%s); semantic cache and learned routing skipped", e)
                return None, None
            if not learned:
                return vec, None
            return vec, self.router.route(model, text, priority, vec if sem_text in (None, text) else None)

        reason = "busy"
        if self._clf_stuck is None or self._clf_stuck.done():
            fut = self._clf_pool.submit(job)
            try:
                vec, d = await asyncio.wait_for(asyncio.wrap_future(fut), self.s.router.classifier_timeout_s)
                if d is not None or not learned:
                    return vec, d
                reason = "error"  # the embedding failed (counted as such): no learned route
            except asyncio.TimeoutError:
                reason, self._clf_stuck = "timeout", fut
            except GatewayError:
                raise
            except Exception as e:  # noqa: BLE001
                reason = "error"
                log.warning("learned classifier failed (%s: %s)", type(e).__name__, e)
        if learned:
            self.metrics.classifier_fallbacks.labels(reason).inc()
            log.warning("learned classifier %s; routed by the keyword rules", reason)
        else:
            self.metrics.degraded.labels("embedder").inc()
        return None, None

    def _compressed(self, messages: list[dict]) -> list[dict]:
        try:
            out = self.compress(messages)  # type: ignore[misc]
        except Exception as e:  # noqa: BLE001
            self.metrics.degraded.labels("compress").inc()
            log.warning("compressor failed (%s); sending the prompt as is", e)
            return messages
        if out != messages:  # the characters saved are counted only when something changed
            before = sum(len(text_of(m.get("content"))) for m in messages)
            self.metrics.compressed_chars.inc(max(0, before - sum(len(text_of(m.get("content"))) for m in out)))
        return out

    def _check_ledger(self) -> None:
        if not self.ledger.failing:
            self.metrics.ledger_failing.set(0)
            return
        self.metrics.ledger_failing.set(1)
        now = time.monotonic()
        if now - self._last_ledger_alert > 1.0:
            self._last_ledger_alert = now
            log.error(
                "LEDGER CANNOT WRITE (%s); %d billed row(s) held in memory only; %s",
                self.ledger.last_error,
                self.ledger.unrecorded,
                "refusing new paid requests"
                if self.ledger_fail_closed
                else "serving anyway (ledger.on_write_failure=serve)",
            )
        if self.ledger_fail_closed:
            self.metrics.unbilled.inc()
            raise GatewayError(
                503,
                "The gateway cannot record billing right now; retry later.",
                "server_error",
                "ledger_unavailable",
                headers={"retry-after": "5"},
            )

    def _reserve(self, ctx: R.Ctx) -> None:
        d = ctx.decision
        assert d is not None
        counter, method = self.tokenizers.get(d.model)
        tools = ctx.forward.get("tools")
        ctx.prompt = count_prompt(ctx.messages, tools, counter, method)
        limits = limits_for(ctx.key.key_id, ctx.key.budget, self.global_budget)
        if not limits:
            ctx.reservation = Reservation([], self.tables.models[d.model].cost(ctx.prompt.estimate, ctx.max_out))
            return
        est = self.tables.models[d.model].cost(ctx.prompt.estimate, ctx.max_out)
        try:
            res, hit = self.budgets.reserve(limits, est)
        except Exception as e:  # noqa: BLE001 - only reached with redis_fail_open=false
            self.metrics.degraded.labels("budgets").inc()
            raise GatewayError(
                503, "budget backend unavailable; retry later", "server_error", "budget_backend_unavailable"
            ) from e
        if res is None and self.s.budget.on_exhausted == "downgrade" and d.routed:
            for cand in self.router.downgrade_candidates(d, self.s.budget.allow_below_floor):
                counter, method = self.tokenizers.get(cand)
                pc = count_prompt(ctx.messages, tools, counter, method)
                est_c = self.tables.models[cand].cost(pc.estimate, ctx.max_out)
                res, _ = self.budgets.reserve(limits, est_c)
                if res is not None:
                    self.metrics.downgrades.labels(d.model, cand).inc()
                    ctx.downgraded_from, d.model, ctx.prompt = d.model, cand, pc
                    break
        if res is None:
            assert hit is not None
            self.metrics.budget_rejects.labels(hit.scope.split(":")[0]).inc()
            self.metrics.requests.labels(d.model, "none", "budget_exhausted").inc()
            raise budget_exhausted(
                f"Budget exhausted: {hit.name} limit ${hit.usd:.6f} (this request needs up to "
                f"${est:.6f}). Raise the limit, wait for the next period, or lower max_tokens."
            )
        ctx.reservation = res

    # -------------------------------------------------------------------------------------------- settle
    def settle(
        self, ctx: R.Ctx, status: str, err: GatewayError | None = None, defer: bool = False
    ) -> Callable[[], None] | None:
        """Settle the reservation, write the ledger row, update metrics, store in cache. Exactly once.

        ``defer``: the billed cost and the budget are settled now; the ledger row, metrics and cache store are
        returned as a function to run once the response has left (streaming.AfterResponse). The ledger counts
        the row as promised until then: ``flush()`` waits for it and ``unrecorded`` includes it."""
        if ctx.done:
            return None
        ctx.done = True
        model = ctx.model
        info = self.tables.models.get(model)
        if status in ("upstream_error", "cancelled") and not ctx.generated:
            pt, ct, ctx.billing = 0, 0, "none"  # nothing generated: nothing billed
        else:
            assert ctx.prompt is not None
            complete = status == "ok" and not ctx.capped
            pt, ct, ctx.billing, problem = plausible_usage(
                ctx.upstream_usage if complete else None,
                ctx.prompt,
                info.context if info else None,
                ctx.max_out,
                ctx.completion_tokens,
            )
            if problem:
                self.metrics.usage_alerts.labels(ctx.billing).inc()
                log.warning("%s %s (model %s)", ctx.rid, problem, model)
        ctx.prompt_tokens, ctx.completion_tokens = pt, ct
        ctx.cost = info.cost(pt, ct) if info else 0.0
        if ctx.reservation is not None and ctx.reservation.limits:
            try:
                self.budgets.settle(ctx.reservation, ctx.cost)
            except Exception as e:  # noqa: BLE001
                self.metrics.degraded.labels("budgets").inc()
                log.warning("budget settle failed: %s", e)
        latency = time.perf_counter() - ctx.t0
        if defer:
            self.ledger.promise()
            return lambda: self._after_settle(ctx, model, status, latency, pt, ct, True)
        self._after_settle(ctx, model, status, latency, pt, ct, False)
        return None

    def _after_settle(
        self, ctx: R.Ctx, model: str, status: str, latency: float, pt: int, ct: int, promised: bool
    ) -> None:
        self._record(ctx, model, "none", status, latency, promised)
        mt = self.metrics
        mt.child(mt.cost, model).inc(ctx.cost)
        mt.child(mt.tokens, model, "prompt").inc(pt)
        mt.child(mt.tokens, model, "completion").inc(ct)
        if ctx.ttft is not None:
            mt.child(mt.ttft, model).observe(ctx.ttft)
        if status == "ok" and ctx.generated and ctx.cacheable and not ctx.capped:
            value = {
                "message": ctx.message(),
                "logprobs": {"content": ctx.logprobs} if ctx.logprobs else None,
                "finish_reason": ctx.finish_reason or "stop",
                "model": model,
                "usage": {"prompt_tokens": pt, "completion_tokens": ct},
                "query": ctx.sem_text,
            }
            if self.exact is not None and ctx.exact_key:
                self.exact.put(ctx.exact_key, value, self.s.exact_cache.ttl_s)
            if self.semantic is not None and ctx.sem_scope and ctx.sem_vec is not None:
                self.semantic.store(ctx.sem_scope, ctx.sem_vec, value)

    def _record(self, ctx: R.Ctx, model: str, cached: str, status: str, latency: float, promised: bool = False) -> None:
        d = ctx.decision
        self.ledger.record(
            {
                "id": ctx.rid,
                "tenant": ctx.key.tenant,
                "key_id": ctx.key.key_id,
                "requested_model": ctx.requested_model,
                "model": model,
                "task_class": d.task_class if d else None,
                "priority": ctx.priority,
                "prompt_tokens": ctx.prompt_tokens or 0,
                "completion_tokens": ctx.completion_tokens,
                "cached": cached,
                "cost_usd": ctx.cost,
                "reserved_usd": ctx.reservation.usd if ctx.reservation else 0.0,
                "latency_ms": latency * 1000,
                "ttft_ms": None if ctx.ttft is None else ctx.ttft * 1000,
                "status": status,
                "finish_reason": ctx.finish_reason,
                "stream": float(ctx.stream),
                "billing": ctx.billing,
            },
            promised,
        )
        mt = self.metrics
        mt.child(mt.requests, model, cached, status).inc()
        mt.child(mt.latency, cached).observe(latency)
        who = f" key={ctx.key.key_id}" if self.s.logging.log_keys else ""
        log.info(
            "%s tenant=%s%s model=%s cached=%s status=%s tokens=%s/%s cost=$%.8f latency=%.1fms",
            ctx.rid,
            ctx.key.tenant,
            who,
            model,
            cached,
            status,
            ctx.prompt_tokens,
            ctx.completion_tokens,
            ctx.cost,
            latency * 1000,
        )

    def _cached_response(self, ctx: R.Ctx, hit: dict, kind: str) -> Response:
        ctx.done = True
        u = hit.get("usage") or {}
        ctx.prompt_tokens, ctx.completion_tokens = int(u.get("prompt_tokens", 0)), int(u.get("completion_tokens", 0))
        ctx.cost, ctx.billing = 0.0, "cache"
        ctx.finish_reason = hit.get("finish_reason", "stop")
        ctx.decision = Decision(hit.get("model", ctx.requested_model), None, ctx.priority)
        ctx.ttft = time.perf_counter() - ctx.t0
        msg = hit.get("message") or {"role": "assistant", "content": hit.get("content", "")}
        self._record(ctx, ctx.model, kind, "ok", time.perf_counter() - ctx.t0)
        hdr = R.headers(ctx, kind, 0.0)
        if "similarity" in hit:
            hdr["x-costlab-similarity"] = f"{hit['similarity']:.4f}"
        if not ctx.stream:
            return JSONResponse(R.completion_body(ctx, msg, hit.get("logprobs"), ctx.finish_reason, kind), headers=hdr)
        return cached_stream(ctx, msg, hit, kind, hdr)
