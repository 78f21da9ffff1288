"""Router: requested model (or "auto" / "auto-<priority>") + task class + priority → model and fallbacks."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

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


class Router:
    def __init__(self, tables: Tables, classifier: Any, default_priority: str = "cost",
                 default_task_class: str = "general"):
        if default_priority not in PRIORITIES:
            raise bad_request(f"default priority {default_priority!r} is not one of {PRIORITIES}")
        self.tables = tables
        self.classifier = classifier
        self.default_priority = default_priority
        self.default_task_class = default_task_class

    def aliases(self) -> list[str]:
        return [AUTO] + [f"{AUTO}-{p}" for p in PRIORITIES]

    def known_models(self) -> list[str]:
        return self.aliases() + sorted(self.tables.models)

    def parse_priority(self, requested_model: str, priority: str | None) -> str:
        if requested_model.startswith(AUTO + "-"):
            p = requested_model[len(AUTO) + 1:]
            if p in PRIORITIES:
                return p
        if priority is None or priority == "":
            return self.default_priority
        if priority not in PRIORITIES:
            raise GatewayError(400, f"priority {priority!r} is not one of {list(PRIORITIES)}",
                               param="x-costlab-priority", code="invalid_priority")
        return priority

    def check_model(self, requested_model: str) -> None:
        if requested_model not in self.tables.models and requested_model not in self.aliases():
            raise model_not_found(requested_model, self.known_models())

    def classify(self, text: str, vector: Any = None) -> str:
        clf = self.classifier
        if vector is not None and hasattr(clf, "embedder"):
            tc = clf.predict([text], vectors=vector.reshape(1, -1))[0]
        else:
            tc = clf.predict([text])[0]
        return tc

    def route(self, requested_model: str, text: str, priority: str | None, vector: Any = None) -> Decision:
        self.check_model(requested_model)
        if requested_model in self.tables.models:
            return Decision(requested_model, None, None, [], routed=False)
        prio = self.parse_priority(requested_model, priority)
        tc = self.classify(text, vector)
        routes = self.tables.routes
        row = routes.get(tc)
        if row is None:
            row = routes.get(self.default_task_class) or next(iter(routes.values()))
        r = row.get(prio) or next(iter(row.values()))
        return Decision(r.model, tc, prio, list(r.fallbacks), routed=True)

    def downgrade_candidates(self, decision: Decision, allow_below_floor: bool) -> list[str]:
        """Fallbacks cheaper than the chosen model, in routing-table order, that keep the quality floor
        for this task class (unknown retention counts as below the floor unless allowed)."""
        models = self.tables.models
        cur = models[decision.model]
        cur_price = cur.usd_per_1m_in + cur.usd_per_1m_out
        out = []
        for name in decision.fallbacks:
            m = models[name]
            if m.usd_per_1m_in + m.usd_per_1m_out >= cur_price:
                continue
            ret = self.tables.retention(name, decision.task_class) if decision.task_class else None
            if not allow_below_floor and (ret is None or ret < self.tables.quality_floor):
                continue
            out.append(name)
        return out
