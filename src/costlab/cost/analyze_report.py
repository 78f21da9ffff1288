"""The report of `costlab analyze`: merged buckets → totals, by model/tenant/day/hour, cache, what-if re-pricing.

Split out of costlab.cost.analyze (which reads and aggregates); this module only turns a CostAnalyzer's merged
state into the report dict.
"""

from __future__ import annotations

from typing import Any

from costlab.cost.pricing import ApiPrice

NB = 13  # bucket: requests, in, out, cached_tokens, cost, lat_sum, lat_n, hits, saved, bill in/out/ctok/cost
PROMPT_TRACK_CAP = 200_000  # distinct prompt hashes tracked for "repeated prompts"; singletons pruned beyond


def _bucket_dict(b: list[float]) -> dict[str, Any]:
    n = b[0]
    return {
        "requests": int(n),
        "input_tokens": int(b[1]),
        "output_tokens": int(b[2]),
        "cached_tokens": int(b[3]),
        "cost_usd": b[4],
        "usd_per_request": b[4] / n if n else None,
        "latency_ms_mean": b[5] / b[6] if b[6] else None,
        "cache_hits": int(b[7]),
        "cache_hit_rate": b[7] / n if n else None,
        "cache_savings_usd": b[8],
    }


def whatif(an: Any) -> list[dict[str, Any]]:
    """What-if re-pricing: every model in ``an.whatif_models``, and the routing table if one was given."""
    tb = [0.0] * NB
    for b in an.buckets["model"].values():
        for i in range(NB):
            tb[i] += b[i]
    tin, tout, ctok, actual = tb[9], tb[10], tb[11], tb[12]
    out = []
    for m in an.whatif_models:
        p: ApiPrice = an.pricing.api[m]
        usd = p.cost(tin, tout, ctok)
        out.append(
            {
                "scenario": f"all traffic on {m}",
                "model": m,
                "cost_usd": usd,
                "actual_cost_usd": actual,
                "delta_usd": usd - actual,
                "delta_pct": (usd - actual) / actual * 100 if actual else None,
                "note": "same tokens (response-cache hits excluded); prompt-cache share kept"
                + ("" if p.cached_input is not None else "; this model has no prompt caching"),
            }
        )
    if an.routing is not None:
        routes, models = an.routing["routes"], an.routing.get("models") or {}
        by_task: dict[str, list[float]] = {}
        for k, b in an.buckets["task"].items():
            tc = k or an.default_task_class or "(unrouted)"
            acc = by_task.setdefault(tc, [0.0] * NB)
            for i in range(NB):
                acc[i] += b[i]
        usd = unrouted = 0.0
        per_task = []
        for tc, b in sorted(by_task.items()):
            r = routes.get(tc)
            if r is None:
                usd += b[12]
                unrouted += b[12]
                per_task.append(
                    {
                        "task_class": tc,
                        "model": None,
                        "cost_usd": b[12],
                        "actual_cost_usd": b[12],
                        "note": "no route for this class: kept at actual cost",
                    }
                )
                continue
            m = r[an.routing_priority]["model"]
            if m in models and models[m].get("usd_per_1m_in") is not None:
                c = (b[9] * float(models[m]["usd_per_1m_in"]) + b[10] * float(models[m]["usd_per_1m_out"])) / 1e6
            else:
                c = an.pricing.api_price(m).cost(b[9], b[10], b[11])
            usd += c
            per_task.append({"task_class": tc, "model": m, "cost_usd": c, "actual_cost_usd": b[12]})
        out.append(
            {
                "scenario": f"routing table ({an.routing_priority})",
                "model": None,
                "cost_usd": usd,
                "actual_cost_usd": actual,
                "delta_usd": usd - actual,
                "delta_pct": (usd - actual) / actual * 100 if actual else None,
                "per_task_class": per_task,
                "unrouted_cost_usd": unrouted,
            }
        )
    return out


def build_report(an: Any) -> dict[str, Any]:
    """The report dict of a CostAnalyzer ``an`` (its merged buckets, bad rows, top requests, prompts)."""
    total = [0.0] * NB
    by_day: dict[str, list[float]] = {}
    for h, b in an.buckets["hour"].items():
        d = by_day.setdefault(h[:10], [0.0] * NB)
        for i in range(NB):
            d[i] += b[i]
            total[i] += b[i]
    tot = _bucket_dict(total)
    rows_ok = an.rows_seen - sum(an.bad.values())
    srt = lambda d: {k: _bucket_dict(v) for k, v in sorted(d.items(), key=lambda kv: -kv[1][4])}  # noqa: E731
    repeated = an.con.execute(
        f"SELECT n, cost, text, f, r FROM prompts WHERE n > 1 ORDER BY cost DESC, n DESC LIMIT {max(an.top_k, 1)}"
    ).fetchall()
    # the fast path's reported lines (bad-row examples, top requests' prompts, these prompts): read back here, once
    texts = an.read_back([(f, r) for _, _, text, f, r in repeated if text is None and f is not None])
    repeated = [(n, usd, text if text is not None else texts.get((f, r))) for n, usd, text, f, r in repeated]
    count = lambda d: {k: int(v[0]) for k, v in d.items() if k is not None}  # noqa: E731
    return {
        "rows": an.rows_seen,
        "rows_ok": rows_ok,
        "rows_bad": int(sum(an.bad.values())),
        "bad_rows": {r: {"count": n, "examples": an.bad_examples.get(r, [])} for r, n in an.bad.most_common()},
        "total": tot,
        "cost_sources": {k: int(v[0]) for k, v in an.buckets["cost_source"].items()},
        "status": {k: int(v[0]) for k, v in an.buckets["status"].items() if k is not None},
        "unpriced_models": count(an.buckets["unpriced"]),
        "by_model": srt(an.buckets["model"]),
        "by_tenant": srt(an.buckets["tenant"]),
        "by_day": {k: _bucket_dict(v) for k, v in sorted(by_day.items())},
        "by_hour": {k: _bucket_dict(v) for k, v in sorted(an.buckets["hour"].items())},
        "top_requests": [x[2] for x in sorted(an.top, key=lambda x: (-x[0], -x[1]))],
        "repeated_prompts": [{"count": int(c), "cost_usd": usd, "prompt": p} for c, usd, p in repeated[: an.top_k]],
        "repeated_prompts_note": None
        if not an.prompt_prunes
        else f"approximate: more than {PROMPT_TRACK_CAP} distinct prompts, one-off prompts pruned "
        f"{an.prompt_prunes} time(s), so counts are lower bounds",
        "cache": {
            "hits": tot["cache_hits"],
            "hit_rate": tot["cache_hit_rate"],
            "by_kind": count(an.buckets["cache_kind"]),
            "savings_usd": tot["cache_savings_usd"],
            "cached_prompt_tokens": tot["cached_tokens"],
            "cached_prompt_token_share": tot["cached_tokens"] / tot["input_tokens"] if tot["input_tokens"] else None,
        },
        "whatif": whatif(an),
        "pricing": an.pricing.origin,
        "engine": {"duckdb_threads": an.threads, "duckdb_memory_limit": an.memory_limit},
    }
