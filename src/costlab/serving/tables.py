"""Load and validate tables/routing_table.json and tables/cost_table.json (schemas in docs/design.md)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from costlab.cost.pricing import ApiPrice
from costlab.errors import CostlabError
from costlab.io import read_json

log = logging.getLogger("costlab.serving")
PRIORITIES = ("cost", "quality", "speed")


@dataclass
class ModelInfo:
    name: str
    endpoint: str
    backend: str
    usd_per_1m_in: float
    usd_per_1m_out: float
    context: int | None = None
    quality_retention: dict[str, float] = field(default_factory=dict)
    ttft_ms_p50: float | None = None

    def __post_init__(self) -> None:
        self.price = ApiPrice(
            self.name, self.usd_per_1m_in, self.usd_per_1m_out, context=self.context, source="routing_table.json"
        )

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        """USD of one request, by the one pricing implementation (costlab.cost.pricing)."""
        return self.price.cost(prompt_tokens, completion_tokens)


@dataclass
class Route:
    model: str
    fallbacks: list[str]
    expected_retention: float | None = None
    usd_per_1m: float | None = None


@dataclass
class Tables:
    version: int
    quality_floor: float
    routes: dict[str, dict[str, Route]]  # task_class -> priority -> Route
    models: dict[str, ModelInfo]
    source: str = ""
    raw: dict[str, Any] = field(default_factory=dict)

    def retention(self, model: str, task_class: str) -> float | None:
        m = self.models.get(model)
        if m is None:
            return None
        return m.quality_retention.get(task_class)


def _num(v: Any, where: str) -> float:
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        raise CostlabError(f"{where}: expected a number, got {v!r}", "fix the table (schema in docs/design.md)")
    return float(v)


def load_tables(tables_dir: str | Path, endpoints: dict[str, str] | None = None) -> Tables:
    """Read routing_table.json (required) and cost_table.json (optional: adds context/retention per model).

    ``endpoints`` overrides the table's endpoint per model name; key ``"*"`` (or ``"_default"``, easier to
    pass as a Hydra override) fills every model whose endpoint is empty (the tables stage leaves it null when no local endpoint was configured)."""
    endpoints = dict(endpoints or {})
    d = Path(tables_dir)
    rpath = d / "routing_table.json"
    if not rpath.exists():
        raise CostlabError(
            f"{rpath}: routing table not found",
            "run the tables stage (costlab run +exp=NAME stages=[build_tables]) or pass --tables DIR / serve.tables_dir=DIR",
        )
    rt = read_json(rpath)
    for k in ("quality_floor", "routes", "models"):
        if k not in rt:
            raise CostlabError(f"{rpath}: missing key '{k}'", "see the routing_table.json schema in docs/design.md")
    models: dict[str, ModelInfo] = {}
    for name, m in rt["models"].items():
        where = f"{rpath}: models.{name}"
        if not isinstance(m, dict):
            raise CostlabError(f"{where}: expected an object", "see the routing_table.json schema in docs/design.md")
        ep = endpoints.get(name) or m.get("endpoint") or endpoints.get("*") or endpoints.get("_default")
        if not ep:
            raise CostlabError(
                f"{where}: no endpoint",
                f"set serve.endpoints.{name}=URL (or serve.endpoints._default=URL) to an OpenAI-compatible base URL",
            )
        prices = {}
        for k in ("usd_per_1m_in", "usd_per_1m_out"):
            if m.get(k) is None:
                log.warning("%s.%s is not measured; billing it as 0", where, k)
            prices[k] = _num(m.get(k) or 0.0, f"{where}.{k}")
        models[name] = ModelInfo(
            name=name, endpoint=str(ep).rstrip("/"), backend=str(m.get("backend", "openai")), **prices
        )
    routes: dict[str, dict[str, Route]] = {}
    for tc, by_prio in rt["routes"].items():
        routes[tc] = {}
        for prio, r in by_prio.items():
            where = f"{rpath}: routes.{tc}.{prio}"
            if prio not in PRIORITIES:
                raise CostlabError(f"{where}: unknown priority '{prio}'", f"use one of {PRIORITIES}")
            if r.get("model") not in models:
                raise CostlabError(
                    f"{where}: model {r.get('model')!r} is not in 'models'", "add it to models or fix the route"
                )
            fb = [f for f in r.get("fallbacks", []) if f in models]
            routes[tc][prio] = Route(
                model=r["model"],
                fallbacks=fb,
                expected_retention=r.get("expected_retention"),
                usd_per_1m=r.get("usd_per_1m"),
            )
    if not routes:
        raise CostlabError(
            f"{rpath}: no task class has a route (unrouted: {rt.get('unrouted')})",
            "lower tables.quality_floor or measure more variants; 'auto' cannot route without routes",
        )
    cpath = d / "cost_table.json"
    if cpath.exists():
        ct = read_json(cpath)
        rows = ct if isinstance(ct, list) else ct.get("rows", [])
        for row in rows:
            name = row.get("model")
            if name in models:
                m = models[name]
                m.context = row.get("context") or m.context
                m.quality_retention.update(
                    {
                        k: float(v)
                        for k, v in (row.get("quality_retention") or {}).items()
                        if isinstance(v, (int, float))
                    }
                )
                if isinstance(row.get("ttft_ms_p50"), (int, float)):
                    m.ttft_ms_p50 = float(row["ttft_ms_p50"])
    return Tables(
        version=int(rt.get("version", 1)),
        quality_floor=_num(rt["quality_floor"], f"{rpath}: quality_floor"),
        routes=routes,
        models=models,
        source=str(d),
        raw=rt,
    )
