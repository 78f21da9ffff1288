"""The ``build_tables`` stage: eval/*.json + hardware profiles + pricing → tables/.

Writes cost_table.{json,csv,md}, routing_table.json, break_even.{json,md}, litellm_model_prices.json and the
Pareto / latency PNGs. Every number in a row names the eval file it came from (``source``).
"""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path
from typing import Any, Mapping

from omegaconf import DictConfig, OmegaConf

from costlab.config import to_container
from costlab.errors import CostlabError
from costlab.eval.stage import require_eval
from costlab.io import atomic_write_json, atomic_write_text
from costlab.tables.cost import break_even, build_cost_rows, load_hardware_profiles, read_eval_dir
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


def cost_table_md(rows: list[Mapping[str, Any]], missing: list[Mapping[str, Any]], classes: list[str],
                  header: str = "") -> str:
    cols = ["model", "kind", "hardware", "$/1M in", "$/1M out", "decode tok/s", "TTFT p50 ms", "size MB",
            "KL", "top-1"] + [f"ret {c}" for c in classes] + ["source"]
    lines = [header] if header else []
    lines += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        ret = r.get("quality_retention") or {}
        vals = [r["model"], r["kind"], r.get("hardware") or "—", fmt(r.get("input_usd_per_1m")),
                fmt(r.get("output_usd_per_1m")), fmt(r.get("decode_tok_s")), fmt(r.get("ttft_ms_p50")),
                fmt(r.get("size_mb")), fmt(r.get("kl_to_teacher")), fmt(r.get("top1_agreement"))]
        vals += [fmt(ret.get(c)) if r["kind"] != "api" else "not measured" for c in classes]
        vals.append(r["source"])
        lines.append("| " + " | ".join(vals) + " |")
    if missing:
        lines += ["", "Not measured (no number is given for these pairs):", "",
                  "| model | hardware | status | reason |", "|---|---|---|---|"]
        groups: dict[tuple, list[str]] = {}
        for m in missing:  # one line per model and status; the hardware profiles listed together
            why = m["reason"] if m["status"] != "not measured" else "no measurement on this profile; no extrapolation"
            groups.setdefault((m["model"], m["status"], why), []).append(m["hardware"])
        for (model, status, why), hws in groups.items():
            lines.append(f"| {model} | {', '.join(hws)} | {status} | {why} |")
    return "\n".join(lines) + "\n"


def cost_table_csv(rows: list[Mapping[str, Any]], missing: list[Mapping[str, Any]], classes: list[str]) -> str:
    keys = ["model", "kind", "hardware", "status", "input_usd_per_1m", "output_usd_per_1m", "context",
            "decode_tok_s", "batch1_decode_tok_s", "prefill_tok_s", "ttft_ms_p50", "ttft_ms_p95", "tpot_ms_p50",
            "size_mb", "peak_rss_mb", "kl_to_teacher", "top1_agreement", "perplexity", "usd_per_hour",
            "utilization", "throughput_basis", "format", "backend", "threads"] + [f"retention_{c}" for c in classes] \
        + ["source", "reason"]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=keys, extrasaction="ignore")
    w.writeheader()
    for r in list(rows) + list(missing):
        d = dict(r)
        for c in classes:
            d[f"retention_{c}"] = (r.get("quality_retention") or {}).get(c)
        w.writerow(d)
    return buf.getvalue()


def break_even_md(be: list[Mapping[str, Any]], traffic: Mapping[str, Any]) -> str:
    lines = [f"Traffic: {traffic['requests_per_day']:,} requests/day, {traffic['avg_input_tokens']} input + "
             f"{traffic['avg_output_tokens']} output tokens each (30-day month).", "",
             "| variant | hardware | vs API | API $/request | break-even (one always-on box) | box capacity req/month "
             "| at this traffic: self-hosted $/month | API $/month | cheaper |", "|---|---|---|---|---|---|---|---|---|"]
    for b in be:
        lines.append(f"| {b['variant']} | {b['hardware']} | {b['api_model']} | {fmt(b['api_usd_per_request'], 3)} | "
                     f"{b['break_even']} | {fmt(b['capacity_requests_per_month'])} | "
                     f"{fmt(b['self_hosted_usd_per_month'])} ({b['boxes_needed']} box) | {fmt(b['api_usd_per_month'])} | "
                     f"{b['cheaper_at_traffic']} |")
    return "\n".join(lines) + "\n"


def build_tables(run_dir: Path, out_dir: Path, ecfg: Mapping[str, Any], hardware: Mapping[str, Any],
                 pricing: Mapping[str, Any] | None, context: int | None) -> dict[str, Any]:
    tcfg = ecfg["tables"]
    evals = read_eval_dir(run_dir / "eval")
    classes = list(dict(ecfg["quality"]["tasks"]).keys())
    profiles = load_hardware_profiles(list(tcfg.get("hardware_profiles") or []), current=hardware)
    rows, missing = build_cost_rows(evals, profiles, tcfg, pricing, context)
    measured = [r for r in rows if r["kind"] == "self_hosted"]
    if not measured:
        raise CostlabError(f"{run_dir}/eval: no variant was measured (every one failed or errored)",
                           "see the errors in eval/*.json; the tables would route to unmeasured models")
    traffic = dict(tcfg["traffic"])
    created = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    assumptions = {"utilization": tcfg.get("utilization"), "throughput": tcfg.get("throughput"),
                   "price": tcfg.get("price"), "traffic": traffic,
                   "formula": "usd_per_1m = price_per_hour / (tok_s * 3600 * utilization) * 1e6; output uses decode "
                              "tok/s (basis above), input uses batch-1 prefill tok/s",
                   "hardware_profiles": {n: {k: p.get(k) for k in ("usd_per_hour", "usd_per_hour_range", "kind")}
                                         for n, p in profiles.items()}}
    atomic_write_json(out_dir / "cost_table.json", {"version": 1, "created": created, "run": str(run_dir),
                                                    "assumptions": assumptions, "rows": rows, "not_measured": missing})
    atomic_write_text(out_dir / "cost_table.csv", cost_table_csv(rows, missing, classes))
    atomic_write_text(out_dir / "cost_table.md", cost_table_md(
        rows, missing, classes, header=f"Cost table — run `{run_dir}`, utilization {tcfg.get('utilization')}, "
                                       f"throughput basis: {tcfg.get('throughput')}\n"))
    endpoints = {"local": tcfg.get("local_endpoint"), "api": dict(tcfg.get("api_endpoints") or {})}
    routing = build_routing_table(rows, classes, float(tcfg["quality_floor"]), str(run_dir), hardware["name"],
                                  float(traffic["avg_output_tokens"]), endpoints,
                                  tcfg.get("max_retention", 1.0))
    atomic_write_json(out_dir / "routing_table.json", routing)
    be = break_even(rows, profiles, traffic)
    atomic_write_json(out_dir / "break_even.json", be)
    atomic_write_text(out_dir / "break_even.md", break_even_md(be, traffic))
    atomic_write_json(out_dir / "litellm_model_prices.json",
                      litellm_entries(rows, hardware["name"], str(tcfg.get("litellm_provider", "openai"))))
    plot_pareto(rows, classes, float(tcfg["quality_floor"]), out_dir / "pareto.png")
    plot_latency(rows, out_dir / "latency.png")
    return {"rows_measured": len(measured), "rows_not_measured": len(missing),
            "classes_routed": len(routing["routes"]), "classes_unrouted": len(routing.get("unrouted", {}))}


def run_stage(cfg: DictConfig, run_dir: Path, out_dir: Path) -> dict[str, Any]:
    ecfg = to_container(require_eval(cfg))
    pricing = to_container(OmegaConf.select(cfg, "pricing", default=None))
    context = OmegaConf.select(cfg, "teacher.max_context", default=None)
    return build_tables(run_dir, out_dir, ecfg, to_container(cfg.hardware), pricing, context)
