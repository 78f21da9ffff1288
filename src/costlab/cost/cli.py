"""The cost commands of the `costlab` CLI: prices, estimate, analyze, roi, batch (build/run/merge), compress.

Mounted into the root command table by src/costlab/cli.py (which also holds the one error guard: a CostlabError
exits with status 2 and one message). Every command has --help, prints rich tables, and --json prints the same
result as JSON for scripts. The logic lives in costlab.cost.*; this module only parses and prints. Command
groups with their own module: analyze (cli_analyze), batch (cli_batch); shared options and formatting: cli_common.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer

from costlab.cost.cli_analyze import analyze
from costlab.cost.cli_batch import batch_app
from costlab.cost.cli_common import JsonOpt, PricesOpt, emit_json, err, out, split_list, usd, volumes_list
from costlab.errors import CostlabError

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


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
        return emit_json({**p.to_dict(), "stale": [{"model": m, "as_of": a, "age_days": d} for m, a, d in stale]})
    from rich.markup import escape
    from rich.table import Table

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
    ms = split_list(models) or None
    skipped: list[str] = []
    run_rows = load_run_cost_rows(run, skipped) if run else []
    rows = est(p, t, ms, run_rows)
    vs = api_vs_local(p, t, volumes_list(volumes), ms, run_rows) if table else None
    if as_json:
        return emit_json(
            {"pricing": p.origin, "profile": t.__dict__, "rows": rows, "api_vs_local": vs, "run_not_measured": skipped}
        )
    from rich.markup import escape
    from rich.table import Table

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
            else f"{usd(r['usd_per_month_low'], 0)}–{usd(r['usd_per_month_high'], 0)}"
        )
        tt.add_row(
            r["model"],
            r["basis"],
            usd(r["usd_per_request"], 5),
            usd(r["usd_per_day"]),
            usd(r["usd_per_month"]),
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
                *(usd(x, 0 if x >= 1000 else 2) for x in (r["usd_per_month"][v] for v in vs["volumes"])),
            )
        out.print(vt)
    if skipped:
        out.print(f"not measured in {run} (left out, not extrapolated): {'; '.join(skipped)}")


# ------------------------------------------------------------------------------------------- analyze, batch
app.command()(analyze)


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
        return emit_json(r)
    from rich.table import Table

    t = Table(title="Optimization ROI")
    t.add_column("metric")
    t.add_column("value", justify="right")
    i = r["inputs"]
    for k, v in [
        ("current $/month", usd(i["current_monthly_cost"])),
        ("optimized $/month", usd(i["optimized_monthly_cost"])),
        ("implementation (one-off)", usd(i["implementation_cost"])),
        ("maintenance $/month", usd(i["monthly_maintenance"])),
        ("monthly savings", usd(r["monthly_savings"])),
        ("savings %", "—" if r["savings_pct"] is None else f"{r['savings_pct']:.1f}%"),
        ("net monthly savings", usd(r["net_monthly_savings"])),
        ("payback month", "never" if r["payback_month"] is None else str(r["payback_month"])),
        ("12-month ROI", "—" if r["roi_12m_pct"] is None else f"{r['roi_12m_pct']:,.1f}%"),
        ("3-year ROI", "—" if r["roi_36m_pct"] is None else f"{r['roi_36m_pct']:,.1f}%"),
        ("12-month net gain", usd(r["net_gain_12m"])),
        ("3-year net gain", usd(r["net_gain_36m"])),
    ]:
        t.add_row(k, v)
    out.print(t)
    for n in r["notes"]:
        out.print(f"note: {n}")


app.add_typer(batch_app, name="batch")


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
        return emit_json(rep)
    from rich.table import Table

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
            f"{usd(rep['saved_usd_per_1m_requests'])} per 1M requests like these"
        )
