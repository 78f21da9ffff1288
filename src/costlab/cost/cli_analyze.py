"""`costlab analyze`: cost of request logs by model / tenant / day / hour, top requests, what-if re-pricing.

The logic lives in costlab.cost.analyze; this module parses and prints (mounted by costlab.cost.cli).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from costlab.cost.cli_common import JsonOpt, PricesOpt, emit_json, out, split_list, usd
from costlab.errors import CostlabError

if TYPE_CHECKING:  # rich loads only when a table is printed (not for --json)
    from rich.table import Table


def _bucket_table(title: str, d: dict[str, dict[str, Any]], key: str, limit: int | None = None) -> Table:
    from rich.table import Table

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
            usd(b["cost_usd"]),
            usd(b["usd_per_request"], 5),
            "—" if b["cache_hit_rate"] is None else f"{b['cache_hit_rate']:.1%}",
            "—" if b["latency_ms_mean"] is None else f"{b['latency_ms_mean']:.0f}",
        )
    if limit and len(items) > limit:
        t.caption = f"{len(items) - limit} more rows in --json output"
    return t


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
        whatif_models=split_list(whatif),
        routing=routing,
        routing_priority=priority,
        default_task_class=default_task_class,
        top_k=top,
        table=table,
        bad_rows_out=bad_rows_out,
        progress=progress,
    )
    if as_json:
        return emit_json(rep)
    from rich.markup import escape
    from rich.table import Table

    tot = rep["total"]
    out.print(
        f"{rep['rows']:,} rows ({rep['rows_ok']:,} ok, {rep['rows_bad']:,} bad) in "
        f"{escape(', '.join(rep['files']))}; prices: {escape(rep['pricing'])}"
    )
    out.print(
        f"total {usd(tot['cost_usd'])} · {usd(tot['usd_per_request'], 5)}/request · "
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
        f"{c['cached_prompt_tokens']:,} prompt tokens read from provider cache; saved {usd(c['savings_usd'])}"
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
                usd(r["cost_usd"], 4),
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
            t.add_row(f"{r['count']:,}", usd(r["cost_usd"]), r["prompt"][:100])
        out.print(t)
    if rep["whatif"]:
        t = Table(title="What-if (same tokens, response-cache hits excluded)")
        for col in ("scenario", "cost", "actual", "delta", "delta %"):
            t.add_column(col)
        for w in rep["whatif"]:
            t.add_row(
                w["scenario"],
                usd(w["cost_usd"]),
                usd(w["actual_cost_usd"]),
                usd(w["delta_usd"]),
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
