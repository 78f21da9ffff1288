"""What every cost command shares: the rich consoles, the --prices / --json options, and the $ formatting."""

from __future__ import annotations

import json
import sys
from typing import Any, Optional

import typer

from costlab.errors import CostlabError


class _Console:
    """A rich Console made on first use: a `--json` run never imports rich (~0.04 s of every CLI call)."""

    def __init__(self, **kwargs: Any) -> None:
        self._kwargs = kwargs
        self._console: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            from rich.console import Console

            kw = dict(self._kwargs)
            if kw.pop("piped_width", None):  # 160 columns when piped, decided when the first line is printed
                kw["width"] = None if sys.stdout.isatty() else 160
            self._console = Console(**kw)
        return getattr(self._console, name)


# markup off: log text and prompts may contain [brackets]; 160 columns when piped so tables stay readable
out = _Console(markup=False, highlight=False, piped_width=True)
err = _Console(stderr=True, highlight=False)

PricesOpt = typer.Option(
    "default",
    "--prices",
    help="pricing: a name under configs/pricing/, a YAML path, or 'litellm' (LiteLLM's bundled map, if installed)",
)
JsonOpt = typer.Option(False, "--json", help="print the result as JSON (nothing else on stdout)")


def emit_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, default=str) + "\n")


def usd(x: Any, digits: int = 2) -> str:
    if x is None:
        return "—"
    if x == 0:
        return "$0.00"
    if abs(x) < 0.01:
        return f"${x:.6f}"
    return f"${x:,.{digits}f}"


def split_list(vals: Optional[list[str]]) -> list[str]:
    return [v.strip() for x in (vals or []) for v in x.split(",") if v.strip()]


def volumes_list(s: str) -> list[float]:
    try:
        v = [float(x.replace("_", "")) for x in s.split(",") if x.strip()]
    except ValueError:
        raise CostlabError(
            f"--volumes {s!r}: not a comma-separated list of numbers", "e.g. 10000,100000,1000000"
        ) from None
    return v
