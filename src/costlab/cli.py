"""`costlab`: the one front door. Its command table:

    costlab run +exp=NAME [stages=[...]] [key=value ...]   the pipeline (Hydra overrides; = scripts/distill.py)
    costlab report RUN [RUN ...] [-o DIR]                  report.md + report.html comparing variants and runs
    costlab serve ...                                      the cost gateway (costlab.serving.cli)
    costlab prices | estimate | analyze | roi | batch | compress   cost tooling (costlab.cost.cli)

One error guard for all of them (costlab.errors.exit_on_error, applied by the root command group): a CostlabError
prints ``error: ...`` + ``  fix: ...`` on stderr and exits with status 2, without a traceback.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any, Optional

import typer
from typer.core import TyperGroup

from costlab.errors import CostlabError, exit_on_error
from costlab.paths import set_offline_env

set_offline_env()  # the one place the offline environment enters (before any HF library is imported)


# The sub-apps mounted into the root table, loaded when one of their commands is looked up (`costlab analyze` imports
# costlab.cost.cli only; `costlab --help` loads all): module, its typer app, the mount name (None: its commands join
# the root table), and the commands it adds, in table order. tests/test_cli.py checks these names, their order and
# every command's help against an eager mount of the same apps.
SUBAPPS: tuple[tuple[str, str, Optional[str], tuple[str, ...]], ...] = (
    ("costlab.cost.cli", "app", None, ("prices", "estimate", "analyze", "roi", "compress", "batch")),
    ("costlab.serving.cli", "app", "serve", ("serve",)),
)


class GuardedGroup(TyperGroup):
    """The root command group: every subcommand (mounted groups included) runs inside the one error guard. The
    sub-apps in SUBAPPS are mounted on first look-up, exactly as ``app.add_typer`` would have mounted them."""

    def invoke(self, ctx: Any) -> Any:
        with exit_on_error():
            return super().invoke(ctx)

    def _mount(self, module: str, attr: str, name: Optional[str]) -> None:
        from typer.main import get_group_from_info

        app.add_typer(getattr(importlib.import_module(module), attr), name=name)
        info = app.registered_groups.pop()  # add_typer's TyperInfo, not kept: the next build stays lazy
        sub = get_group_from_info(
            info,
            pretty_exceptions_short=app.pretty_exceptions_short,
            rich_markup_mode=app.rich_markup_mode,
            suggest_commands=app.suggest_commands,
        )
        for cmd_name, cmd in {name: sub}.items() if name else sub.commands.items():
            self.commands.setdefault(cmd_name, cmd)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands:
            for module, attr, name, names in SUBAPPS:
                if cmd_name in names:
                    self._mount(module, attr, name)
        return super().get_command(ctx, cmd_name)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in self.commands and all(args[0] not in names for *_, names in SUBAPPS):
            self.list_commands(ctx)  # not a command name: mount all, so "Did you mean ...?" sees every command
        return super().resolve_command(ctx, args)

    def list_commands(self, ctx: Any) -> list[str]:
        lazy = [n for *_, names in SUBAPPS for n in names]
        for module, attr, name, names in SUBAPPS:
            if any(n not in self.commands for n in names):
                self._mount(module, attr, name)
        return [n for n in self.commands if n not in lazy] + [n for n in lazy if n in self.commands]


# the root table's settings (tests/test_cli.py builds an eagerly mounted twin of `app` from these)
APP_SETTINGS: dict[str, Any] = dict(
    cls=GuardedGroup,
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app = typer.Typer(
    **APP_SETTINGS,
    help="costlab: distill, quantize and measure LLM variants; serve them through the cost gateway; "
    "estimate and analyze the bill.",
)

_HYDRA_ARGS = {"allow_extra_args": True, "ignore_unknown_options": True}


@app.command("run", context_settings=_HYDRA_ARGS, add_help_option=False)
def run(ctx: typer.Context) -> None:
    """Run an experiment's stages into runs/<exp>/<run_id>/: costlab run +exp=demo [stages=[evaluate]] [k=v ...].

    The arguments are Hydra overrides, exactly as for `scripts/distill.py` (`costlab run --help` prints Hydra's
    help and the config groups). Finished stages with the same config are skipped; an unfinished one resumes.
    """
    from costlab.pipeline import run_experiment

    run_experiment(list(ctx.args), prog="costlab run")


@app.command("report")
def report(
    runs: list[Path] = typer.Argument(..., help="run dirs (runs/<exp>/<run_id>); several are compared side by side"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="output dir (default: <first run>/report)"),
    cheap: Optional[str] = typer.Option(None, help="cheap variant of the routing curve (default: cheapest measured)"),
    strong: Optional[str] = typer.Option(None, help="strong variant (default: the eval reference)"),
    classifier: Optional[str] = typer.Option(None, help="router's task classifier: keyword | oracle | module:attr"),
    wandb: bool = typer.Option(False, "--wandb", help="also log one wandb run per variant"),
    wandb_mode: str = typer.Option("offline", help="offline (no login; `wandb sync` later) | online | disabled"),
) -> None:
    """Compare variants (and runs): report.md + report.html, plots, routing-quality curve.

    Reads only the runs' eval/ and tables/ (run the evaluate and build_tables stages first). The routing-quality
    curve uses the first run's eval.report.routing_curve unless --cheap/--strong/--classifier are given.
    """
    from omegaconf import OmegaConf

    from costlab.provenance import make_provenance, write_provenance
    from costlab.report.report import load_run, write_report
    from costlab.report.stage import top_level_copy

    if wandb_mode not in ("offline", "online", "disabled"):
        raise CostlabError(f"--wandb-mode {wandb_mode!r} is not a wandb mode", "offline | online | disabled")
    for r in runs:
        if not r.is_dir():
            raise CostlabError(f"{r}: not a directory", "pass run dirs such as runs/demo/main")
    first = runs[0]
    rcfg: dict[str, Any] = {}
    if (first / "config.yaml").exists():
        sel = OmegaConf.select(OmegaConf.load(first / "config.yaml"), "eval.report.routing_curve", default=None)
        rcfg = dict(OmegaConf.to_container(sel) or {}) if sel is not None else {}
    rcfg.update({k: v for k, v in (("cheap", cheap), ("strong", strong), ("classifier", classifier)) if v})
    out_dir = out or first / "report"
    metrics = write_report(list(runs), out_dir, rcfg)
    write_provenance(
        out_dir,
        make_provenance(
            {"runs": [str(r) for r in runs], "routing_curve": rcfg},
            seed=None,
            inputs={f"run{i}_tables": r / "tables" for i, r in enumerate(runs)},
            extra={"stage": "report (costlab report)", "metrics": metrics},
        ),
    )
    if out is None and len(runs) == 1:
        top_level_copy(first, out_dir)
    if wandb:
        from costlab.report.wandb_log import log_variants

        for r in runs:
            lr = load_run(r)
            metrics.update(
                log_variants(r, lr["evals"], lr["cost"]["rows"], {"project": "costlab-eval", "mode": wandb_mode})
            )
    print(f"[costlab] wrote {out_dir / 'report.md'} and {out_dir / 'report.html'}")


def main(argv: Optional[list[str]] = None) -> None:
    """`costlab ...`, `python -m costlab ...`, `python -m costlab.cli ...`."""
    app(args=argv if argv is not None else sys.argv[1:], prog_name="costlab")


if __name__ == "__main__":  # pragma: no cover
    main()
