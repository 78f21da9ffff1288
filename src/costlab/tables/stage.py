"""The ``build_tables`` stage: eval/*.json + hardware profiles + pricing → tables/.

Writes cost_table.{json,csv,md}, routing_table.json, break_even.{json,md}, litellm_model_prices.json and the
Pareto / latency PNGs. Every number in a row names the eval file it came from (``source``).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, Mapping

from omegaconf import DictConfig, OmegaConf

from costlab.config import to_container
from costlab.cost.pricing import load_pricing
from costlab.errors import CostlabError
from costlab.eval.stage import require_eval
from costlab.io import atomic_write_json, atomic_write_text
from costlab.tables.cost import THROUGHPUT, break_even, build_cost_rows, load_hardware_profiles, read_eval_dir
from costlab.tables.evidence import GENERAL, ItemScores, class_evidence, stats_settings
from costlab.tables.litellm_export import litellm_entries
from costlab.tables.plots import plot_latency, plot_pareto
from costlab.tables.routing import build_routing_table


def fmt(x: Any, nd: int = 3) -> str:
    if x is None:
        return "—"
    if isinstance(x, float):
        if x == 0:
            return "0"
        if abs(x) >= 1000:
            return f"{x:,.0f}"
        if abs(x) >= 1:
            return f"{x:.2f}"
        return f"{x:.{nd}g}"
    return str(x)


def fmt_ci(x: Any, lo: Any, hi: Any, n: Any = None, nd: int = 3) -> str:
    """``0.93 [0.85, 1.01] n=200``; an unbounded end prints as ``?``."""
    if x is None and lo is None and hi is None:
        return "—"
    s = f"{fmt(x, nd)} [{fmt(lo, nd) if lo is not None else '?'}, {fmt(hi, nd) if hi is not None else '?'}]"
    return s + (f" n={n}" if n is not None else "")


def fmt_retention(e: Mapping[str, Any] | None) -> str:
    if not e:
        return "—"
    cell = fmt_ci(e.get("retention"), e.get("retention_lo"), e.get("retention_hi"), e.get("n"))
    return cell if e.get("measurable", True) else f"not measurable ({cell})"


KL_NAMES = {"kl_dense": "KL dense", "kl_topk_lower_bound": "KL top-k lower bound"}


def kl_name(rows: list[Mapping[str, Any]]) -> str:
    methods = sorted({str(r.get("kl_method")) for r in rows if r.get("kl_method")})
    return " / ".join(KL_NAMES.get(m, m) for m in methods) or "KL"


def cost_table_md(
    rows: list[Mapping[str, Any]], missing: list[Mapping[str, Any]], classes: list[str], header: str = ""
) -> str:
    sh = [r for r in rows if r["kind"] == "self_hosted"]
    cols = (
        [
            "model",
            "what it is",
            "kind",
            "hardware",
            "$/1M in",
            "$/1M out",
            "decode tok/s p50 [min, max]",
            "TTFT p50 ms",
            "size MB",
            f"{kl_name(sh)} [CI]",
            "top-1 [CI]",
        ]
        + [f"retention {c} [CI] n" for c in classes]
        + ["source"]
    )
    lines = [header] if header else []
    lines += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        ci = r.get("quality_retention_ci") or {}
        vals = [
            r["model"],
            r.get("label") or r["model"],
            r["kind"],
            r.get("hardware") or "—",
            fmt(r.get("input_usd_per_1m")),
            fmt(r.get("output_usd_per_1m")),
            fmt_ci(r.get("decode_tok_s"), r.get("decode_tok_s_min"), r.get("decode_tok_s_max"))
            if r["kind"] != "api"
            else "—",
            fmt(r.get("ttft_ms_p50")),
            fmt(r.get("size_mb")),
            fmt_ci(r.get("kl"), r.get("kl_lo"), r.get("kl_hi")) if r["kind"] != "api" else "—",
            fmt_ci(r.get("top1"), r.get("top1_lo"), r.get("top1_hi")) if r["kind"] != "api" else "—",
        ]
        vals += [fmt_retention(ci.get(c)) if r["kind"] != "api" else "not measured" for c in classes]
        vals.append(r["source"])
        lines.append("| " + " | ".join(vals) + " |")
    if missing:
        lines += [
            "",
            "Not measured (no number is given for these pairs):",
            "",
            "| model | hardware | status | reason |",
            "|---|---|---|---|",
        ]
        groups: dict[tuple, list[str]] = {}
        for m in missing:  # one line per model and status; the hardware profiles listed together
            why = m["reason"] if m["status"] != "not measured" else "no measurement on this profile; no extrapolation"
            groups.setdefault((m["model"], m["status"], why), []).append(m["hardware"])
        for (model, status, why), hws in groups.items():
            lines.append(f"| {model} | {', '.join(hws)} | {status} | {why} |")
    return "\n".join(lines) + "\n"


def cost_table_csv(rows: list[Mapping[str, Any]], missing: list[Mapping[str, Any]], classes: list[str]) -> str:
    keys = [
        "model",
        "label",
        "kind",
        "hardware",
        "status",
        "input_usd_per_1m",
        "output_usd_per_1m",
        "context",
        "decode_tok_s",
        "decode_tok_s_min",
        "decode_tok_s_max",
        "batch1_decode_tok_s",
        "prefill_tok_s",
        "ttft_ms_p50",
        "ttft_ms_p95",
        "tpot_ms_p50",
        "size_mb",
        "peak_rss_mb",
        "kl_method",
        "kl",
        "kl_lo",
        "kl_hi",
        "top1",
        "top1_lo",
        "top1_hi",
        "perplexity",
        "perplexity_lo",
        "perplexity_hi",
        "n_sequences",
        "n_tokens",
        "usd_per_hour",
        "box_share",
        "box_share_basis",
        "usd_per_hour_used",
        "utilization",
        "throughput_basis",
        "throughput_method",
        "format",
        "backend",
        "threads",
    ]
    for c in classes:
        keys += [
            f"retention_{c}",
            f"retention_{c}_lo",
            f"retention_{c}_hi",
            f"retention_{c}_n",
            f"retention_{c}_measurable",
        ]
    keys += ["source", "reason"]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=keys, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in list(rows) + list(missing):
        d = dict(r)
        for c in classes:
            e = (r.get("quality_retention_ci") or {}).get(c) or {}
            d.update(
                {
                    f"retention_{c}": e.get("retention"),
                    f"retention_{c}_lo": e.get("retention_lo"),
                    f"retention_{c}_hi": e.get("retention_hi"),
                    f"retention_{c}_n": e.get("n"),
                    f"retention_{c}_measurable": e.get("measurable"),
                }
            )
        w.writerow(d)
    return buf.getvalue()


def break_even_md(be: list[Mapping[str, Any]], traffic: Mapping[str, Any]) -> str:
    lines = [
        f"Traffic: {traffic['requests_per_day']:,} requests/day, {traffic['avg_input_tokens']} input + "
        f"{traffic['avg_output_tokens']} output tokens each (30-day month).",
        "",
        "| variant | hardware | vs API | API $/request | break-even (one always-on box) | box capacity req/month "
        "| at this traffic: self-hosted $/month | API $/month | cheaper |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for b in be:
        lines.append(
            f"| {b['variant']} | {b['hardware']} | {b['api_model']} | {fmt(b['api_usd_per_request'], 3)} | "
            f"{b['break_even']} | {fmt(b['capacity_requests_per_month'])} | "
            f"{fmt(b['self_hosted_usd_per_month'])} ({b['boxes_needed']} box) | {fmt(b['api_usd_per_month'])} | "
            f"{b['cheaper_at_traffic']} |"
        )
    return "\n".join(lines) + "\n"


def build_tables(
    run_dir: Path,
    out_dir: Path,
    ecfg: Mapping[str, Any],
    hardware: Mapping[str, Any],
    pricing: Mapping[str, Any] | None,
    context: int | None,
    seed: int = 0,
    plots: bool = True,
) -> dict[str, Any]:
    """Everything is read and checked (evidence per class, prices) before the first file is written: bad input
    stops with a CostlabError and leaves the eval files and any earlier tables as they were. ``plots=False``
    skips the two PNGs (~5 s of matplotlib on a busy 2-core box; the tests of the numbers don't need them)."""
    tcfg = ecfg["tables"]
    evals = read_eval_dir(run_dir / "eval")
    classes = list(dict(ecfg["quality"]["tasks"]).keys())
    reference = str(ecfg["reference"])
    st = stats_settings(ecfg, seed)
    evidence = class_evidence(evals, reference, classes, ItemScores(run_dir), st)
    ev = {c: {m: e.to_dict() for m, e in by.items()} for c, by in evidence.items()}
    if not any(ev[c][reference]["measurable"] for c in classes):
        why = "; ".join(f"{c}: {ev[c][reference]['reason']}" for c in classes)
        raise CostlabError(
            f"{run_dir}/eval: the reference '{reference}' is not significantly above chance on any "
            f"task class ({why}) — nothing can be routed on this evidence",
            "use a stronger reference (eval.reference) or more items (eval.quality.limit / "
            "class_limits); the eval files are kept, re-running evaluate reuses finished variants",
        )
    profiles = load_hardware_profiles(list(tcfg["hardware_profiles"] or []), current=hardware)
    rows, missing = build_cost_rows(evals, profiles, tcfg, pricing, context, ev)
    measured = [r for r in rows if r["kind"] == "self_hosted"]
    if not measured:
        raise CostlabError(
            f"{run_dir}/eval: no variant was measured (every one failed or errored)",
            "see the errors in eval/*.json; the tables would route to unmeasured models",
        )
    traffic = dict(tcfg["traffic"])
    floor = float(tcfg["quality_floor"])
    endpoints = {"local": tcfg["local_endpoint"], "api": dict(tcfg["api_endpoints"] or {})}
    routing = build_routing_table(
        rows, ev, classes, reference, floor, st.confidence, str(run_dir), hardware["name"], traffic, endpoints
    )
    created = routing["created"]
    share = sorted({r["box_share_basis"] for r in measured})
    assumptions = {
        "utilization": tcfg["utilization"],
        "throughput": tcfg["throughput"],
        "throughput_basis": THROUGHPUT[str(tcfg["throughput"])],
        "throughput_method": measured[0]["throughput_method"],
        "price": tcfg["price"],
        "price_share": tcfg["price_share"],
        "box_share": share,
        "traffic": traffic,
        "reference": reference,
        "reference_label": routing["reference_label"],
        "confidence": st.confidence,
        "n_boot": st.n_boot,
        "seed": st.seed,
        "retention": "chance-normalized (score - c) / (reference - c), paired per-item bootstrap "
        f"{st.confidence:.0%} interval; 'general' pools every item of every class",
        "formula": "usd_per_1m = price_per_hour * box_share / (tok_s * 3600 * utilization) * 1e6; output "
        "uses decode tok/s (throughput basis above), input uses batch-1 prefill tok/s",
        "hardware_profiles": {
            n: {k: p.get(k) for k in ("usd_per_hour", "usd_per_hour_range", "kind")} for n, p in profiles.items()
        },
    }
    row_classes = classes + [GENERAL]
    atomic_write_json(
        out_dir / "cost_table.json",
        {
            "version": 2,
            "created": created,
            "run": str(run_dir),
            "assumptions": assumptions,
            "rows": rows,
            "not_measured": missing,
        },
    )
    atomic_write_text(out_dir / "cost_table.csv", cost_table_csv(rows, missing, row_classes))
    atomic_write_text(
        out_dir / "cost_table.md",
        cost_table_md(
            rows,
            missing,
            row_classes,
            header=f"Cost table — run `{run_dir}`. Reference: `{reference}` ({routing['reference_label']}). "
            f"Throughput: {THROUGHPUT[str(tcfg['throughput'])]}. Price: the share of the box the measurement "
            f"used ({'; '.join(share)}), utilization {tcfg['utilization']}. Retention: chance-normalized, "
            f"paired per-item bootstrap {st.confidence:.0%} interval, n items; `general` = all items pooled.\n",
        ),
    )
    atomic_write_json(out_dir / "routing_table.json", routing)
    be = break_even(rows, profiles, traffic)
    atomic_write_json(out_dir / "break_even.json", be)
    atomic_write_text(out_dir / "break_even.md", break_even_md(be, traffic))
    atomic_write_json(
        out_dir / "litellm_model_prices.json", litellm_entries(rows, hardware["name"], str(tcfg["litellm_provider"]))
    )
    if plots:
        plot_pareto(rows, row_classes, floor, out_dir / "pareto.png")
        plot_latency(rows, out_dir / "latency.png")
    return {
        "rows_measured": len(measured),
        "rows_not_measured": len(missing),
        "classes_routed": len([c for c in routing["routes"] if c != GENERAL]),
        "classes_unrouted": len(routing["unrouted"]),
        "classes_routed_to_a_variant": len(
            [c for c, r in routing["routes"].items() if c != GENERAL and r["cost"]["model"] != reference]
        ),
    }


def run_stage(cfg: DictConfig, run_dir: Path, out_dir: Path) -> dict[str, Any]:
    ecfg = to_container(require_eval(cfg))
    # resolved prices (LiteLLM's map + YAML overrides; costlab.cost.pricing), not the raw YAML of overrides
    pricing = None if OmegaConf.select(cfg, "pricing", default=None) is None else load_pricing(cfg).to_dict()
    context = OmegaConf.select(cfg, "teacher.max_context", default=None)
    return build_tables(run_dir, out_dir, ecfg, to_container(cfg.hardware), pricing, context, seed=int(cfg.seed))
