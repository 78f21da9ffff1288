"""routing_table.json version 2 (schema and rule in docs/design.md): routing that only acts on evidence.

Per task class (and the pooled ``general`` row), the candidates are
  * the reference (always: retention 1 by definition), and
  * every measured variant whose retention **lower bound** (paired per-item bootstrap at the table's
    ``confidence``) is >= ``quality_floor``: non-inferiority to the reference at that confidence,
and only models with a measured price on the run's hardware profile. Then
  cost    → the lowest expected $ per request at the traffic profile (input + output tokens; tie: name)
  speed   → the lowest expected latency of a typical response: TTFT p50 + avg_output_tokens x TPOT p50
  quality → the highest retention lower bound: the reference (lower bound 1) unless a variant is significantly
            better than it (lower bound > 1); ties → the reference, then the cheaper
fallbacks = the other candidates ordered by retention kept per dollar (point retention / $ per request, highest
first); every fallback is itself non-inferior, so the budget monitor's downgrades along them keep the floor.
A class whose reference is not significantly above chance (``measurable: false``) is never routed on: it is listed
under ``unrouted`` with the reason, and the router sends it — like any class it does not know — to
``default_route`` (the ``general`` row, built by the same rule from all items pooled; the reference if even the
pooled reference is at chance). ``sensitivity`` lists the decisions that would flip within the intervals.
"""

from __future__ import annotations

import math
import time
from typing import Any, Mapping

from costlab.cost.pricing import request_cost_usd
from costlab.stats import REFERENCE_TEST
from costlab.tables.evidence import GENERAL

VERSION = 2
PRIORITIES = ("cost", "quality", "speed")
BOUNDS = ("lo", "point", "hi")  # which end of the interval admits a candidate (lo = the rule; the others: flips)


def decision_test(confidence: float) -> str:
    return (
        f"non-inferiority: paired per-item bootstrap {confidence:.0%} CI lower bound of chance-normalized "
        "retention >= quality_floor"
    )


def _latency_ms(row: Mapping[str, Any], out_tokens: float) -> float:
    ttft, tpot = row.get("ttft_ms_p50"), row.get("tpot_ms_p50")
    if ttft is None or tpot is None:
        return math.inf
    return float(ttft) + out_tokens * float(tpot)


def _value(ev: Mapping[str, Any], bound: str) -> float | None:
    return ev.get({"lo": "retention_lo", "point": "retention", "hi": "retention_hi"}[bound])


def is_candidate(ev: Mapping[str, Any], floor: float, is_reference: bool, bound: str = "lo") -> tuple[bool, str]:
    """(candidate?, why) for one model on one class. ``bound`` = lo is the rule; point / hi only for flips."""
    if is_reference:
        return True, "the reference (always a candidate)"
    x = _value(ev, bound)
    name = {"lo": "lower bound", "point": "point retention", "hi": "upper bound"}[bound]
    if x is None:
        return False, f"retention {name} undefined ({ev.get('reason') or 'no interval'})"
    if x >= floor:
        return True, f"{name} {x:.3f} >= floor {floor}"
    return False, f"{name} {x:.3f} < floor {floor}"


def _pick(cands: list[dict[str, Any]], priority: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    if priority == "cost":
        best = min(cands, key=lambda c: (c["usd_per_request"], c["model"]))
    elif priority == "speed":
        best = min(cands, key=lambda c: (c["latency_ms"], c["usd_per_request"], c["model"]))
    elif priority == "quality":
        best = min(cands, key=lambda c: (-c["rank_lo"], not c["is_reference"], c["usd_per_request"], c["model"]))
    else:
        raise ValueError(priority)
    rest = [c for c in cands if c["model"] != best["model"]]
    rest.sort(key=lambda c: (-_per_dollar(c["retention"], c["usd_per_request"]), c["model"]))
    return best, rest


def _per_dollar(ret: float | None, usd: float) -> float:
    if ret is None:
        return -math.inf
    return math.inf if usd <= 0 else ret / usd


def _candidate_rows(
    ev_by_model: Mapping[str, Mapping[str, Any]],
    priced: Mapping[str, Mapping[str, Any]],
    reference: str,
    floor: float,
    traffic: Mapping[str, Any],
    bound: str = "lo",
) -> list[dict[str, Any]]:
    out = []
    for name in sorted(ev_by_model):
        ev = ev_by_model[name]
        ok, _ = is_candidate(ev, floor, name == reference, bound)
        if not ok or name not in priced:
            continue
        r = priced[name]
        is_ref = name == reference
        out.append(
            {
                "model": name,
                "is_reference": is_ref,
                "retention": 1.0 if is_ref else ev.get("retention"),
                "retention_lo": 1.0 if is_ref else ev.get("retention_lo"),
                "retention_hi": 1.0 if is_ref else ev.get("retention_hi"),
                "rank_lo": 1.0 if is_ref else (_value(ev, bound) if bound != "lo" else ev["retention_lo"]),
                "n": ev.get("n"),
                "p_value": None if is_ref else ev.get("p_value"),
                "paired_test": None if is_ref else ev.get("test"),
                "usd_per_1m": r["output_usd_per_1m"],
                "usd_per_request": request_cost_usd(
                    traffic["avg_input_tokens"],
                    traffic["avg_output_tokens"],
                    r["input_usd_per_1m"] or 0.0,
                    r["output_usd_per_1m"],
                ),
                "latency_ms": _latency_ms(r, float(traffic["avg_output_tokens"])),
            }
        )
    return out


def _route(cands: list[dict[str, Any]], priority: str, test: str) -> dict[str, Any]:
    best, rest = _pick(cands, priority)
    return {
        "model": best["model"],
        "fallbacks": [c["model"] for c in rest],
        "expected_retention": best["retention"],
        "retention_lo": best["retention_lo"],
        "retention_hi": best["retention_hi"],
        "n": best["n"],
        "test": REFERENCE_TEST if best["is_reference"] else test,
        "p_value": best["p_value"],
        "paired_test": best["paired_test"],
        "usd_per_1m": best["usd_per_1m"],
        "usd_per_request": best["usd_per_request"],
    }


def _priced(rows: list[Mapping[str, Any]], hardware: str) -> dict[str, Mapping[str, Any]]:
    return {
        r["model"]: r
        for r in rows
        if r["kind"] == "self_hosted" and r.get("hardware") == hardware and r.get("output_usd_per_1m") is not None
    }


def sensitivity(
    evidence: Mapping[str, Mapping[str, Mapping[str, Any]]],
    priced: Mapping[str, Mapping[str, Any]],
    reference: str,
    floor: float,
    traffic: Mapping[str, Any],
    routes: Mapping[str, Any],
) -> dict[str, Any]:
    """Per class: the models whose interval straddles the floor (lo < floor <= hi: more items could admit them),
    and each pick that would change if the point estimate or the upper bound admitted candidates instead of the
    lower bound."""
    out: dict[str, Any] = {}
    for cls, evs in evidence.items():
        if cls not in routes:
            continue
        straddle = [
            {
                "model": m,
                "retention": e.get("retention"),
                "retention_lo": e.get("retention_lo"),
                "retention_hi": e.get("retention_hi"),
                "n": e.get("n"),
            }
            for m, e in sorted(evs.items())
            if m != reference
            and m in priced
            and e.get("retention_hi") is not None
            and e["retention_hi"] >= floor
            and (e.get("retention_lo") is None or e["retention_lo"] < floor)
        ]
        changes = []
        for bound in ("point", "hi"):
            cands = _candidate_rows(evs, priced, reference, floor, traffic, bound)
            for p in PRIORITIES:
                alt = _pick(cands, p)[0]["model"] if cands else None
                if alt != routes[cls][p]["model"]:
                    changes.append(
                        {
                            "priority": p,
                            "rule": {"point": "point estimate >= floor", "hi": "upper bound >= floor"}[bound],
                            "pick": routes[cls][p]["model"],
                            "would_be": alt,
                        }
                    )
        out[cls] = {"straddling_floor": straddle, "picks_that_would_change": changes}
    return out


def build_routing_table(
    rows: list[Mapping[str, Any]],
    evidence: Mapping[str, Mapping[str, Mapping[str, Any]]],
    task_classes: list[str],
    reference: str,
    floor: float,
    confidence: float,
    run: str,
    hardware: str,
    traffic: Mapping[str, Any],
    endpoints: Mapping[str, Any],
) -> dict[str, Any]:
    """``rows``: cost-table rows; ``evidence``: {class (and 'general'): {model: Evidence.to_dict()}}.
    Self-hosted candidates come from ``hardware`` (the profile the run measured); API models have no eval here,
    so they are never candidates (they stay in ``models`` for explicit requests)."""
    priced = _priced(rows, hardware)
    test = decision_test(confidence)
    routes: dict[str, dict[str, Any]] = {}
    unrouted: dict[str, str] = {}
    ev_out: dict[str, dict[str, Any]] = {}
    for tc in list(task_classes) + [GENERAL]:
        evs = evidence[tc]
        ev_out[tc] = {}
        for m, e in sorted(evs.items()):
            ok, why = is_candidate(e, floor, m == reference)
            if ok and m not in priced:
                ok, why = False, f"no measured price on {hardware}"
            ev_out[tc][m] = {
                k: e.get(k) for k in ("retention", "retention_lo", "retention_hi", "n", "p_value", "test", "measurable")
            } | {"candidate": ok, "why": why}
        ref_ev = evs.get(reference) or {}
        if not ref_ev.get("measurable", False):
            why = ref_ev.get("reason") or "the reference is not significantly above chance"
            if tc == GENERAL:  # even pooled, the reference is at chance: the default route is the reference itself
                cands = _candidate_rows({reference: ref_ev}, priced, reference, floor, traffic)
                if cands:
                    routes[tc] = {p: _route(cands, p, test) for p in PRIORITIES}
                    continue
            unrouted[tc] = f"not measurable with this reference: {why}" if "not measurable" not in why else why
            continue
        cands = _candidate_rows(evs, priced, reference, floor, traffic)
        if not cands:
            unrouted[tc] = f"no priced candidate on {hardware} (the reference has no measured price there)"
            continue
        routes[tc] = {p: _route(cands, p, test) for p in PRIORITIES}
    if GENERAL not in routes:
        from costlab.errors import CostlabError

        raise CostlabError(
            f"no default route: {unrouted.get(GENERAL)}",
            f"the reference '{reference}' needs a measured price on {hardware} (its eval file's "
            "latency), so unknown and unrouted requests have somewhere to go",
        )
    models: dict[str, dict[str, Any]] = {}
    for r in rows:
        if r["kind"] == "api":
            ep = (endpoints.get("api") or {}).get(r.get("provider"))
            if not ep:
                continue  # no endpoint for this provider: the router could not call it
            backend = "openai"
        elif r.get("hardware") == hardware:
            ep, backend = endpoints["local"], r.get("backend") or "llama.cpp"
        else:
            continue
        models[r["model"]] = {
            "endpoint": ep,
            "backend": backend,
            "label": r.get("label"),
            "usd_per_1m_in": r["input_usd_per_1m"],
            "usd_per_1m_out": r["output_usd_per_1m"],
        }
    return {
        "version": VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "run": run,
        "quality_floor": floor,
        "confidence": confidence,
        "reference": reference,
        "reference_label": (priced.get(reference) or {}).get("label"),
        "test": test,
        "routes": routes,
        "default_route": GENERAL,
        "default_rule": (
            f"unknown or unrouted class → routes.{GENERAL}: the same rule on all items of all "
            "classes pooled (one paired per-item bootstrap); the reference when even the pooled "
            "reference is at chance"
        ),
        "unrouted": unrouted,
        "models": models,
        "evidence": ev_out,
        "sensitivity": sensitivity({c: evidence[c] for c in routes}, priced, reference, floor, traffic, routes),
    }
