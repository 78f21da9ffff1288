"""Monthly cost of a traffic profile across models, and the API-vs-self-hosted table at several volumes."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from costlab.cost.pricing import ApiPrice, Pricing, SelfHostedPrice
from costlab.errors import CostlabError

# Beyond these a number is a typo (an extra zero or a unit mix-up), not a traffic profile.
MAX_REQUESTS_PER_DAY = 1e10
MAX_TOKENS_PER_REQUEST = 10_000_000
DEFAULT_VOLUMES = (10_000, 100_000, 1_000_000)


@dataclass(frozen=True)
class TrafficProfile:
    requests_per_day: float
    avg_input_tokens: float
    avg_output_tokens: float
    cache_hit_rate: float = 0.0  # fraction of input tokens read from the provider's prompt cache
    batch_share: float = 0.0  # fraction of requests sent through the Batch API
    days_per_month: float = 30.0

    def __post_init__(self) -> None:
        def check(name: str, lo: float, hi: float) -> None:
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not lo <= v <= hi:
                raise CostlabError(
                    f"traffic profile: {name} = {v!r} is out of range [{lo:g}, {hi:g}]",
                    f"pass a {name.replace('_', ' ')} in that range",
                )

        check("requests_per_day", 0, MAX_REQUESTS_PER_DAY)
        check("avg_input_tokens", 0, MAX_TOKENS_PER_REQUEST)
        check("avg_output_tokens", 0, MAX_TOKENS_PER_REQUEST)
        check("cache_hit_rate", 0, 1)
        check("batch_share", 0, 1)
        check("days_per_month", 1, 31)

    @property
    def requests_per_month(self) -> float:
        return self.requests_per_day * self.days_per_month

    def at(self, requests_per_day: float) -> TrafficProfile:
        d = asdict(self)
        d["requests_per_day"] = requests_per_day
        return TrafficProfile(**d)


def estimate_api(price: ApiPrice, t: TrafficProfile) -> dict[str, Any]:
    """Monthly USD for ``t`` on an API model, with the arithmetic's parts."""
    notes: list[str] = []
    hit = t.cache_hit_rate
    if hit and price.cached_input is None:
        notes.append("no prompt caching: cache hit rate ignored")
        hit = 0.0
    batch = t.batch_share
    if batch and price.batch_discount is None:
        notes.append("no Batch API: batch share priced at the normal rate")
        batch = 0.0
    if price.context and t.avg_input_tokens + t.avg_output_tokens > price.context:
        notes.append(
            f"avg request ({t.avg_input_tokens + t.avg_output_tokens:g} tokens) exceeds context {price.context}"
        )
    per_req = price.cost(t.avg_input_tokens, t.avg_output_tokens, cached_tokens=hit * t.avg_input_tokens)
    per_req_batch = per_req * (1 - (price.batch_discount or 0.0))
    blended = (1 - batch) * per_req + batch * per_req_batch
    m_in = t.requests_per_month * t.avg_input_tokens
    m_out = t.requests_per_month * t.avg_output_tokens
    monthly = blended * t.requests_per_month
    return {
        "model": price.name,
        "kind": "api",
        "basis": "list price",
        "source": price.source,
        "as_of": price.as_of,
        "usd_per_request": blended,
        "usd_per_day": blended * t.requests_per_day,
        "usd_per_month": monthly,
        "usd_per_month_low": monthly,
        "usd_per_month_high": monthly,
        "input_tokens_per_month": m_in,
        "output_tokens_per_month": m_out,
        "input_usd_per_month": (m_in * (1 - hit) * price.input + m_in * hit * (price.cached_input or 0))
        / 1e6
        * (1 - batch * (price.batch_discount or 0.0)),
        "output_usd_per_month": m_out * price.output / 1e6 * (1 - batch * (price.batch_discount or 0.0)),
        "usd_per_1m_in": price.input,
        "usd_per_1m_out": price.output,
        "notes": notes,
    }


def estimate_self_hosted(price: SelfHostedPrice, t: TrafficProfile) -> dict[str, Any]:
    """Monthly USD for ``t`` on rented GPUs: whole replicas rented 24/7 (min 1), at the rent range's ends too."""
    notes: list[str] = []
    if price.context and t.avg_input_tokens + t.avg_output_tokens > price.context:
        notes.append(f"avg request exceeds context {price.context}")
    in_day = t.requests_per_day * t.avg_input_tokens
    out_day = t.requests_per_day * t.avg_output_tokens
    replicas = price.replicas_needed(in_day, out_day)
    hours = 24.0 * t.days_per_month

    def monthly(rate: float) -> float:
        return replicas * price.gpus * rate * hours

    m = monthly(price.usd_per_gpu_hour)
    if t.cache_hit_rate or t.batch_share:
        notes.append("cache hit rate / batch share not applied (GPU rent is per hour)")
    notes.append(f"{replicas} replica(s) x {price.gpus}x{price.gpu}; throughput is an assumption")
    return {
        "model": price.name,
        "kind": "self_hosted",
        "basis": "rent price (assumed throughput)",
        "source": price.source,
        "as_of": price.as_of,
        "usd_per_request": m / t.requests_per_month if t.requests_per_month else None,
        "usd_per_day": m / t.days_per_month,
        "usd_per_month": m,
        "usd_per_month_low": monthly(price.usd_per_gpu_hour_range[0]),
        "usd_per_month_high": monthly(price.usd_per_gpu_hour_range[1]),
        "input_tokens_per_month": in_day * t.days_per_month,
        "output_tokens_per_month": out_day * t.days_per_month,
        "replicas": replicas,
        "gpu_hours_per_month": replicas * price.gpus * hours,
        "notes": notes,
    }


# --------------------------------------------------------------------------------------- measured run rows
def load_run_cost_rows(run_dir: str | Path, skipped: list[str] | None = None) -> list[dict[str, Any]]:
    """Measured self-hosted rows of a costlab run's tables/cost_table.json (the build_tables stage's output:
    ``{"version", "rows": [...], "not_measured": [...]}``; a bare list of rows is accepted too). Rows without
    a measured price, and the table's ``not_measured`` entries, are appended to ``skipped`` (never silent)."""
    run_dir = Path(run_dir)
    p = run_dir / "tables" / "cost_table.json"
    if not p.exists():
        raise CostlabError(
            f"{p} not found: the run has no measured cost table",
            "run the evaluate + build_tables stages for this run first, or drop --run",
        )
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise CostlabError(f"{p}: not valid JSON ({e})") from e
    rows = data.get("rows") if isinstance(data, dict) else data
    if not isinstance(rows, list):
        raise CostlabError(f"{p}: expected {{'rows': [...]}} (or a list of rows)")
    skipped = skipped if skipped is not None else []
    for r in (data.get("not_measured") or []) if isinstance(data, dict) else []:
        skipped.append(f"{r.get('model')}@{r.get('hardware')}: {r.get('reason') or r.get('status')}")
    out = []
    for i, r in enumerate(rows):
        if not isinstance(r, dict) or r.get("kind") != "self_hosted":
            continue
        if r.get("model") is None:
            raise CostlabError(f"{p}: row {i} has no 'model'")
        if r.get("input_usd_per_1m") is None or r.get("output_usd_per_1m") is None:
            skipped.append(f"{r['model']}@{r.get('hardware')}: no measured $/1M")
            continue
        out.append({**r, "_file": str(p)})
    if not out:
        raise CostlabError(
            f"{p}: no measured self_hosted rows" + (f" ({'; '.join(skipped[:3])})" if skipped else ""),
            "check the run's eval/ outputs",
        )
    return out


def estimate_measured(row: dict[str, Any], t: TrafficProfile) -> dict[str, Any]:
    """Monthly USD at the run's measured $/1M tokens (hardware rent / measured throughput, per the run)."""
    m_in = t.requests_per_month * t.avg_input_tokens
    m_out = t.requests_per_month * t.avg_output_tokens
    usd = (m_in * float(row["input_usd_per_1m"]) + m_out * float(row["output_usd_per_1m"])) / 1e6
    notes = [f"measured on {row.get('hardware', '?')}"]
    dec = row.get("decode_tok_s")
    if dec:
        notes.append(
            f"needs {math.ceil(t.requests_per_day * t.avg_output_tokens / (float(dec) * 86400))} "
            f"box(es) at {float(dec):g} decode tok/s"
        )
    if row.get("context") and t.avg_input_tokens + t.avg_output_tokens > row["context"]:
        notes.append(f"avg request exceeds context {row['context']}")
    return {
        "model": row["model"],
        "kind": "measured",
        "basis": f"measured ({row.get('source') or row['_file']})",
        "source": row["_file"],
        "as_of": None,
        "usd_per_request": usd / t.requests_per_month if t.requests_per_month else None,
        "usd_per_day": usd / t.days_per_month,
        "usd_per_month": usd,
        "usd_per_month_low": usd,
        "usd_per_month_high": usd,
        "input_tokens_per_month": m_in,
        "output_tokens_per_month": m_out,
        "usd_per_1m_in": float(row["input_usd_per_1m"]),
        "usd_per_1m_out": float(row["output_usd_per_1m"]),
        "notes": notes,
    }


# ----------------------------------------------------------------------------------------------- top level
def estimate(
    pricing: Pricing, t: TrafficProfile, models: Sequence[str] | None = None, run_rows: Iterable[dict[str, Any]] = ()
) -> list[dict[str, Any]]:
    """One row per model (API, self-hosted, measured run variants), cheapest first."""
    names = list(models) if models else pricing.names()
    rows = []
    for n in names:
        p = pricing.price(n)  # raises with near matches for unknown names
        rows.append(estimate_api(p, t) if isinstance(p, ApiPrice) else estimate_self_hosted(p, t))
    rows += [estimate_measured(r, t) for r in run_rows]
    return sorted(rows, key=lambda r: r["usd_per_month"])


def api_vs_local(
    pricing: Pricing,
    t: TrafficProfile,
    volumes: Sequence[float] = DEFAULT_VOLUMES,
    models: Sequence[str] | None = None,
    run_rows: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """The seed's table: monthly USD per model at each requests/day volume (same per-request token profile)."""
    if not volumes:
        raise CostlabError("no volumes given", "pass e.g. --volumes 10000,100000,1000000")
    per_model: dict[str, dict[str, Any]] = {}
    for v in volumes:
        for r in estimate(pricing, t.at(v), models, run_rows):
            e = per_model.setdefault(
                r["model"],
                {
                    "model": r["model"],
                    "kind": r["kind"],
                    "basis": r["basis"],
                    "usd_per_month": {},
                    "usd_per_month_low": {},
                    "usd_per_month_high": {},
                    "notes": {},
                },
            )
            key = f"{v:g}"
            e["usd_per_month"][key] = r["usd_per_month"]
            e["usd_per_month_low"][key] = r["usd_per_month_low"]
            e["usd_per_month_high"][key] = r["usd_per_month_high"]
            e["notes"][key] = r["notes"]
    # Crossover: the lowest volume at which each self-hosted/measured row beats the cheapest API model.
    rows = list(per_model.values())
    for e in rows:
        if e["kind"] == "api":
            continue
        e["cheaper_than"] = {}
        for key, usd in e["usd_per_month"].items():
            e["cheaper_than"][key] = sorted(
                a["model"] for a in rows if a["kind"] == "api" and a["usd_per_month"][key] > usd
            )
    return {"volumes": [f"{v:g}" for v in volumes], "profile": asdict(t), "rows": rows}
