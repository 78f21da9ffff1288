"""The cost commands of the `costlab` CLI: prices, estimate, analyze, roi, batch (build/run/merge), compress.

Mounted into the root command table by src/costlab/cli.py (which also holds the one error guard: a CostlabError
exits with status 2 and one message). Every command has --help, prints rich tables, and --json prints the same
result as JSON for scripts. The logic lives in costlab.cost.*; this module only parses and prints.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from costlab.errors import CostlabError

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
batch_app = typer.Typer(help="OpenAI Batch API runner: build, run (or --local), merge.", no_args_is_help=True)
app.add_typer(batch_app, name="batch")
# markup off: log text and prompts may contain [brackets]; 160 columns when piped so tables stay readable
out = Console(markup=False, highlight=False, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, highlight=False)

PricesOpt = typer.Option(
    "default",
    "--prices",
    help="pricing: a name under configs/pricing/, a YAML path, or 'litellm' (LiteLLM's bundled map, if installed)",
)
JsonOpt = typer.Option(False, "--json", help="print the result as JSON (nothing else on stdout)")


def _emit_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, default=str) + "\n")


def _usd(x: Any, digits: int = 2) -> str:
    if x is None:
        return "—"
    if x == 0:
        return "$0.00"
    if abs(x) < 0.01:
        return f"${x:.6f}"
    return f"${x:,.{digits}f}"


def _split(vals: Optional[list[str]]) -> list[str]:
    return [v.strip() for x in (vals or []) for v in x.split(",") if v.strip()]


def _volumes(s: str) -> list[float]:
    try:
        v = [float(x.replace("_", "")) for x in s.split(",") if x.strip()]
    except ValueError:
        raise CostlabError(
            f"--volumes {s!r}: not a comma-separated list of numbers", "e.g. 10000,100000,1000000"
        ) from None
    return v


# ------------------------------------------------------------------------------------------------- prices
@app.command()
def prices(
    prices: str = PricesOpt,
    as_json: bool = JsonOpt,
    max_age_days: Optional[float] = typer.Option(
        None, "--max-age-days", help="warn about prices older than this (default: max_age_days in the pricing YAML)"
    ),
) -> None:
    """List the prices in use (USD per 1M tokens; self-hosted per GPU-hour), where each came from and its age."""
    from datetime import date

    from costlab.cost.pricing import load_pricing

    p = load_pricing(prices)
    if max_age_days is not None:
        if max_age_days <= 0:
            raise CostlabError(f"--max-age-days {max_age_days} must be > 0")
        p.max_age_days = max_age_days
    stale = p.stale()
    if as_json:
        return _emit_json({**p.to_dict(), "stale": [{"model": m, "as_of": a, "age_days": d} for m, a, d in stale]})
    t = Table(title=f"API list prices, USD / 1M tokens  ({escape(p.origin)})")
    for c in ("model", "provider", "input", "output", "cached in", "batch off", "context", "as of", "age d", "source"):
        t.add_column(c, overflow="fold")

    def age(a: Optional[str]) -> str:
        try:
            return str((date.today() - date.fromisoformat(str(a)[:10])).days)
        except (TypeError, ValueError):
            return "?"

    for a in p.api.values():
        t.add_row(
            a.name,
            a.provider or "",
            f"{a.input:g}",
            f"{a.output:g}",
            "—" if a.cached_input is None else f"{a.cached_input:g}",
            "—" if a.batch_discount is None else f"{a.batch_discount:.0%}",
            f"{a.context or '—'}",
            a.as_of or "—",
            age(a.as_of),
            escape(a.source or ""),
        )
    out.print(t)
    if p.self_hosted:
        s = Table(title="Self-hosted (rented GPUs)")
        for c in (
            "model",
            "replica",
            "$/GPU-h (range)",
            "decode tok/s",
            "prefill tok/s",
            "util",
            "≈$/1M in/out",
            "as of",
        ):
            s.add_column(c, overflow="fold")
        for h in p.self_hosted.values():
            i, o = h.usd_per_1m()
            s.add_row(
                h.name,
                f"{h.gpus}x{h.gpu}",
                f"{h.usd_per_gpu_hour:g} ({h.usd_per_gpu_hour_range[0]:g}–{h.usd_per_gpu_hour_range[1]:g})",
                f"{h.tokens_per_s:g}",
                f"{h.prefill_tokens_per_s:g}",
                f"{h.utilization:g}",
                f"{i:.3f} / {o:.3f}",
                h.as_of or "—",
            )
        out.print(s)
    if "litellm" in p.origin:
        out.print(
            "LiteLLM prices: as of = the date the installed map was installed (the map has no date of its "
            "own); `pip install -U litellm` refreshes them."
        )
    for m, a, d in stale:
        err.print(
            f"[yellow]warning:[/] price of {m} is {'undated' if d < 0 else f'{d} days old'} (as of {a}; "
            f"limit {p.max_age_days:g} days): re-check it or update its source"
        )


# ------------------------------------------------------------------------------------------------ estimate
@app.command()
def estimate(
    models: Optional[list[str]] = typer.Option(
        None, "--model", "-m", help="models to compare (repeat or comma-separate); default: every priced model"
    ),
    requests_per_day: float = typer.Option(10_000, "--requests-per-day", "-r", help="requests per day"),
    input_tokens: float = typer.Option(500, "--input-tokens", "-i", help="average prompt tokens per request"),
    output_tokens: float = typer.Option(300, "--output-tokens", "-o", help="average completion tokens per request"),
    cache_hit_rate: float = typer.Option(0.0, help="fraction of prompt tokens served from the provider's cache"),
    batch_share: float = typer.Option(0.0, help="fraction of requests sent through the Batch API"),
    days: float = typer.Option(30, help="days per month"),
    volumes: str = typer.Option("10000,100000,1000000", help="requests/day for the API-vs-local table"),
    table: bool = typer.Option(True, "--table/--no-table", help="also print the API-vs-local table at --volumes"),
    run: Optional[Path] = typer.Option(
        None, "--run", help="a costlab run dir: add its measured self-hosted variants (tables/cost_table.json)"
    ),
    prices: str = PricesOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Monthly cost of a traffic profile across models, side by side, and the API-vs-local table."""
    from costlab.cost.estimate import TrafficProfile, api_vs_local, load_run_cost_rows
    from costlab.cost.estimate import estimate as est
    from costlab.cost.pricing import load_pricing

    p = load_pricing(prices)
    t = TrafficProfile(requests_per_day, input_tokens, output_tokens, cache_hit_rate, batch_share, days)
    ms = _split(models) or None
    skipped: list[str] = []
    run_rows = load_run_cost_rows(run, skipped) if run else []
    rows = est(p, t, ms, run_rows)
    vs = api_vs_local(p, t, _volumes(volumes), ms, run_rows) if table else None
    if as_json:
        return _emit_json(
            {"pricing": p.origin, "profile": t.__dict__, "rows": rows, "api_vs_local": vs, "run_not_measured": skipped}
        )
    tt = Table(
        title=f"Monthly cost: {requests_per_day:,.0f} req/day x ({input_tokens:g} in + {output_tokens:g} out)"
        f" tokens, cache {cache_hit_rate:.0%}, batch {batch_share:.0%}, {days:g} days  ({escape(p.origin)})"
    )
    for c in ("model", "basis", "$/request", "$/day", "$/month", "range", "notes"):
        tt.add_column(c, overflow="fold")
    for r in rows:
        rng = (
            ""
            if r["usd_per_month_low"] == r["usd_per_month_high"]
            else f"{_usd(r['usd_per_month_low'], 0)}–{_usd(r['usd_per_month_high'], 0)}"
        )
        tt.add_row(
            r["model"],
            r["basis"],
            _usd(r["usd_per_request"], 5),
            _usd(r["usd_per_day"]),
            _usd(r["usd_per_month"]),
            rng,
            "; ".join(r["notes"]),
        )
    out.print(tt)
    if vs:
        vt = Table(title="API vs self-hosted: $/month by requests/day (same per-request tokens)")
        vt.add_column("model")
        vt.add_column("basis", overflow="fold")
        for v in vs["volumes"]:
            vt.add_column(f"{float(v):,.0f}/day", justify="right")
        for r in sorted(vs["rows"], key=lambda r: (r["kind"] != "api", r["model"])):
            vt.add_row(
                r["model"],
                r["basis"],
                *(_usd(x, 0 if x >= 1000 else 2) for x in (r["usd_per_month"][v] for v in vs["volumes"])),
            )
        out.print(vt)
    if skipped:
        out.print(f"not measured in {run} (left out, not extrapolated): {'; '.join(skipped)}")


# ------------------------------------------------------------------------------------------------- analyze
def _bucket_table(title: str, d: dict[str, dict[str, Any]], key: str, limit: int | None = None) -> Table:
    t = Table(title=title)
    for c in (key, "requests", "in tok", "out tok", "cost", "$/req", "cache hit", "lat ms"):
        t.add_column(c, justify="left" if c == key else "right")
    items = list(d.items())
    for k, b in items[:limit] if limit else items:
        t.add_row(
            k,
            f"{b['requests']:,}",
            f"{b['input_tokens']:,}",
            f"{b['output_tokens']:,}",
            _usd(b["cost_usd"]),
            _usd(b["usd_per_request"], 5),
            "—" if b["cache_hit_rate"] is None else f"{b['cache_hit_rate']:.1%}",
            "—" if b["latency_ms_mean"] is None else f"{b['latency_ms_mean']:.0f}",
        )
    if limit and len(items) > limit:
        t.caption = f"{len(items) - limit} more rows in --json output"
    return t


@app.command()
def analyze(
    logs: list[Path] = typer.Argument(
        ..., help="request logs: .jsonl/.csv (optionally .gz) or the gateway's ledger .db/.sqlite"
    ),
    whatif: Optional[list[str]] = typer.Option(
        None, "--whatif", "-w", help="re-price all traffic on this model (repeat for several)"
    ),
    routing: Optional[Path] = typer.Option(
        None, help="a routing_table.json: re-price each row on its task class's routed model"
    ),
    priority: str = typer.Option("cost", help="routing priority for the what-if: cost | quality | speed"),
    default_task_class: Optional[str] = typer.Option(None, help="task class for rows that have none"),
    top: int = typer.Option(10, help="how many top-cost requests / repeated prompts to show"),
    hours: bool = typer.Option(False, "--hours", help="print the by-hour table too (always in --json)"),
    table: str = typer.Option("ledger", help="table name inside a SQLite ledger"),
    bad_rows_out: Optional[Path] = typer.Option(None, help="write every bad row (line, reason) to this JSONL"),
    progress: bool = typer.Option(False, "--progress", help="show a progress bar on stderr"),
    prices: str = PricesOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Cost by model / tenant / day / hour, top requests, cache savings, what-if re-pricing — streaming."""
    from costlab.cost.analyze import analyze_logs
    from costlab.cost.pricing import load_pricing, pricing_with_routing

    if top < 0:
        raise CostlabError(f"--top {top} is negative")
    p = load_pricing(prices)
    if routing:
        p = pricing_with_routing(p, routing)
    rep = analyze_logs(
        logs,
        p,
        whatif_models=_split(whatif),
        routing=routing,
        routing_priority=priority,
        default_task_class=default_task_class,
        top_k=top,
        table=table,
        bad_rows_out=bad_rows_out,
        progress=progress,
    )
    if as_json:
        return _emit_json(rep)
    tot = rep["total"]
    out.print(
        f"{rep['rows']:,} rows ({rep['rows_ok']:,} ok, {rep['rows_bad']:,} bad) in "
        f"{escape(', '.join(rep['files']))}; prices: {escape(rep['pricing'])}"
    )
    out.print(
        f"total {_usd(tot['cost_usd'])} · {_usd(tot['usd_per_request'], 5)}/request · "
        f"{tot['input_tokens']:,} in / {tot['output_tokens']:,} out tokens · cost from "
        f"{', '.join(f'{k}: {v:,}' for k, v in rep['cost_sources'].items())}"
    )
    out.print(_bucket_table("By model", rep["by_model"], "model"))
    out.print(_bucket_table("By tenant", rep["by_tenant"], "tenant", 20))
    out.print(_bucket_table("By day", rep["by_day"], "day", 31))
    if hours:
        out.print(_bucket_table("By hour (UTC)", rep["by_hour"], "hour"))
    c = rep["cache"]
    out.print(
        f"cache: {c['hits']:,} response-cache hits ({(c['hit_rate'] or 0):.1%}); "
        f"{c['cached_prompt_tokens']:,} prompt tokens read from provider cache; saved {_usd(c['savings_usd'])}"
    )
    if rep["top_requests"]:
        t = Table(title="Most expensive requests")
        for col in ("where", "model", "tenant", "cost", "in", "out", "prompt"):
            t.add_column(col, overflow="fold")
        for r in rep["top_requests"]:
            t.add_row(
                r["line"],
                r["model"],
                r["tenant"],
                _usd(r["cost_usd"], 4),
                str(r["input_tokens"]),
                str(r["output_tokens"]),
                r["prompt"][:80],
            )
        out.print(t)
    if rep["repeated_prompts"]:
        t = Table(title="Repeated prompts (response-cache candidates)", caption=rep["repeated_prompts_note"])
        for col in ("count", "total cost", "prompt"):
            t.add_column(col, overflow="fold")
        for r in rep["repeated_prompts"]:
            t.add_row(f"{r['count']:,}", _usd(r["cost_usd"]), r["prompt"][:100])
        out.print(t)
    if rep["whatif"]:
        t = Table(title="What-if (same tokens, response-cache hits excluded)")
        for col in ("scenario", "cost", "actual", "delta", "delta %"):
            t.add_column(col)
        for w in rep["whatif"]:
            t.add_row(
                w["scenario"],
                _usd(w["cost_usd"]),
                _usd(w["actual_cost_usd"]),
                _usd(w["delta_usd"]),
                "—" if w["delta_pct"] is None else f"{w['delta_pct']:+.1f}%",
            )
        out.print(t)
    if rep["unpriced_models"]:
        out.print(f"not in the price table (logged cost used, not re-priceable): {rep['unpriced_models']}")
    if rep["rows_bad"]:
        t = Table(title=f"Bad rows: {rep['rows_bad']:,} (not counted above)")
        t.add_column("reason")
        t.add_column("count", justify="right")
        t.add_column("examples (file:line)", overflow="fold")
        for reason, v in rep["bad_rows"].items():
            t.add_row(reason, f"{v['count']:,}", ", ".join(v["examples"][:5]))
        out.print(t)


# ----------------------------------------------------------------------------------------------------- roi
@app.command()
def roi(
    current: Optional[float] = typer.Option(None, help="current monthly cost, USD"),
    optimized: Optional[float] = typer.Option(None, help="monthly cost after the optimization, USD"),
    implementation: float = typer.Option(0.0, help="one-off implementation cost, USD"),
    maintenance: float = typer.Option(0.0, help="recurring monthly overhead the change adds, USD"),
    from_model: Optional[str] = typer.Option(
        None, "--from-model", help="derive --current from this model's estimate at the traffic below"
    ),
    to_model: Optional[str] = typer.Option(None, "--to-model", help="derive --optimized from this model"),
    requests_per_day: float = typer.Option(10_000, "--requests-per-day", "-r"),
    input_tokens: float = typer.Option(500, "--input-tokens", "-i"),
    output_tokens: float = typer.Option(300, "--output-tokens", "-o"),
    prices: str = PricesOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Payback month, 12-month and 3-year ROI of an optimization (the seed's ROICalculator, edge cases fixed)."""
    from costlab.cost.roi import RoiInputs, optimization_roi

    derived = {}
    if from_model or to_model:
        from costlab.cost.estimate import TrafficProfile
        from costlab.cost.estimate import estimate as est
        from costlab.cost.pricing import load_pricing

        p = load_pricing(prices)
        t = TrafficProfile(requests_per_day, input_tokens, output_tokens)
        if from_model:
            current = est(p, t, [from_model])[0]["usd_per_month"]
            derived["current"] = from_model
        if to_model:
            optimized = est(p, t, [to_model])[0]["usd_per_month"]
            derived["optimized"] = to_model
    if current is None or optimized is None:
        raise CostlabError(
            "need both the current and the optimized monthly cost",
            "pass --current and --optimized (USD/month), or --from-model/--to-model",
        )
    r = optimization_roi(RoiInputs(current, optimized, implementation, maintenance))
    r["derived_from_models"] = derived
    if as_json:
        return _emit_json(r)
    t = Table(title="Optimization ROI")
    t.add_column("metric")
    t.add_column("value", justify="right")
    i = r["inputs"]
    for k, v in [
        ("current $/month", _usd(i["current_monthly_cost"])),
        ("optimized $/month", _usd(i["optimized_monthly_cost"])),
        ("implementation (one-off)", _usd(i["implementation_cost"])),
        ("maintenance $/month", _usd(i["monthly_maintenance"])),
        ("monthly savings", _usd(r["monthly_savings"])),
        ("savings %", "—" if r["savings_pct"] is None else f"{r['savings_pct']:.1f}%"),
        ("net monthly savings", _usd(r["net_monthly_savings"])),
        ("payback month", "never" if r["payback_month"] is None else str(r["payback_month"])),
        ("12-month ROI", "—" if r["roi_12m_pct"] is None else f"{r['roi_12m_pct']:,.1f}%"),
        ("3-year ROI", "—" if r["roi_36m_pct"] is None else f"{r['roi_36m_pct']:,.1f}%"),
        ("12-month net gain", _usd(r["net_gain_12m"])),
        ("3-year net gain", _usd(r["net_gain_36m"])),
    ]:
        t.add_row(k, v)
    out.print(t)
    for n in r["notes"]:
        out.print(f"note: {n}")


# --------------------------------------------------------------------------------------------------- batch
@batch_app.command("build")
def batch_build(
    prompts: Path = typer.Argument(
        ..., help="prompts: JSONL rows with prompt or messages (+ optional id), or a .txt file with one prompt per line"
    ),
    model: str = typer.Option(..., "--model", "-m", help="model name put in every request body"),
    out_path: Path = typer.Option(..., "--out", "-o", help="where to write the Batch input JSONL"),
    endpoint: str = typer.Option("/v1/chat/completions", help="Batch endpoint (url of every line)"),
    system: Optional[str] = typer.Option(None, help="system message added to chat requests without one"),
    max_tokens: Optional[int] = typer.Option(None, help="max_tokens for every request"),
    temperature: Optional[float] = typer.Option(None, help="temperature for every request"),
    as_json: bool = JsonOpt,
) -> None:
    """Build an OpenAI Batch input JSONL (custom_id, method, url, body) from prompts."""
    from costlab.cost.batch import build_requests, write_requests
    from costlab.io import read_jsonl

    if not prompts.exists():
        raise CostlabError(f"prompts file not found: {prompts}")
    if prompts.suffix == ".txt":
        items: list[Any] = [ln.rstrip("\n") for ln in prompts.read_text(encoding="utf-8").splitlines() if ln.strip()]
        if not items:
            raise CostlabError(f"{prompts}: no prompts")
    else:
        items = read_jsonl(prompts)
    reqs = build_requests(items, model, endpoint, system, max_tokens, temperature)
    write_requests(reqs, out_path)
    res = {"requests": len(reqs), "out": str(out_path), "endpoint": endpoint, "model": model}
    _emit_json(res) if as_json else out.print(f"wrote {len(reqs)} requests → {out_path}")


@batch_app.command("run")
def batch_run(
    requests: Path = typer.Argument(..., help="Batch input JSONL (from `costlab batch build`)"),
    out_dir: Path = typer.Option(
        ...,
        "--out",
        "-o",
        help="output dir: state.json, output.jsonl, results.jsonl, "
        "failed.jsonl, summary.json. Rerun the same command to resume.",
    ),
    local: Optional[str] = typer.Option(
        None,
        "--local",
        help="run against this OpenAI-compatible base URL instead of the Batch API (e.g. http://127.0.0.1:8080/v1)",
    ),
    concurrency: int = typer.Option(4, help="--local: requests in flight at once"),
    model_override: Optional[str] = typer.Option(None, "--model", help="--local: replace every body's model"),
    base_url: Optional[str] = typer.Option(None, help="Batch API base URL (default: the OpenAI SDK's)"),
    api_key: Optional[str] = typer.Option(None, help="API key (default: $OPENAI_API_KEY)"),
    poll_initial: float = typer.Option(5.0, help="first poll interval, seconds (grows x1.5 per poll)"),
    poll_max: float = typer.Option(300.0, help="longest poll interval, seconds"),
    max_wait: Optional[float] = typer.Option(None, help="give up polling after this many seconds (resumable)"),
    timeout: float = typer.Option(600.0, help="--local: per-request timeout, seconds"),
    progress: bool = typer.Option(True, "--progress/--no-progress"),
    as_json: bool = JsonOpt,
) -> None:
    """Submit → poll → download → merge by custom_id (Batch API), or execute locally with --local."""
    from costlab.cost import batch as b

    if local:
        s = b.run_local(
            requests,
            local,
            out_dir,
            concurrency=concurrency,
            api_key=api_key,
            timeout_s=timeout,
            model_override=model_override,
            progress=progress,
        )
    else:
        client = b.openai_client(base_url, api_key)
        s = b.BatchRunner(
            client,
            requests,
            out_dir,
            poll_initial_s=poll_initial,
            poll_max_s=poll_max,
            max_wait_s=max_wait,
            progress=progress,
        ).run()
    _print_batch_summary(s, as_json)


@batch_app.command("merge")
def batch_merge(
    requests: Path = typer.Argument(..., help="the Batch input JSONL"),
    output: Path = typer.Option(..., help="the Batch output JSONL (downloaded)"),
    errors: Optional[Path] = typer.Option(None, help="the Batch error JSONL, if any"),
    out_dir: Path = typer.Option(..., "--out", "-o", help="where results.jsonl / failed.jsonl / summary.json go"),
    as_json: bool = JsonOpt,
) -> None:
    """Join downloaded Batch output/error files back onto the input by custom_id; list failed/missing rows."""
    from costlab.cost.batch import merge_results

    if not output.exists():
        raise CostlabError(f"output file not found: {output}")
    _print_batch_summary(merge_results(requests, output, errors, out_dir), as_json)


def _print_batch_summary(s: dict[str, Any], as_json: bool) -> None:
    if as_json:
        return _emit_json(s)
    out.print(f"{s['requests']} requests: {s['ok']} ok, {s['error']} error, {s['missing']} missing → {s['results']}")
    if s["error"] or s["missing"]:
        out.print(f"resubmit the failed/missing rows with: costlab batch run {s['failed']} --out <new dir>")
        out.print(f"failed ids: {', '.join(s['failed_ids'][:20])}" + (" ..." if len(s["failed_ids"]) > 20 else ""))
    if s.get("unexpected_count"):
        out.print(
            f"{s['unexpected_count']} result line(s) with custom_ids not in the input: "
            f"{', '.join(s['unexpected_custom_ids'][:10])}"
        )


# ------------------------------------------------------------------------------------------------ compress
@app.command()
def compress(
    inputs: list[Path] = typer.Argument(
        ...,
        help="JSONL of {id, messages} or {id, system} items, a .json chat "
        "(list of messages), or a .txt/.md system prompt",
    ),
    model: str = typer.Option("gpt-4o", "--model", "-m", help="target model: picks the tokenizer (and prices)"),
    tokenizer: Optional[Path] = typer.Option(None, help="count with this local HF tokenizer dir or .gguf instead"),
    keep_last: int = typer.Option(6, help="history window: non-system messages kept (0 = no window)"),
    dedupe: bool = typer.Option(True, "--dedupe/--no-dedupe", help="remove repeated instructions"),
    fillers: bool = typer.Option(True, "--fillers/--no-fillers", help="drop filler phrases"),
    llmlingua2: Optional[Path] = typer.Option(
        None,
        help="also compress older turns with LLMLingua-2 from this LOCAL model dir (needs `pip install llmlingua`)",
    ),
    out_path: Optional[Path] = typer.Option(None, "--out", "-o", help="write compressed items as JSONL"),
    prices: str = PricesOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Compress prompts/conversations; report tokens before/after with the target model's tokenizer."""
    from costlab.cost.compress import CompressionConfig, LLMLingua2, compress_report, token_counter
    from costlab.io import atomic_write_text, read_json, read_jsonl

    if keep_last < 0:
        raise CostlabError(f"--keep-last {keep_last} is negative", "0 disables the history window")
    items: list[dict[str, Any]] = []
    for p in inputs:
        if not p.exists():
            raise CostlabError(f"input not found: {p}")
        if p.suffix in (".jsonl", ".ndjson"):
            items += read_jsonl(p)
        elif p.suffix == ".json":
            d = read_json(p)
            items += d if isinstance(d, list) and d and "role" not in d[0] else [{"id": p.stem, "messages": d}]
        else:
            txt = p.read_text(encoding="utf-8")
            if not txt.strip():
                raise CostlabError(f"{p}: empty prompt file")
            items.append({"id": p.stem, "system": txt})
    if not items:
        raise CostlabError("no prompts to compress")
    cfg = CompressionConfig(whitespace=True, fillers=fillers, dedupe=dedupe, keep_last=keep_last or None)
    counter = token_counter(model, tokenizer)
    rep = compress_report(items, counter, cfg, LLMLingua2(llmlingua2) if llmlingua2 else None)
    rep["model"] = model
    try:
        from costlab.cost.pricing import load_pricing

        price = load_pricing(prices).api_price(model)
        rep["usd_per_1m_in"] = price.input
        rep["saved_usd_per_1m_requests"] = rep["saved_tokens"] / max(len(items), 1) * 1e6 * price.input / 1e6
    except CostlabError:
        rep["usd_per_1m_in"] = None
    if out_path:
        atomic_write_text(
            out_path,
            "".join(
                json.dumps({"id": r["id"], "messages": r["compressed"]}, ensure_ascii=False) + "\n"
                for r in rep["items"]
            ),
        )
    if as_json:
        return _emit_json(rep)
    t = Table(title=f"Prompt compression — tokens counted with {rep['tokenizer']}")
    for c in ("id", "kind", "msgs", "tokens before", "after", "saved", "dedup", "elided"):
        t.add_column(c, justify="left" if c in ("id", "kind") else "right")
    for r in rep["items"]:
        t.add_row(
            str(r["id"]),
            r["kind"],
            f"{r['messages_before']}→{r['messages_after']}",
            f"{r['tokens_before']:,}",
            f"{r['tokens_after']:,}",
            f"{r['saved_pct']:.1f}%",
            str(r["dedupe_sentences"]),
            str(r["elided_messages"]),
        )
    t.add_row(
        "TOTAL",
        "",
        "",
        f"{rep['tokens_before']:,}",
        f"{rep['tokens_after']:,}",
        f"{rep['saved_pct']:.1f}%",
        "",
        "",
        style="bold",
    )
    out.print(t)
    if rep.get("usd_per_1m_in") is not None:
        out.print(
            f"at {model}'s ${rep['usd_per_1m_in']:g}/1M input: saves "
            f"{_usd(rep['saved_usd_per_1m_requests'])} per 1M requests like these"
        )
