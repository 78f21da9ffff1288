"""Shared bits of the peer benchmarks: where the peers live, the one error when one is missing, the table."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterable

ROOT = Path(__file__).resolve().parents[2]
PEERS_VENV = ROOT / ".cache" / "venv-peers"  # where `make bench-peers` installs the peers (Makefile: PEERS_VENV)


class PeerMissing(RuntimeError):
    pass


def peer_python(module: str) -> str:
    """The peers venv's python, checked to import ``module``; else PeerMissing with the fix."""
    py = PEERS_VENV / "bin" / "python"
    if not py.exists():
        raise PeerMissing(
            f"peer benchmark needs '{module}' from the peers venv {PEERS_VENV}, which does not exist: "
            "run `make bench-peers` (installs benchmarks/peers/requirements.txt there)"
        )
    r = subprocess.run([str(py), "-c", f"import {module}"], capture_output=True, text=True)
    if r.returncode:
        raise PeerMissing(
            f"peer '{module}' is not importable in {PEERS_VENV}: "
            f"{(r.stderr.strip().splitlines() or ['?'])[-1]} — run `make bench-peers`"
        )
    return str(py)


def fmt(x: Any) -> str:
    if x is None:
        return "—"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, float):
        return f"{x:.4g}"
    return str(x)


def report(name: str, rows: Iterable[tuple], raw: dict, json_path: Path | None, peer: str) -> list[dict]:
    """rows: (metric, costlab, peer, goal, met | None). Prints one table; writes rows + raw numbers as JSON."""
    out = []
    for metric, ours, theirs, goal, met in rows:
        ratio = None
        if isinstance(ours, (int, float)) and isinstance(theirs, (int, float)) and theirs:
            ratio = ours / theirs
        out.append(
            {
                "benchmark": name,
                "metric": metric,
                "costlab": ours,
                "peer": theirs,
                "peer_name": peer,
                "ratio": ratio,
                "goal": goal,
                "met": met,
            }
        )
    w = max(len(r["metric"]) for r in out)
    print(f"\n== {name}: costlab vs {peer} (ratio = costlab / peer)")
    print(f"{'metric':<{w}}  {'costlab':>10}  {'peer':>10}  {'ratio':>7}  goal / met")
    for r in out:
        print(
            f"{r['metric']:<{w}}  {fmt(r['costlab']):>10}  {fmt(r['peer']):>10}  {fmt(r['ratio']):>7}  "
            f"{r['goal']} / {fmt(r['met'])}"
        )
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps({"rows": out, "raw": raw, "python": sys.version.split()[0]}, indent=1))
    return out
