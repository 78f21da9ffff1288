"""Prometheus metrics of the gateway (served at /metrics, admin key required unless auth.metrics_public)."""

from __future__ import annotations

from typing import Any


class Metrics:
    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self._children: dict[tuple, Any] = {}
        self.registry = r = CollectorRegistry()
        self.requests = Counter(
            "costlab_requests_total", "Chat completion requests", ["model", "cached", "status"], registry=r
        )
        self.cost = Counter("costlab_cost_usd_total", "Billed cost in USD", ["model"], registry=r)
        self.tokens = Counter("costlab_tokens_total", "Tokens", ["model", "kind"], registry=r)
        self.latency = Histogram(
            "costlab_request_seconds",
            "End-to-end request latency",
            ["cached"],
            registry=r,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
        )
        self.ttft = Histogram(
            "costlab_ttft_seconds",
            "Time to first token (upstream path)",
            ["model"],
            registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.budget_rejects = Counter(
            "costlab_budget_rejections_total", "Requests rejected for budget", ["budget"], registry=r
        )
        self.downgrades = Counter(
            "costlab_downgrades_total", "Requests downgraded for budget", ["from_model", "to_model"], registry=r
        )
        self.degraded = Counter(
            "costlab_degraded_total", "Component failures served as pass-through", ["component"], registry=r
        )
        self.classifier_fallbacks = Counter(
            "costlab_classifier_fallbacks_total",
            "Auto-routed requests routed by the keyword rules: the learned classifier timed out, failed, or was "
            "still busy with a timed-out request",
            ["reason"],
            registry=r,
        )
        self.compressed_chars = Counter(
            "costlab_compressed_chars_total", "Prompt characters removed by compression", registry=r
        )
        self.usage_alerts = Counter(
            "costlab_usage_alerts_total", "Upstream usage rejected or capped at settlement", ["billing"], registry=r
        )
        self.bad_upstream = Counter(
            "costlab_upstream_malformed_total", "Undecodable or malformed upstream stream events", registry=r
        )
        self.ledger_failing = Gauge(
            "costlab_ledger_failing", "1 while the ledger cannot write anything durable", registry=r
        )
        self.unbilled = Counter(
            "costlab_ledger_refused_total", "Paid requests refused because the ledger cannot write", registry=r
        )

    def child(self, metric: Any, *labels: str) -> Any:
        """``metric.labels(*labels)``, kept: the per-request counters skip prometheus_client's lookup (a lock and
        label validation, ~1.5 us each, six per request)."""
        k = (metric, *labels)
        c = self._children.get(k)
        if c is None:
            c = self._children[k] = metric.labels(*labels)
        return c
