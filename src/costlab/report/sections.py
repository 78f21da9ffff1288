"""The per-run sections of the report (setup, cost, routing, quality, fidelity, latency) and the runs comparison.

Every number is read from a file of the run (eval/<variant>.json, tables/*.json); these functions only format.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np

from costlab.report.markdown import md_table
from costlab.tables.cost import fidelity_fields, label_of
from costlab.tables.stage import KL_NAMES, fmt, fmt_ci


def task_classes(run: Mapping[str, Any]) -> list[str]:
    seen: list[str] = []
    for rec in run["evals"].values():
        for c in rec.get("quality") or {}:
            if c not in seen:
                seen.append(c)
    return seen


def variant_label(run: Mapping[str, Any], name: str | None) -> str:
    rec = run["evals"].get(name) if name else None
    return label_of(rec) if rec else str(name)


def routing_sections(run: Mapping[str, Any], h: str) -> list[str]:
    """The routing decisions with the evidence behind them, the classes not routed (and why), and the decisions
    that would flip within the intervals."""
    rt = run["routing"]
    ref = rt.get("reference") or run["summary"].get("reference")
    conf = rt.get("confidence")
    lines = [
        f"{h} Routing table (quality floor {rt['quality_floor']}, confidence {conf})",
        "",
        f"Rule: {rt.get('test', 'retention >= floor (routing table version 1: point estimates)')}; the reference "
        f"`{ref}` ({variant_label(run, ref)}) is always a candidate. Unknown or unrouted classes: "
        f"{rt.get('default_rule', 'no default rule in this table')}.",
        "",
    ]

    def cell(r: Mapping[str, Any]) -> str:
        return f"{r['model']} ({fmt_ci(r.get('expected_retention'), r.get('retention_lo'), r.get('retention_hi'), r.get('n'))})"

    rows = []
    for tc, r in rt["routes"].items():
        name = f"{tc} (default route)" if tc == rt.get("default_route") else tc
        rows.append(
            [
                name,
                cell(r["cost"]),
                cell(r["quality"]),
                r["speed"]["model"],
                ", ".join(r["cost"]["fallbacks"]) or "—",
                r["cost"].get("test") or "—",
            ]
        )
    lines += md_table(
        [
            "task class",
            "cost pick (retention [CI] n)",
            "quality pick",
            "speed pick",
            "fallbacks (cost)",
            "test the cost pick passed",
        ],
        rows,
    )
    ev = rt.get("evidence") or {}
    why_ref = []
    for tc, r in rt["routes"].items():
        if all(r[p]["model"] == ref for p in ("cost", "quality", "speed")) and ev.get(tc):
            best = max(
                ((m, e) for m, e in ev[tc].items() if m != ref and e.get("retention_lo") is not None),
                key=lambda x: x[1]["retention_lo"],
                default=None,
            )
            detail = (
                f"best lower bound {best[0]} {fmt(best[1]['retention_lo'])} < {rt['quality_floor']}"
                if best
                else "no variant has a bounded interval"
            )
            why_ref.append(f"- `{tc}` stays on the reference: no variant is non-inferior ({detail}).")
    unrouted = rt.get("unrouted") or {}
    lines += why_ref
    for tc, why in unrouted.items():
        lines.append(f"- `{tc}` is not routed on (its requests take the default route): {why}")
    nm = [tc for tc, why in unrouted.items() if "not measurable" in why]
    if nm:
        lines += [
            "",
            f"Not measurable with this reference: {', '.join(f'`{c}`' for c in nm)} — the reference is not "
            "significantly above chance there, so no retention on these classes means anything.",
        ]
    lines.append("")
    sens = rt.get("sensitivity") or {}
    if sens:
        lines += [
            f"{h} Decisions that would flip within the intervals",
            "",
            "A variant whose interval straddles the floor (lower bound < floor <= upper bound) is not a candidate "
            "today but might be with more items; the picks below would change if the point estimate or the upper "
            "bound admitted candidates instead of the lower bound.",
            "",
        ]
        srows = []
        for tc, sv in sens.items():
            strad = (
                ", ".join(
                    f"{x['model']} {fmt_ci(x['retention'], x['retention_lo'], x['retention_hi'], x['n'])}"
                    for x in sv["straddling_floor"]
                )
                or "none"
            )
            flips = (
                "; ".join(
                    f"{f['priority']}: {f['pick']} → {f['would_be']} ({f['rule']})"
                    for f in sv["picks_that_would_change"]
                )
                or "none"
            )
            srows.append([tc, strad, flips])
        lines += md_table(["task class", "straddling the floor", "picks that would change"], srows)
    return lines


def run_sections(run: Mapping[str, Any], rel: str, multi: bool) -> list[str]:
    evals, cost = run["evals"], run["cost"]
    classes = task_classes(run)
    h = "###" if multi else "##"
    a = cost.get("assumptions", {})
    ref = run["summary"].get("reference")
    lines = [
        f"{'## Run' if multi else '## Setup'} `{run['dir']}`",
        "",
        f"Reference: `{ref}` — {variant_label(run, ref)}. Measured on hardware profile `{run['summary'].get('hardware')}`; "
        f"throughput: {a.get('throughput_basis', a.get('throughput'))}; price: the share of the box the "
        f"measurement used ({'; '.join(a.get('box_share') or []) or 'whole box'}); utilization "
        f"{a.get('utilization')}. Formula: {a.get('formula')}. Retention: {a.get('retention', 'score / reference')}.",
        "",
    ]
    bad = [
        (n, r["status"], (r.get("error") or "").splitlines()[0][:160]) for n, r in evals.items() if r["status"] != "ok"
    ]
    if bad:
        lines += [f"{h} Variants not measured", ""] + md_table(["variant", "status", "why"], [list(b) for b in bad])
    ok = {n: r for n, r in sorted(evals.items()) if r["status"] == "ok"}
    lines += [f"{h} Cost table", "", (Path(run["dir"]) / "tables" / "cost_table.md").read_text().strip(), ""]
    lines += routing_sections(run, h)
    # quality
    conf = run["routing"].get("confidence") or 0.95
    lines += [
        f"{h} Quality per task class",
        "",
        f"score ± stderr (n); chance-normalized retention [paired bootstrap {conf:.0%} CI]; paired test vs the "
        "reference (p). `not measurable`: the reference is not significantly above chance on that class.",
        "",
    ]
    rows = []
    for n, r in ok.items():
        row = [f"{n} ({label_of(r)})"]
        for c in classes:
            q = (r.get("quality") or {}).get(c) or {}
            ret = fmt_ci(q.get("retention"), q.get("retention_lo"), q.get("retention_hi"))
            meas = "" if q.get("measurable", True) else " not measurable"
            p = f", {q.get('test')} p={fmt(q.get('p_value'))}" if q.get("p_value") is not None and n != ref else ""
            row.append(f"{fmt(q.get('score'))} ± {fmt(q.get('stderr'))} (n={q.get('n')}); r={ret}{p}{meas}")
        rows.append(row)
    lines += md_table(["variant"] + classes, rows)
    # fidelity
    fid = {n: fidelity_fields(r.get("fidelity")) for n, r in ok.items()}
    methods = sorted({f["kl_method"] for f in fid.values() if f["kl_method"]})
    kl_head = " / ".join(KL_NAMES.get(m, m) for m in methods) or "KL"
    lines += [f"{h} Fidelity to the reference (held-out tokens)", ""]
    lines += md_table(
        [
            "variant",
            f"{kl_head} (reference‖variant) [CI]",
            "top-1 agreement [CI]",
            "perplexity [CI]",
            "sequences",
            "tokens",
        ],
        [
            [
                n,
                fmt_ci(f["kl"], f["kl_lo"], f["kl_hi"]),
                fmt_ci(f["top1"], f["top1_lo"], f["top1_hi"]),
                fmt_ci(f["perplexity"], f["perplexity_lo"], f["perplexity_hi"]),
                f["n_sequences"],
                f["n_tokens"],
            ]
            for n, f in fid.items()
        ],
    )
    lines += [
        f"KL method: {', '.join(KL_NAMES.get(m, m) for m in methods) or '—'} (a top-k lower bound understates the "
        "dense KL); intervals: bootstrap over sequences.",
        "",
    ]
    # latency
    lines += [f"{h} Latency, throughput, memory", ""]
    lrows, spreads = [], []
    for n, r in ok.items():
        L = r["latency"]
        s = L.get("summary") or {}
        lrows.append(
            [
                n,
                L.get("backend"),
                L.get("threads"),
                s.get("ttft_ms_p50"),
                s.get("ttft_ms_p95"),
                s.get("tpot_ms_p50"),
                fmt_ci(s.get("decode_tok_s_p50"), s.get("decode_tok_s_min"), s.get("decode_tok_s_max")),
                fmt_ci(s.get("prefill_tok_s_p50"), s.get("prefill_tok_s_min"), s.get("prefill_tok_s_max")),
                L.get("concurrency_method") or "—",
                (r.get("memory") or {}).get("peak_rss_mb"),
                (r.get("memory") or {}).get("file_mb"),
            ]
        )
        dec = (L.get("batch1") or {}).get("decode_tok_s") or {}
        if dec.get("rel_spread") is not None:
            spreads.append(dec["rel_spread"])
        elif s.get("decode_tok_s_min") is not None and s.get("decode_tok_s_p50"):
            spreads.append((s["decode_tok_s_max"] - s["decode_tok_s_min"]) / s["decode_tok_s_p50"])
    lines += md_table(
        [
            "variant",
            "backend",
            "threads",
            "TTFT p50 ms",
            "TTFT p95 ms",
            "TPOT p50 ms",
            "decode tok/s p50 [min, max]",
            "prefill tok/s p50 [min, max]",
            "concurrency method",
            "peak RSS MB",
            "file MB",
        ],
        lrows,
    )
    if ok:
        L0 = next(iter(ok.values()))["latency"]
        lines += [
            f"Prompts of {L0.get('prompt_tokens')} tokens, {L0.get('new_tokens')} new tokens, {L0.get('reps')} "
            f"timed reps after {L0.get('warmup')} warm-up; [min, max] = the spread across reps."
        ]
    if spreads:
        lines += [
            f"Noise: within this run the spread of batch-1 decode tok/s across reps ((max − min) / p50) is "
            f"{100 * float(np.median(spreads)):.0f}% (median over variants, max {100 * max(spreads):.0f}%): "
            "treat latency differences smaller than that as noise. Quality and fidelity are deterministic "
            "(greedy, fixed items, seeded bootstrap) and reproduce exactly on a re-run.",
            "",
        ]
    be_md = Path(run["dir"]) / "tables" / "break_even.md"
    if be_md.exists():
        lines += [f"{h} Break-even vs API models", "", be_md.read_text().strip(), ""]
    for png, alt in (
        ("pareto.png", "Pareto: retention with its interval vs $/1M output"),
        ("latency.png", "latency and throughput with their spread"),
    ):
        if (Path(run["dir"]) / "tables" / png).exists():
            lines += [f"![{alt}]({rel}/tables/{png})", ""]
    return lines


def comparison_section(runs: list[Mapping[str, Any]]) -> list[str]:
    names = sorted({n for r in runs for n in r["evals"]})
    lines = ["## Runs compared", ""]
    header = ["variant"] + [
        f"{r['dir'].name}: mean retention over measurable classes / KL / decode tok/s" for r in runs
    ]
    rows = []
    for n in names:
        row = [n]
        for r in runs:
            rec = r["evals"].get(n)
            if not rec or rec["status"] != "ok":
                row.append(rec["status"] if rec else "—")
                continue
            rets = [
                q["retention"]
                for q in rec["quality"].values()
                if isinstance(q.get("retention"), (int, float)) and q.get("measurable", True)
            ]
            row.append(
                f"{fmt(float(np.mean(rets)) if rets else None)} / "
                f"{fmt(fidelity_fields(rec.get('fidelity'))['kl'])} / "
                f"{fmt(rec['latency']['summary'].get('decode_tok_s_p50'))}"
            )
        rows.append(row)
    return lines + md_table(header, rows)
