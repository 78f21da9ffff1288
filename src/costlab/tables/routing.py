"""routing_table.json (schema and rule in docs/design.md).

For each task class and priority, candidates are the measured models whose retention on that class is
>= quality_floor (a model without a retention measurement for the class is never a candidate):
  cost    → the lowest output $/1M (tie: higher retention, then name)
  speed   → the lowest expected latency of a typical response: TTFT p50 + avg_output_tokens x TPOT p50
  quality → the highest retention (tie: cheaper, then name)
fallbacks = the remaining candidates ordered by quality kept per dollar (retention / output $/1M, highest
first; a free model ranks first). Retention above ``max_retention`` (default 1.0) is clipped to it for ranking and
``expected_retention``: a variant "better than the reference" on a handful of items is noise, so such ties go to
the cheaper model (the cost table keeps the raw ratio). A class with no candidate is left out of ``routes`` and listed under
``unrouted`` with the reason, so the router never gets a model that was not measured.
"""

from __future__ import annotations

import math
import time
from typing import Any, Mapping

PRIORITIES = ("cost", "quality", "speed")


def _latency_ms(row: Mapping[str, Any], out_tokens: float) -> float:
    ttft, tpot = row.get("ttft_ms_p50"), row.get("tpot_ms_p50")
    if ttft is None or tpot is None:
        return math.inf
    return float(ttft) + out_tokens * float(tpot)


def _per_dollar(ret: float, usd: float | None) -> float:
    if usd is None:
        return -math.inf
    return math.inf if usd <= 0 else ret / usd


def candidates(rows: list[Mapping[str, Any]], task_class: str, floor: float) -> list[Mapping[str, Any]]:
    out = []
    for r in rows:
        ret = (r.get("quality_retention") or {}).get(task_class)
        if isinstance(ret, (int, float)) and ret >= floor and r.get("output_usd_per_1m") is not None:
            out.append(r)
    return out


def route(cands: list[Mapping[str, Any]], task_class: str, priority: str, out_tokens: float,
          max_retention: float | None = 1.0) -> dict[str, Any]:
    def ret(r: Mapping[str, Any]) -> float:
        x = float(r["quality_retention"][task_class])
        return min(x, max_retention) if max_retention is not None else x

    usd = lambda r: float(r["output_usd_per_1m"])  # noqa: E731
    if priority == "cost":
        best = min(cands, key=lambda r: (usd(r), -ret(r), r["model"]))
    elif priority == "speed":
        best = min(cands, key=lambda r: (_latency_ms(r, out_tokens), usd(r), r["model"]))
    elif priority == "quality":
        best = max(cands, key=lambda r: (ret(r), -usd(r), _neg_name(r["model"])))
    else:
        raise ValueError(priority)
    rest = [r for r in cands if r["model"] != best["model"]]
    rest.sort(key=lambda r: (-_per_dollar(ret(r), usd(r)), r["model"]))
    return {"model": best["model"], "fallbacks": [r["model"] for r in rest],
            "expected_retention": ret(best), "usd_per_1m": usd(best)}


def _neg_name(name: str) -> tuple:
    return tuple(-ord(c) for c in name)  # max() with name ascending as the last tie-break


def build_routing_table(rows: list[Mapping[str, Any]], task_classes: list[str], floor: float, run: str,
                        hardware: str, out_tokens: float, endpoints: Mapping[str, Any],
                        max_retention: float | None = 1.0) -> dict[str, Any]:
    """``rows``: cost-table rows. Self-hosted candidates come from ``hardware`` (the profile the run measured);
    API rows take part only where they carry a measured retention."""
    usable = [r for r in rows if (r["kind"] == "api") or (r.get("hardware") == hardware)]
    routes: dict[str, dict[str, Any]] = {}
    unrouted: dict[str, str] = {}
    for tc in task_classes:
        c = candidates(usable, tc, floor)
        if not c:
            unrouted[tc] = (f"no measured model has retention >= {floor} on '{tc}' "
                            "(the reference scored 0 there, or no variant was measured)")
            continue
        routes[tc] = {p: route(c, tc, p, out_tokens, max_retention) for p in PRIORITIES}
    models: dict[str, dict[str, Any]] = {}
    for r in usable:
        if r["kind"] == "api":
            ep = (endpoints.get("api") or {}).get(r.get("provider"))
            if not ep:
                continue  # no endpoint for this provider: the router could not call it
            backend = "openai"
        else:
            ep, backend = endpoints["local"], r.get("backend") or "llama.cpp"
        models[r["model"]] = {"endpoint": ep, "backend": backend, "usd_per_1m_in": r["input_usd_per_1m"],
                              "usd_per_1m_out": r["output_usd_per_1m"]}
    table = {"version": 1, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "run": run, "quality_floor": floor,
             "routes": routes, "models": models}
    if unrouted:
        table["unrouted"] = unrouted
    return table
