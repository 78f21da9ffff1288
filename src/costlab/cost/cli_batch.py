"""`costlab batch build | run | merge`: the OpenAI Batch API runner (or --local against a compatible server).

The logic lives in costlab.cost.batch; this module parses and prints (mounted by costlab.cost.cli).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from costlab.cost.cli_common import JsonOpt, emit_json, out
from costlab.errors import CostlabError

batch_app = typer.Typer(help="OpenAI Batch API runner: build, run (or --local), merge.", no_args_is_help=True)


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
    emit_json(res) if as_json else out.print(f"wrote {len(reqs)} requests → {out_path}")


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
        return emit_json(s)
    out.print(f"{s['requests']} requests: {s['ok']} ok, {s['error']} error, {s['missing']} missing → {s['results']}")
    if s["error"] or s["missing"]:
        out.print(f"resubmit the failed/missing rows with: costlab batch run {s['failed']} --out <new dir>")
        out.print(f"failed ids: {', '.join(s['failed_ids'][:20])}" + (" ..." if len(s["failed_ids"]) > 20 else ""))
    if s.get("unexpected_count"):
        out.print(
            f"{s['unexpected_count']} result line(s) with custom_ids not in the input: "
            f"{', '.join(s['unexpected_custom_ids'][:10])}"
        )
