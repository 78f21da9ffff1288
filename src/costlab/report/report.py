"""report.md (+ report.html): one or more runs' variants side by side, from their eval/ and tables/ files.

Every number is read from a file of the run (eval/<variant>.json, tables/*.json); the report computes only
the routing-quality curve (from eval/samples/*.jsonl) and formats.
"""

from __future__ import annotations

import html
import re
import time
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from costlab.errors import CostlabError
from costlab.io import atomic_write_json, atomic_write_text, read_json, read_jsonl
from costlab.report import routing_curve as rc
from costlab.tables.cost import fidelity_fields, label_of, read_eval_dir
from costlab.tables.stage import KL_NAMES, fmt, fmt_ci


def load_run(run_dir: Path) -> dict[str, Any]:
    run_dir = Path(run_dir)
    t = run_dir / "tables"
    if not (t / "cost_table.json").exists():
        raise CostlabError(f"{t}/cost_table.json not found", f"run the build_tables stage for {run_dir} first")
    return {
        "dir": run_dir,
        "evals": read_eval_dir(run_dir / "eval"),
        "cost": read_json(t / "cost_table.json"),
        "routing": read_json(t / "routing_table.json"),
        "break_even": read_json(t / "break_even.json") if (t / "break_even.json").exists() else [],
        "summary": read_json(run_dir / "eval" / "summary.json") if (run_dir / "eval" / "summary.json").exists() else {},
    }


def _classes(run: Mapping[str, Any]) -> list[str]:
    seen: list[str] = []
    for rec in run["evals"].values():
        for c in rec.get("quality") or {}:
            if c not in seen:
                seen.append(c)
    return seen


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(fmt(v) if not isinstance(v, str) else v for v in r) + " |" for r in rows]
    return out + [""]


# ---------------------------------------------------------------------------------------------- routing curve
def routing_curve_section(run: Mapping[str, Any], rcfg: Mapping[str, Any], out_dir: Path) -> tuple[list[str], dict]:
    evals = run["evals"]
    strong = rcfg.get("strong") or run["summary"].get("reference")
    cheap = rcfg.get("cheap")
    if not cheap:  # the cheapest measured variant that is worse than the strong one on the eval items (else
        # the curve is flat and undefined); if none is worse, the cheapest one (the report then says so)
        ok = sorted(
            (
                r
                for r in run["cost"]["rows"]
                if r["kind"] == "self_hosted"
                and r["model"] != strong
                and r.get("output_usd_per_1m") is not None
                and evals.get(r["model"], {}).get("samples_file")
            ),
            key=lambda r: (r["output_usd_per_1m"], r["model"]),
        )
        q_strong = _mean_item_score(run, strong)
        worse = [r for r in ok if q_strong is not None and (_mean_item_score(run, r["model"]) or 0.0) < q_strong]
        cheap = (worse or ok)[0]["model"] if ok else None
    lines = ["## Routing-quality curve", ""]
    if (
        not strong
        or not cheap
        or strong not in evals
        or cheap not in evals
        or evals[strong]["status"] != "ok"
        or evals[cheap]["status"] != "ok"
    ):
        return lines + [f"Not measured: need two measured variants (strong={strong}, cheap={cheap}).", ""], {}
    rows_c = read_jsonl(run["dir"] / evals[cheap]["samples_file"])
    rows_s = read_jsonl(run["dir"] / evals[strong]["samples_file"])
    prompts, classes, cs, ss = rc.join_samples(rows_c, rows_s)
    # a class whose reference is at chance has no meaningful retention: the router treats it as unknown
    retention = {
        c: q.get("retention") if q.get("measurable", True) else None
        for c, q in (evals[cheap].get("quality") or {}).items()
    }
    kind = str(rcfg.get("classifier", "keyword"))
    if kind == "keyword":
        from costlab.serving.classify import KeywordClassifier

        clf = KeywordClassifier().predict
        label = "keyword classifier"  # costlab.serving.classify.KeywordClassifier
    elif kind == "oracle":
        lookup = dict(zip(prompts, classes))
        clf = lambda ps: [lookup[p] for p in ps]  # noqa: E731
        label = "oracle task class"  # the item's true class: upper bound for a class-level router
    elif ":" in kind:  # "module:attr" — any classifier: a class with .predict(texts), or a function texts -> classes
        import importlib

        mod, _, attr = kind.partition(":")
        try:
            obj = getattr(importlib.import_module(mod), attr)
        except (ImportError, AttributeError) as e:
            raise CostlabError(
                f"eval.report.routing_curve.classifier={kind!r} does not import ({e})",
                "use keyword | oracle | module:attr",
            ) from e
        obj = obj() if isinstance(obj, type) else obj
        clf = obj.predict if hasattr(obj, "predict") else obj
        label = kind
    else:
        raise CostlabError(f"eval.report.routing_curve.classifier={kind!r}", "use keyword | oracle | module:attr")
    routers = {label: rc.class_router(clf, retention), "random": rc.random_router}
    curves = {name: rc.routing_curve(cs, ss, fn(prompts), int(rcfg.get("points", 21))) for name, fn in routers.items()}
    lines += [
        f"Cheap = `{cheap}`, strong = `{strong}`, {len(prompts)} held-out eval items (per-item scores from "
        f"eval/samples/). Router score = 1 − the cheap variant's retention on the class predicted by "
        f"the {label} (`eval.report.routing_curve.classifier`). That retention "
        f"is estimated on these same items (in-sample), so the router's curve is optimistic; with few items "
        f"per class it is coarse.",
        "",
    ]
    lines += _table(
        ["router", "APGR", "CPT(50%)", "CPT(80%)", "Q cheap", "Q strong"],
        [[n, c.get("apgr"), c.get("cpt50"), c.get("cpt80"), c["q_cheap"], c["q_strong"]] for n, c in curves.items()],
    )
    if any(c.get("note") for c in curves.values()):
        lines += [next(c["note"] for c in curves.values() if c.get("note")), ""]
    png = _plot_curves(curves, out_dir / "routing_curve.png", cheap, strong)
    if png:
        lines += [f"![routing-quality curve]({png.name})", ""]
    return lines, {"cheap": cheap, "strong": strong, "curves": curves}


def _mean_item_score(run: Mapping[str, Any], name: str | None) -> float | None:
    rec = run["evals"].get(name) if name else None
    if not rec or rec.get("status") != "ok" or not rec.get("samples_file"):
        return None
    rows = read_jsonl(run["dir"] / rec["samples_file"], allow_empty=True)
    return float(np.mean([r["score"] for r in rows])) if rows else None


def _plot_curves(curves: Mapping[str, Any], out: Path, cheap: str, strong: str) -> Path | None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4))
    for name, c in curves.items():
        ax.plot(np.asarray(c["x"]) * 100, c["quality"], marker="o", ms=3, label=f"{name} (APGR {fmt(c.get('apgr'))})")
    ax.set_xlabel(f"% calls to strong ({strong})")
    ax.set_ylabel("mean quality")
    ax.set_title(f"cheap = {cheap}")
    ax.legend(fontsize=7)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


# ---------------------------------------------------------------------------------------------- markdown
def _label(run: Mapping[str, Any], name: str | None) -> str:
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
        f"`{ref}` ({_label(run, ref)}) is always a candidate. Unknown or unrouted classes: "
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
    lines += _table(
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
        lines += _table(["task class", "straddling the floor", "picks that would change"], srows)
    return lines


def run_sections(run: Mapping[str, Any], rel: str, multi: bool) -> list[str]:
    evals, cost = run["evals"], run["cost"]
    classes = _classes(run)
    h = "###" if multi else "##"
    a = cost.get("assumptions", {})
    ref = run["summary"].get("reference")
    lines = [
        f"{'## Run' if multi else '## Setup'} `{run['dir']}`",
        "",
        f"Reference: `{ref}` — {_label(run, ref)}. Measured on hardware profile `{run['summary'].get('hardware')}`; "
        f"throughput: {a.get('throughput_basis', a.get('throughput'))}; price: the share of the box the "
        f"measurement used ({'; '.join(a.get('box_share') or []) or 'whole box'}); utilization "
        f"{a.get('utilization')}. Formula: {a.get('formula')}. Retention: {a.get('retention', 'score / reference')}.",
        "",
    ]
    bad = [
        (n, r["status"], (r.get("error") or "").splitlines()[0][:160]) for n, r in evals.items() if r["status"] != "ok"
    ]
    if bad:
        lines += [f"{h} Variants not measured", ""] + _table(["variant", "status", "why"], [list(b) for b in bad])
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
    lines += _table(["variant"] + classes, rows)
    # fidelity
    fid = {n: fidelity_fields(r.get("fidelity")) for n, r in ok.items()}
    methods = sorted({f["kl_method"] for f in fid.values() if f["kl_method"]})
    kl_head = " / ".join(KL_NAMES.get(m, m) for m in methods) or "KL"
    lines += [f"{h} Fidelity to the reference (held-out tokens)", ""]
    lines += _table(
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
    lines += _table(
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
    return lines + _table(header, rows)


def md_to_html(md: str, title: str) -> str:
    """The markdown subset report.md uses (headings, tables, lists, images, inline code, paragraphs)."""
    out, in_table, in_list = [], False, False

    def inline(s: str) -> str:
        s = html.escape(s)
        s = re.sub(r"!\[([^\]]*)\]\(([^)]+)\)", r'<img alt="\1" src="\2" style="max-width:100%">', s)
        return re.sub(r"`([^`]+)`", r"<code>\1</code>", s)

    for line in md.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if all(re.fullmatch(r"-+", c) for c in cells if c):
                continue
            if not in_table:
                out.append("<table>")
                in_table = True
                out.append("<tr>" + "".join(f"<th>{inline(c)}</th>" for c in cells) + "</tr>")
                continue
            out.append("<tr>" + "".join(f"<td>{inline(c)}</td>" for c in cells) + "</tr>")
            continue
        if in_table:
            out.append("</table>")
            in_table = False
        if line.startswith("- "):
            if not in_list:
                out.append("<ul>")
                in_list = True
            out.append(f"<li>{inline(line[2:])}</li>")
            continue
        if in_list:
            out.append("</ul>")
            in_list = False
        m = re.match(r"(#+) (.*)", line)
        if m:
            n = len(m.group(1))
            out.append(f"<h{n}>{inline(m.group(2))}</h{n}>")
        elif line.strip():
            out.append(f"<p>{inline(line)}</p>")
    if in_table:
        out.append("</table>")
    if in_list:
        out.append("</ul>")
    style = (
        "body{font-family:sans-serif;max-width:1400px;margin:2em auto;font-size:14px}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 6px;font-size:12px}"
        "th{background:#f3f3f3}code{background:#f5f5f5}"
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{style}</style></head><body>\n" + "\n".join(out) + "\n</body></html>\n"
    )


def write_report(run_dirs: list[Path], out_dir: Path, rcfg: Mapping[str, Any] | None = None) -> dict[str, Any]:
    runs = [load_run(Path(d)) for d in run_dirs]
    multi = len(runs) > 1
    dirs = ", ".join(f"`{r['dir']}`" for r in runs)
    lines = [
        "# costlab report: variants side by side",
        "",
        f"Generated {time.strftime('%Y-%m-%d %H:%M:%S %Z')} from {dirs}. "
        "Every number comes from the run's eval/<variant>.json and tables/ files (named in the `source` column).",
        "",
    ]
    curves = {}
    for r in runs:
        rel = Path(_relpath(r["dir"], out_dir))
        lines += run_sections(r, str(rel), multi)
        sec, cur = routing_curve_section(r, rcfg or {}, out_dir if not multi else out_dir / r["dir"].name)
        if multi and cur:
            sec = [s.replace("](routing_curve.png)", f"]({r['dir'].name}/routing_curve.png)") for s in sec]
        lines += sec
        curves[str(r["dir"])] = cur
    if multi:
        lines += comparison_section(runs)
    md = "\n".join(lines) + "\n"
    atomic_write_text(out_dir / "report.md", md)
    atomic_write_text(out_dir / "report.html", md_to_html(md, "costlab report"))
    atomic_write_json(out_dir / "routing_curve.json", curves)
    return {"runs": len(runs), "report": str(out_dir / "report.md")}


def _relpath(target: Path, start: Path) -> str:
    import os

    return os.path.relpath(Path(target).resolve(), Path(start).resolve())
