"""Cost per 1M tokens, the cost table and the break-even volume vs API models.

Self-hosted variant v on hardware profile h (docs/design.md):
    output_usd_per_1m = price_per_hour(h) / (decode_tok_s(v, h) * 3600 * utilization) * 1e6
    input_usd_per_1m  = price_per_hour(h) / (prefill_tok_s(v, h) * 3600 * utilization) * 1e6
Only pairs whose throughput was measured on h (the eval file's ``latency.hardware`` == h's name) get a number;
every other pair is listed under ``not_measured`` — never extrapolated from another profile.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping

from costlab.cost.pricing import load_hardware, request_cost_usd, usd_per_1m_from_hourly
from costlab.errors import CostlabError
from costlab.io import read_json

DAYS_PER_MONTH = 30
HOURS_PER_MONTH = 24 * DAYS_PER_MONTH


# ---------------------------------------------------------------------------------------------- inputs
def load_hardware_profiles(names: list[str], current: Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Profile name → profile dict, from configs/hardware/<file>.yaml (costlab.cost.pricing.load_hardware, the one
    home of hourly prices) plus the run's own cfg.hardware."""
    out: dict[str, dict[str, Any]] = {}
    for n in names:
        d = dict(load_hardware(n))
        d["_file"] = f"configs/hardware/{n}.yaml"
        out[d["name"]] = d
    if current is not None:
        out[current["name"]] = {**out.get(current["name"], {}), **dict(current)}
    for name, d in out.items():
        if not isinstance(d.get("usd_per_hour"), (int, float)) or d["usd_per_hour"] <= 0:
            raise CostlabError(
                f"hardware profile '{name}' ({d.get('_file', 'cfg.hardware')}) has no usd_per_hour",
                "add `usd_per_hour: <USD>` (and usd_per_hour_range: [low, high]) to the profile",
            )
    return out


def price_per_hour(profile: Mapping[str, Any], which: str = "usd_per_hour") -> float:
    if which == "usd_per_hour":
        return float(profile["usd_per_hour"])
    rng = profile.get("usd_per_hour_range")
    if not rng or len(rng) != 2:
        raise CostlabError(
            f"hardware profile '{profile.get('name')}' has no usd_per_hour_range",
            "add usd_per_hour_range: [low, high] or set eval.tables.price=usd_per_hour",
        )
    return float(rng[0] if which == "low" else rng[1])


def read_eval_dir(eval_dir: Path) -> dict[str, dict[str, Any]]:
    if not eval_dir.is_dir():
        raise CostlabError(f"{eval_dir}: no eval results", "run the evaluate stage first")
    out = {}
    for f in sorted(eval_dir.glob("*.json")):
        if f.name in ("summary.json", "stage.json", "provenance.json"):
            continue
        rec = read_json(f)
        if "variant" not in rec or "status" not in rec:
            raise CostlabError(f"{f}: not an eval result (no 'variant'/'status')", "remove the stray file")
        rec["_file"] = f"eval/{f.name}"
        out[rec["variant"]] = rec
    if not out:
        raise CostlabError(f"{eval_dir}: no eval/<variant>.json files", "run the evaluate stage first")
    return out


# ---------------------------------------------------------------------------------------------- cost math
THROUGHPUT = {
    "batch1": "batch-1 decode tok/s (p50 over reps), one request at a time — the same for every variant",
    "concurrency": "aggregate decode tok/s at eval.latency.concurrency (p50), one batched forward",
}


def throughput(rec: Mapping[str, Any], basis: str) -> tuple[float | None, float | None]:
    """(decode tok/s the output price uses, prefill tok/s the input price uses) of one eval record."""
    s = ((rec.get("latency") or {}).get("summary")) or {}
    if basis == "batch1":
        return s.get("decode_tok_s_p50"), s.get("prefill_tok_s_p50")
    if basis == "concurrency":
        agg = s.get("aggregate_decode_tok_s_p50")
        if agg is None:
            agg = (((rec.get("latency") or {}).get("concurrency") or {}).get("aggregate_decode_tok_s") or {}).get("p50")
        return agg, s.get("prefill_tok_s_p50")
    raise CostlabError(f"eval.tables.throughput={basis!r}", "use batch1 | concurrency")


def _decode_spread(rec: Mapping[str, Any], basis: str) -> dict[str, Any]:
    """min / max across reps of the decode rate the price uses."""
    L = rec.get("latency") or {}
    if basis == "batch1":
        s = L.get("summary") or {}
        return {"decode_tok_s_min": s.get("decode_tok_s_min"), "decode_tok_s_max": s.get("decode_tok_s_max")}
    agg = (L.get("concurrency") or {}).get("aggregate_decode_tok_s") or {}
    return {"decode_tok_s_min": agg.get("min"), "decode_tok_s_max": agg.get("max")}


def check_same_method(evals: Mapping[str, Mapping[str, Any]], basis: str) -> str:
    """Every variant's throughput must be measured the same way (issue 9: HF's batched forward and llama.cpp's
    queued requests are not comparable). Returns the method; a mix stops with the files named."""
    if basis == "batch1":
        return "batch1"
    methods: dict[str, list[str]] = {}
    for _name, rec in sorted(evals.items()):
        if rec.get("status") != "ok":
            continue
        L = rec.get("latency") or {}
        m = L.get("concurrency_method") or (L.get("summary") or {}).get("concurrency_method") or "not recorded"
        methods.setdefault(str(m), []).append(rec["_file"])
    if len(methods) != 1 or next(iter(methods)) in ("batch1", "not recorded"):
        listing = "; ".join(f"{m}: {', '.join(f)}" for m, f in methods.items())
        raise CostlabError(
            f"eval.tables.throughput=concurrency, but the variants' concurrent throughput was not "
            f"measured the same way ({listing})",
            "set eval.tables.throughput=batch1 (measured the same way for every variant), or measure "
            "every variant with the same real concurrent decoding",
        )
    return next(iter(methods))


def box_share(rec: Mapping[str, Any], profile: Mapping[str, Any], mode: str) -> tuple[float, str]:
    """Fraction of the box the measurement used, and how it was decided. ``used_threads``: a CPU box is priced
    for the threads the measurement ran on (threads / the profile's hardware threads); a GPU box is priced
    whole. ``whole_box``: always the whole box."""
    if mode == "whole_box":
        return 1.0, "whole box (eval.tables.price_share=whole_box)"
    if mode != "used_threads":
        raise CostlabError(f"eval.tables.price_share={mode!r}", "use used_threads | whole_box")
    if profile.get("kind") != "cpu":
        return 1.0, f"whole box ({profile.get('kind')} profile: a GPU is not shared by CPU threads)"
    L = rec.get("latency") or {}
    used = L.get("threads")
    total = L.get("hardware_threads") or profile.get("threads")
    if not used or not total:
        return 1.0, "whole box (threads used or hardware threads not recorded)"
    share = min(1.0, float(used) / float(total))
    return share, f"{used} of {total} hardware threads"


def _retention_ci(evidence: Mapping[str, Mapping[str, Any]] | None, name: str) -> dict[str, Any]:
    if not evidence:
        return {}
    return {
        c: {
            k: (evs.get(name) or {}).get(k)
            for k in ("retention", "retention_lo", "retention_hi", "n", "p_value", "test", "measurable")
        }
        for c, evs in evidence.items()
        if name in evs
    }


def fidelity_fields(fid: Mapping[str, Any] | None) -> dict[str, Any]:
    """KL named by its method (dense, or top-k + tail lower bound), top-1 agreement and perplexity, with intervals."""
    fid = fid or {}
    method = fid.get("kl_method")
    if method and method in fid:
        kl, lo, hi = fid[method], fid.get(f"{method}_lo"), fid.get(f"{method}_hi")
    elif "kl_dense" in fid:
        method, kl, lo, hi = "kl_dense", fid["kl_dense"], fid.get("kl_dense_lo"), fid.get("kl_dense_hi")
    elif "kl_topk_lower_bound" in fid:
        method = "kl_topk_lower_bound"
        kl, lo, hi = fid[method], fid.get(f"{method}_lo"), fid.get(f"{method}_hi")
    else:  # eval schema v1: one number, method in prose, no interval
        method = f"kl ({fid.get('method')}; no interval)" if fid.get("kl_mean") is not None else None
        kl, lo, hi = fid.get("kl_mean"), None, None
    top1 = fid.get("top1", fid.get("top1_agreement"))
    return {
        "kl_method": method,
        "kl": kl,
        "kl_lo": lo,
        "kl_hi": hi,
        "top1": top1,
        "top1_lo": fid.get("top1_lo"),
        "top1_hi": fid.get("top1_hi"),
        "perplexity": fid.get("perplexity"),
        "perplexity_lo": fid.get("perplexity_lo"),
        "perplexity_hi": fid.get("perplexity_hi"),
        "n_sequences": fid.get("n_sequences"),
        "n_tokens": fid.get("n_tokens"),
    }


def label_of(rec: Mapping[str, Any]) -> str:
    """What the variant really is (eval schema v2 ``label``, e.g. "teacher (Q4_1 GGUF, dequantized to fp32)")."""
    return str(rec.get("label") or (rec.get("variant_meta") or {}).get("label") or rec["variant"])


def build_cost_rows(
    evals: Mapping[str, Mapping[str, Any]],
    profiles: Mapping[str, Mapping[str, Any]],
    tcfg: Mapping[str, Any],
    pricing: Mapping[str, Any] | None,
    context: int | None,
    evidence: Mapping[str, Mapping[str, Mapping[str, Any]]] | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(rows, not_measured). Rows: measured (variant, hardware) pairs + API list prices. ``evidence``:
    {class: {variant: Evidence dict}} (retention with interval and n per class, the pooled ``general`` too)."""
    util = float(tcfg["utilization"])
    basis = str(tcfg["throughput"])
    which = str(tcfg["price"])
    share_mode = str(tcfg["price_share"])
    method = check_same_method(evals, basis)
    rows, missing = [], []
    for name in sorted(evals):
        rec = evals[name]
        if rec["status"] != "ok":
            for hw in profiles:
                missing.append(
                    {
                        "model": name,
                        "kind": "self_hosted",
                        "hardware": hw,
                        "status": rec["status"],
                        "reason": f"{rec['status']}: {(rec.get('error') or '').splitlines()[0][:200]}",
                        "source": rec["_file"],
                    }
                )
            continue
        measured_on = (rec.get("latency") or {}).get("hardware")
        for hw, prof in profiles.items():
            if hw != measured_on:
                missing.append(
                    {
                        "model": name,
                        "kind": "self_hosted",
                        "hardware": hw,
                        "status": "not measured",
                        "reason": f"not measured on {hw} (measured on {measured_on}); no extrapolation",
                        "source": rec["_file"],
                    }
                )
                continue
            dec, pre = throughput(rec, basis)
            share, share_txt = box_share(rec, prof, share_mode)
            pph = price_per_hour(prof, which)
            used_pph = pph * share
            s = rec["latency"]["summary"]
            rows.append(
                {
                    "model": name,
                    "kind": "self_hosted",
                    "hardware": hw,
                    "input_usd_per_1m": usd_per_1m_from_hourly(used_pph, pre, util),
                    "output_usd_per_1m": usd_per_1m_from_hourly(used_pph, dec, util),
                    "context": context,
                    "decode_tok_s": dec,
                    "ttft_ms_p50": s.get("ttft_ms_p50"),
                    "size_mb": (rec.get("memory") or {}).get("size_mb") or (rec.get("memory") or {}).get("file_mb"),
                    "quality_retention": {c: e.get("retention") for c, e in _retention_ci(evidence, name).items()},
                    "source": rec["_file"],
                    # extra columns (not in DESIGN's minimal row): what it is and how the numbers were made
                    "label": label_of(rec),
                    "status": "measured",
                    "format": rec.get("format"),
                    "backend": rec.get("backend"),
                    "base": rec.get("base"),
                    "quality_retention_ci": _retention_ci(evidence, name),
                    "usd_per_hour": pph,
                    "box_share": share,
                    "box_share_basis": share_txt,
                    "usd_per_hour_used": used_pph,
                    "utilization": util,
                    "throughput_basis": THROUGHPUT[basis],
                    "throughput_method": method,
                    "prefill_tok_s": pre,
                    "batch1_decode_tok_s": s.get("decode_tok_s_p50"),
                    **_decode_spread(rec, basis),
                    "tpot_ms_p50": s.get("tpot_ms_p50"),
                    "ttft_ms_p95": s.get("ttft_ms_p95"),
                    "threads": rec["latency"].get("threads"),
                    **fidelity_fields(rec.get("fidelity")),
                    "peak_rss_mb": (rec.get("memory") or {}).get("peak_rss_mb"),
                }
            )
    if pricing and tcfg["include_api"]:
        # ``pricing``: resolved prices (costlab.cost.pricing.load_pricing(cfg).to_dict(): LiteLLM's map + overrides)
        for name, p in sorted((pricing.get("api") or {}).items()):
            rows.append(
                {
                    "model": name,
                    "kind": "api",
                    "hardware": None,
                    "input_usd_per_1m": float(p["input"]),
                    "output_usd_per_1m": float(p["output"]),
                    "context": p.get("context"),
                    "decode_tok_s": None,
                    "ttft_ms_p50": None,
                    "size_mb": None,
                    "quality_retention": {},  # no eval run against API models here: never a routing candidate
                    "source": f"{pricing.get('origin') or 'configs/pricing'} ({p.get('source')}, as of {p.get('as_of')})",
                    "label": name,
                    "status": "list price",
                    "provider": p.get("provider"),
                    "cached_input_usd_per_1m": p.get("cached_input"),
                    "batch_discount": p.get("batch_discount"),
                }
            )
    return rows, missing


# ---------------------------------------------------------------------------------------------- break-even
def break_even(
    rows: list[dict[str, Any]], profiles: Mapping[str, Mapping[str, Any]], traffic: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Monthly request volume at which one always-on box of each measured variant costs as much as each API.

    One box costs usd_per_hour * 720 h a month and serves at most ``capacity`` requests a month (at the
    utilization knob, prefill + decode time per request). Break-even = box cost / API cost per request when
    that is within one box's capacity; otherwise the API is cheaper at any volume (more boxes only scale both
    sides), reported as ``never``.
    """
    rpd = float(traffic["requests_per_day"])
    tin, tout = float(traffic["avg_input_tokens"]), float(traffic["avg_output_tokens"])
    vol = rpd * DAYS_PER_MONTH
    apis = [r for r in rows if r["kind"] == "api"]
    out = []
    for r in rows:
        if r["kind"] != "self_hosted" or not r.get("decode_tok_s") or not r.get("prefill_tok_s"):
            continue
        box_month = r["usd_per_hour_used"] * HOURS_PER_MONTH  # the share of the box the variant was measured on
        sec_per_req = tin / r["prefill_tok_s"] + tout / r["decode_tok_s"]
        capacity = DAYS_PER_MONTH * 86400 * r["utilization"] / sec_per_req
        boxes = max(1, math.ceil(vol / capacity))
        self_month = boxes * box_month
        for a in apis:
            api_req = request_cost_usd(tin, tout, a["input_usd_per_1m"], a["output_usd_per_1m"])
            be = box_month / api_req if api_req > 0 else None
            within = be is not None and be <= capacity
            out.append(
                {
                    "variant": r["model"],
                    "hardware": r["hardware"],
                    "api_model": a["model"],
                    "api_usd_per_request": api_req,
                    "box_usd_per_month": box_month,
                    "capacity_requests_per_month": capacity,
                    "break_even_requests_per_month": be if within else None,
                    "break_even": f"{be:,.0f} req/month" if within else "never (API cheaper even at full load)",
                    "traffic_requests_per_month": vol,
                    "boxes_needed": boxes,
                    "self_hosted_usd_per_month": self_month,
                    "api_usd_per_month": api_req * vol,
                    "cheaper_at_traffic": "self-hosted" if self_month < api_req * vol else "api",
                    "source": r["source"],
                }
            )
    return out
