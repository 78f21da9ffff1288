"""Router: requested model (or "auto" / "auto-<priority>") + task class + priority → model and fallbacks.

It follows routing_table.json (version 2, docs/design.md): a predicted class with a row in ``routes`` takes that
row; a class the table does not know (the keyword classifier's "general", a learned classifier's new label) or
lists under ``unrouted`` (its reference was at chance there) takes ``default_route`` — the row the tables stage
built from all items pooled — never another class's pick. Budget downgrades walk the row's fallbacks and keep only
models whose retention lower bound on that row's class is >= the floor (``evidence`` in the table), unless the
gateway is configured to allow going below it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from costlab.errors import CostlabError
from costlab.serving.errors import GatewayError, bad_request, model_not_found
from costlab.serving.tables import PRIORITIES, Tables

log = logging.getLogger("costlab.serving")
AUTO = "auto"


@dataclass
class Decision:
    model: str
    task_class: str | None
    priority: str | None
    fallbacks: list[str] = field(default_factory=list)
    routed: bool = False  # True when the router chose (model was auto)
    route_class: str | None = None  # the table row used: task_class, or default_route for unknown/unrouted classes


class Router:
    def __init__(self, tables: Tables, classifier: Any, default_priority: str = "cost"):
        if default_priority not in PRIORITIES:
            raise bad_request(f"default priority {default_priority!r} is not one of {PRIORITIES}")
        self.tables = tables
        self.classifier = classifier
        self.default_priority = default_priority
        raw = getattr(tables, "raw", None) or {}
        # the table's rule (version 2); a version-1 table has none and is refused: rebuild it
        self.default_route = raw.get("default_route")
        self.unrouted = dict(raw.get("unrouted") or {})
        self.evidence = raw.get("evidence") or {}
        if self.default_route not in tables.routes:
            raise CostlabError(
                f"{tables.source}/routing_table.json: no default route (default_route="
                f"{raw.get('default_route')!r}, routes: {sorted(tables.routes)}) — requests of an unknown or unrouted "
                "class would have nowhere safe to go",
                "rebuild the tables with the build_tables stage (routing_table.json version 2 has default_route)",
            )

    def aliases(self) -> list[str]:
        return [AUTO] + [f"{AUTO}-{p}" for p in PRIORITIES]

    def known_models(self) -> list[str]:
        return self.aliases() + sorted(self.tables.models)

    def parse_priority(self, requested_model: str, priority: str | None) -> str:
        if requested_model.startswith(AUTO + "-"):
            p = requested_model[len(AUTO) + 1 :]
            if p in PRIORITIES:
                return p
        if priority is None or priority == "":
            return self.default_priority
        if priority not in PRIORITIES:
            raise GatewayError(
                400,
                f"priority {priority!r} is not one of {list(PRIORITIES)}",
                param="x-costlab-priority",
                code="invalid_priority",
            )
        return priority

    def check_model(self, requested_model: str) -> None:
        if requested_model not in self.tables.models and requested_model not in self.aliases():
            raise model_not_found(requested_model, self.known_models())

    def classify(self, text: str, vector: Any = None, classifier: Any = None) -> str:
        clf = classifier or self.classifier
        if vector is not None and hasattr(clf, "embedder"):
            tc = clf.predict([text], vectors=vector.reshape(1, -1))[0]
        else:
            tc = clf.predict([text])[0]
        return tc

    def route(
        self, requested_model: str, text: str, priority: str | None, vector: Any = None, classifier: Any = None
    ) -> Decision:
        """``classifier`` overrides the router's own for this request (the gateway's keyword fallback)."""
        self.check_model(requested_model)
        if requested_model in self.tables.models:
            return Decision(requested_model, None, None, [], routed=False)
        prio = self.parse_priority(requested_model, priority)
        tc = self.classify(text, vector, classifier)
        rc = self.route_class(tc)
        row = self.tables.routes[rc]
        r = row.get(prio) or row[self.default_priority]
        return Decision(r.model, tc, prio, list(r.fallbacks), routed=True, route_class=rc)

    def route_class(self, task_class: str | None) -> str:
        """The table row a predicted class uses: its own when routed, else ``default_route``."""
        if task_class in self.tables.routes and task_class not in self.unrouted:
            return task_class
        return self.default_route

    def _lower_bound(self, model: str, route_class: str | None) -> float | None:
        if self.evidence:  # v2 table: only its evidence counts (a model without one is below the floor)
            return ((self.evidence.get(route_class) or {}).get(model) or {}).get("retention_lo")
        return self.tables.retention(model, route_class) if route_class else None  # v1 table: point retention

    def downgrade_candidates(self, decision: Decision, allow_below_floor: bool) -> list[str]:
        """Fallbacks cheaper than the chosen model, in routing-table order, that keep the quality floor on the row
        the request was routed by (its retention lower bound >= floor; unknown counts as below unless allowed)."""
        models = self.tables.models
        cur = models[decision.model]
        cur_price = cur.usd_per_1m_in + cur.usd_per_1m_out
        out = []
        for name in decision.fallbacks:
            m = models[name]
            if m.usd_per_1m_in + m.usd_per_1m_out >= cur_price:
                continue
            rc = decision.route_class or self.route_class(decision.task_class)
            ret = self._lower_bound(name, rc)
            if not allow_below_floor and (ret is None or ret < self.tables.quality_floor):
                continue
            out.append(name)
        return out
