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

from omegaconf import OmegaConf

from costlab.config import CONFIG_DIR
from costlab.errors import CostlabError
from costlab.io import read_json

DAYS_PER_MONTH = 30
HOURS_PER_MONTH = 24 * DAYS_PER_MONTH


# ---------------------------------------------------------------------------------------------- inputs
def load_hardware_profiles(names: list[str], current: Mapping[str, Any] | None = None,
                           config_dir: Path = CONFIG_DIR) -> dict[str, dict[str, Any]]:
    """Profile name → profile dict, from configs/hardware/<file>.yaml (plus the run's own cfg.hardware)."""
    out: dict[str, dict[str, Any]] = {}
    for n in names:
        p = config_dir / "hardware" / f"{n}.yaml"
        if not p.exists():
            raise CostlabError(f"eval.tables.hardware_profiles: {p} not found",
                               f"use file names from {sorted(f.stem for f in (config_dir / 'hardware').glob('*.yaml'))}")
        d = OmegaConf.to_container(OmegaConf.load(p), resolve=True)
        d["_file"] = str(p)
        out[d["name"]] = d
    if current is not None:
        out[current["name"]] = {**out.get(current["name"], {}), **dict(current)}
    for name, d in out.items():
        if not isinstance(d.get("usd_per_hour"), (int, float)) or d["usd_per_hour"] <= 0:
            raise CostlabError(f"hardware profile '{name}' ({d.get('_file', 'cfg.hardware')}) has no usd_per_hour",
                               "add `usd_per_hour: <USD>` (and usd_per_hour_range: [low, high]) to the profile")
    return out


def price_per_hour(profile: Mapping[str, Any], which: str = "usd_per_hour") -> float:
    if which == "usd_per_hour":
        return float(profile["usd_per_hour"])
    rng = profile.get("usd_per_hour_range")
    if not rng or len(rng) != 2:
        raise CostlabError(f"hardware profile '{profile.get('name')}' has no usd_per_hour_range",
                           "add usd_per_hour_range: [low, high] or set eval.tables.price=usd_per_hour")
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
def usd_per_1m(usd_per_hour: float, tok_s: float | None, utilization: float) -> float | None:
    if not tok_s or tok_s <= 0:
        return None
    if not 0 < utilization <= 1:
        raise CostlabError(f"eval.tables.utilization={utilization} must be in (0, 1]")
    return usd_per_hour / (tok_s * 3600.0 * utilization) * 1e6


def retention_map(rec: Mapping[str, Any]) -> dict[str, float | None]:
    return {c: q.get("retention") for c, q in (rec.get("quality") or {}).items()}


def throughput(rec: Mapping[str, Any], basis: str) -> tuple[float | None, float | None, str]:
    s = ((rec.get("latency") or {}).get("summary")) or {}
    dec, pre = s.get("decode_tok_s_p50"), s.get("prefill_tok_s_p50")
    if basis == "concurrency" and s.get("aggregate_decode_tok_s_p50"):
        return float(s["aggregate_decode_tok_s_p50"]), pre, f"aggregate decode at concurrency {s.get('concurrency')} (p50)"
    if basis not in ("concurrency", "batch1"):
        raise CostlabError(f"eval.tables.throughput={basis!r}", "use concurrency | batch1")
    return dec, pre, "batch-1 decode (p50)"


def build_cost_rows(evals: Mapping[str, Mapping[str, Any]], profiles: Mapping[str, Mapping[str, Any]],
                    tcfg: Mapping[str, Any], pricing: Mapping[str, Any] | None, context: int | None
                    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(rows, not_measured). Rows: measured (variant, hardware) pairs + API list prices."""
    util = float(tcfg.get("utilization", 1.0))
    basis = str(tcfg.get("throughput", "concurrency"))
    which = str(tcfg.get("price", "usd_per_hour"))
    rows, missing = [], []
    for name in sorted(evals):
        rec = evals[name]
        if rec["status"] != "ok":
            for hw in profiles:
                missing.append({"model": name, "kind": "self_hosted", "hardware": hw, "status": rec["status"],
                                "reason": f"{rec['status']}: {(rec.get('error') or '').splitlines()[0][:200]}",
                                "source": rec["_file"]})
            continue
        measured_on = (rec.get("latency") or {}).get("hardware")
        for hw, prof in profiles.items():
            if hw != measured_on:
                missing.append({"model": name, "kind": "self_hosted", "hardware": hw, "status": "not measured",
                                "reason": f"not measured on {hw} (measured on {measured_on}); no extrapolation",
                                "source": rec["_file"]})
                continue
            dec, pre, basis_txt = throughput(rec, basis)
            pph = price_per_hour(prof, which)
            s = rec["latency"]["summary"]
            fid = rec.get("fidelity") or {}
            rows.append({
                "model": name, "kind": "self_hosted", "hardware": hw,
                "input_usd_per_1m": usd_per_1m(pph, pre, util), "output_usd_per_1m": usd_per_1m(pph, dec, util),
                "context": context, "decode_tok_s": dec, "ttft_ms_p50": s.get("ttft_ms_p50"),
                "size_mb": (rec.get("memory") or {}).get("size_mb") or (rec.get("memory") or {}).get("file_mb"),
                "quality_retention": retention_map(rec), "source": rec["_file"],
                # extra columns (not in DESIGN's minimal row): how the numbers were made
                "status": "measured", "format": rec.get("format"), "backend": rec.get("backend"),
                "base": rec.get("base"), "usd_per_hour": pph, "utilization": util, "throughput_basis": basis_txt,
                "prefill_tok_s": pre, "batch1_decode_tok_s": s.get("decode_tok_s_p50"),
                "tpot_ms_p50": s.get("tpot_ms_p50"), "ttft_ms_p95": s.get("ttft_ms_p95"),
                "threads": rec["latency"].get("threads"), "kl_to_teacher": fid.get("kl_mean"),
                "top1_agreement": fid.get("top1_agreement"), "perplexity": fid.get("perplexity"),
                "peak_rss_mb": (rec.get("memory") or {}).get("peak_rss_mb"),
            })
    if pricing and tcfg.get("include_api", True):
        for name, p in sorted((pricing.get("api") or {}).items()):
            rows.append({
                "model": name, "kind": "api", "hardware": None, "input_usd_per_1m": float(p["input"]),
                "output_usd_per_1m": float(p["output"]), "context": p.get("context"), "decode_tok_s": None,
                "ttft_ms_p50": None, "size_mb": None,
                "quality_retention": {},  # no eval run against API models here: never a routing candidate
                "source": f"configs/pricing ({p.get('source')}, as of {p.get('as_of')})",
                "status": "list price", "provider": p.get("provider"), "cached_input_usd_per_1m": p.get("cached_input"),
                "batch_discount": p.get("batch_discount"),
            })
    return rows, missing


# ---------------------------------------------------------------------------------------------- break-even
def break_even(rows: list[dict[str, Any]], profiles: Mapping[str, Mapping[str, Any]],
               traffic: Mapping[str, Any]) -> list[dict[str, Any]]:
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
        box_month = r["usd_per_hour"] * HOURS_PER_MONTH
        sec_per_req = tin / r["prefill_tok_s"] + tout / r["decode_tok_s"]
        capacity = DAYS_PER_MONTH * 86400 * r["utilization"] / sec_per_req
        boxes = max(1, math.ceil(vol / capacity))
        self_month = boxes * box_month
        for a in apis:
            api_req = (tin * a["input_usd_per_1m"] + tout * a["output_usd_per_1m"]) / 1e6
            be = box_month / api_req if api_req > 0 else None
            within = be is not None and be <= capacity
            out.append({"variant": r["model"], "hardware": r["hardware"], "api_model": a["model"],
                        "api_usd_per_request": api_req, "box_usd_per_month": box_month,
                        "capacity_requests_per_month": capacity,
                        "break_even_requests_per_month": be if within else None,
                        "break_even": f"{be:,.0f} req/month" if within else "never (API cheaper even at full load)",
                        "traffic_requests_per_month": vol, "boxes_needed": boxes,
                        "self_hosted_usd_per_month": self_month, "api_usd_per_month": api_req * vol,
                        "cheaper_at_traffic": "self-hosted" if self_month < api_req * vol else "api",
                        "source": r["source"]})
    return out
