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
from costlab.tables.cost import read_eval_dir
from costlab.tables.stage import fmt


def load_run(run_dir: Path) -> dict[str, Any]:
    run_dir = Path(run_dir)
    t = run_dir / "tables"
    if not (t / "cost_table.json").exists():
        raise CostlabError(f"{t}/cost_table.json not found", f"run the build_tables stage for {run_dir} first")
    return {"dir": run_dir, "evals": read_eval_dir(run_dir / "eval"), "cost": read_json(t / "cost_table.json"),
            "routing": read_json(t / "routing_table.json"),
            "break_even": read_json(t / "break_even.json") if (t / "break_even.json").exists() else [],
            "summary": read_json(run_dir / "eval" / "summary.json") if (run_dir / "eval" / "summary.json").exists()
            else {}}


def _classes(run: Mapping[str, Any]) -> list[str]:
    seen: list[str] = []
    for rec in run["evals"].values():
        for c in (rec.get("quality") or {}):
            if c not in seen:
                seen.append(c)
    return seen


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(fmt(v) if not isinstance(v, str) else v for v in r) + " |" for r in rows]
    return out + [""]


# ---------------------------------------------------------------------------------------------- routing curve
def routing_curve_section(run: Mapping[str, Any], rcfg: Mapping[str, Any], out_dir: Path) -> tuple[list[str], dict]:
    evals, routing = run["evals"], run["routing"]
    strong = rcfg.get("strong") or run["summary"].get("reference")
    cheap = rcfg.get("cheap")
    if not cheap:  # the cheapest measured variant that is worse than the strong one on the eval items (else
        # the curve is flat and undefined); if none is worse, the cheapest one (the report then says so)
        ok = sorted((r for r in run["cost"]["rows"] if r["kind"] == "self_hosted" and r["model"] != strong
                     and r.get("output_usd_per_1m") is not None and evals.get(r["model"], {}).get("samples_file")),
                    key=lambda r: (r["output_usd_per_1m"], r["model"]))
        q_strong = _mean_item_score(run, strong)
        worse = [r for r in ok if q_strong is not None and (_mean_item_score(run, r["model"]) or 0.0) < q_strong]
        cheap = (worse or ok)[0]["model"] if ok else None
    lines = ["## Routing-quality curve", ""]
    if not strong or not cheap or strong not in evals or cheap not in evals or \
            evals[strong]["status"] != "ok" or evals[cheap]["status"] != "ok":
        return lines + [f"Not measured: need two measured variants (strong={strong}, cheap={cheap}).", ""], {}
    rows_c = read_jsonl(run["dir"] / evals[cheap]["samples_file"])
    rows_s = read_jsonl(run["dir"] / evals[strong]["samples_file"])
    prompts, classes, cs, ss = rc.join_samples(rows_c, rows_s)
    retention = {c: q.get("retention") for c, q in (evals[cheap].get("quality") or {}).items()}
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
            raise CostlabError(f"eval.report.routing_curve.classifier={kind!r} does not import ({e})",
                               "use keyword | oracle | module:attr") from e
        obj = obj() if isinstance(obj, type) else obj
        clf = obj.predict if hasattr(obj, "predict") else obj
        label = kind
    else:
        raise CostlabError(f"eval.report.routing_curve.classifier={kind!r}", "use keyword | oracle | module:attr")
    routers = {label: rc.class_router(clf, retention), "random": rc.random_router}
    curves = {name: rc.routing_curve(cs, ss, fn(prompts), int(rcfg.get("points", 21))) for name, fn in routers.items()}
    lines += [f"Cheap = `{cheap}`, strong = `{strong}`, {len(prompts)} held-out eval items (per-item scores from "
              f"eval/samples/). Router score = 1 − the cheap variant's retention on the class predicted by "
              f"the {label} (`eval.report.routing_curve.classifier`). That retention "
              f"is estimated on these same items (in-sample), so the router's curve is optimistic; with few items "
              f"per class it is coarse.", ""]
    lines += _table(["router", "APGR", "CPT(50%)", "CPT(80%)", "Q cheap", "Q strong"],
                    [[n, c.get("apgr"), c.get("cpt50"), c.get("cpt80"), c["q_cheap"], c["q_strong"]]
                     for n, c in curves.items()])
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
        ax.plot(np.asarray(c["x"]) * 100, c["quality"], marker="o", ms=3,
                label=f"{name} (APGR {fmt(c.get('apgr'))})")
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
def run_sections(run: Mapping[str, Any], rel: str, multi: bool) -> list[str]:
    evals, cost = run["evals"], run["cost"]
    classes = _classes(run)
    h = "###" if multi else "##"
    a = cost.get("assumptions", {})
    lines = [f"{'## Run' if multi else '## Setup'} `{run['dir']}`", "",
             f"Reference: `{run['summary'].get('reference')}`; measured on hardware profile "
             f"`{run['summary'].get('hardware')}`; utilization {a.get('utilization')}; throughput basis "
             f"{a.get('throughput')}. Formula: {a.get('formula')}.", ""]
    # status
    bad = [(n, r["status"], (r.get("error") or "").splitlines()[0][:160]) for n, r in evals.items() if r["status"] != "ok"]
    if bad:
        lines += [f"{h} Variants not measured", ""] + _table(["variant", "status", "why"], [list(b) for b in bad])
    ok = {n: r for n, r in sorted(evals.items()) if r["status"] == "ok"}
    # cost table
    lines += [f"{h} Cost table", "", (Path(run["dir"]) / "tables" / "cost_table.md").read_text().strip(), ""]
    # routing
    lines += [f"{h} Routing table (quality floor {run['routing']['quality_floor']})", ""]
    lines += _table(["task class", "cost", "quality", "speed", "fallbacks (cost)"],
                    [[tc, f"{r['cost']['model']} ({fmt(r['cost']['expected_retention'])})",
                      f"{r['quality']['model']} ({fmt(r['quality']['expected_retention'])})",
                      r["speed"]["model"], ", ".join(r["cost"]["fallbacks"]) or "—"]
                     for tc, r in run["routing"]["routes"].items()])
    for tc, why in (run["routing"].get("unrouted") or {}).items():
        lines.append(f"- `{tc}` unrouted: {why}")
    lines.append("")
    # quality
    lines += [f"{h} Quality per task class (score ± stderr, n; retention vs reference)", ""]
    rows = []
    for n, r in ok.items():
        row = [n]
        for c in classes:
            q = (r.get("quality") or {}).get(c) or {}
            row.append(f"{fmt(q.get('score'))} ± {fmt(q.get('stderr'))} (n={q.get('n')}); r={fmt(q.get('retention'))}")
        rows.append(row)
    lines += _table(["variant"] + classes, rows)
    # fidelity
    lines += [f"{h} Fidelity to the reference (held-out tokens)", ""]
    lines += _table(["variant", "KL(teacher‖variant)", "top-1 agreement", "perplexity", "tokens"],
                    [[n, (r.get("fidelity") or {}).get("kl_mean"), (r.get("fidelity") or {}).get("top1_agreement"),
                      (r.get("fidelity") or {}).get("perplexity"), (r.get("fidelity") or {}).get("n_tokens")]
                     for n, r in ok.items()])
    if ok:
        lines += [f"Method: {next(iter(ok.values()))['fidelity'].get('method')}.", ""]
    # latency
    lines += [f"{h} Latency, throughput, memory", ""]
    lrows, cvs = [], []
    for n, r in ok.items():
        L = r["latency"]
        s, b1 = L["summary"], L["batch1"]
        c = L.get("concurrency") or {}
        lrows.append([n, L["backend"], L["threads"], s["ttft_ms_p50"], s["ttft_ms_p95"], s["tpot_ms_p50"],
                      s["tpot_ms_p95"], s["decode_tok_s_p50"], s["prefill_tok_s_p50"],
                      f"{fmt(s.get('aggregate_decode_tok_s_p50'))} @{c.get('n', 1)}",
                      (r.get("memory") or {}).get("peak_rss_mb"), (r.get("memory") or {}).get("file_mb")])
        if b1.get("cv", {}).get("decode_tok_s") is not None:
            cvs.append(b1["cv"]["decode_tok_s"])
    lines += _table(["variant", "backend", "threads", "TTFT p50 ms", "TTFT p95 ms", "TPOT p50 ms", "TPOT p95 ms",
                     "decode tok/s", "prefill tok/s", "aggregate tok/s", "peak RSS MB", "file MB"], lrows)
    if ok:
        L0 = next(iter(ok.values()))["latency"]
        lines += [f"Prompts of {L0['prompt_tokens']} tokens, {L0['new_tokens']} new tokens, {L0['reps']} timed reps "
                  f"after {L0['warmup']} warm-up; concurrency mode per backend in the eval files."]
    if cvs:
        lines += [f"Noise: within this run, the coefficient of variation of batch-1 decode tok/s between reps is "
                  f"{100 * float(np.median(cvs)):.0f}% (median over variants, max {100 * max(cvs):.0f}%). Between "
                  f"runs on a shared CPU it is larger (a re-run during development moved batch-1 TTFT/decode/prefill "
                  f"by up to 8% and the concurrency aggregate by up to 23%, docs/measurement.md): compare latencies "
                  f"within one run and treat differences under ~10% (batch 1) / ~25% (aggregate) as noise. Quality "
                  f"and fidelity are deterministic (greedy, fixed items) and reproduce exactly on a re-run.", ""]
    # break-even
    be_md = Path(run["dir"]) / "tables" / "break_even.md"
    if be_md.exists():
        lines += [f"{h} Break-even vs API models", "", be_md.read_text().strip(), ""]
    for png, alt in (("pareto.png", "Pareto: retention vs $/1M output"), ("latency.png", "latency")):
        if (Path(run["dir"]) / "tables" / png).exists():
            lines += [f"![{alt}]({rel}/tables/{png})", ""]
    return lines


def comparison_section(runs: list[Mapping[str, Any]]) -> list[str]:
    names = sorted({n for r in runs for n in r["evals"]})
    lines = ["## Runs compared", ""]
    header = ["variant"] + [f"{r['dir'].name}: mean retention / KL / decode tok/s" for r in runs]
    rows = []
    for n in names:
        row = [n]
        for r in runs:
            rec = r["evals"].get(n)
            if not rec or rec["status"] != "ok":
                row.append(rec["status"] if rec else "—")
                continue
            rets = [q["retention"] for q in rec["quality"].values() if isinstance(q.get("retention"), (int, float))]
            row.append(f"{fmt(float(np.mean(rets)) if rets else None)} / {fmt(rec['fidelity'].get('kl_mean'))} / "
                       f"{fmt(rec['latency']['summary'].get('decode_tok_s_p50'))}")
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
    style = ("body{font-family:sans-serif;max-width:1400px;margin:2em auto;font-size:14px}"
             "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 6px;font-size:12px}"
             "th{background:#f3f3f3}code{background:#f5f5f5}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{style}</style></head><body>\n" + "\n".join(out) + "\n</body></html>\n")


def write_report(run_dirs: list[Path], out_dir: Path, rcfg: Mapping[str, Any] | None = None) -> dict[str, Any]:
    runs = [load_run(Path(d)) for d in run_dirs]
    multi = len(runs) > 1
    lines = ["# costlab report: variants side by side", "",
             f"Generated {time.strftime('%Y-%m-%d %H:%M:%S %Z')} from {', '.join('`%s`' % r['dir'] for r in runs)}. "
             "Every number comes from the run's eval/<variant>.json and tables/ files (named in the `source` column).",
             ""]
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

