"""What made an artifact: resolved config, seed, git commit, package versions, input hashes, host, times."""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Mapping

from costlab.io import atomic_write_json
from costlab.paths import PROJECT_ROOT

PACKAGES = (
    "costlab",
    "torch",
    "transformers",
    "peft",
    "accelerate",
    "datasets",
    "gguf",
    "llama_cpp_python",
    "bitsandbytes",
    "lm_eval",
    "hydra-core",
    "omegaconf",
    "numpy",
    "openai",
    "wandb",
)


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for n in names:
        try:
            out[n] = importlib.metadata.version(n)
        except importlib.metadata.PackageNotFoundError:
            out[n] = None
    return out


def git_commit(cwd: str | os.PathLike | None = None) -> dict[str, Any]:
    cwd = str(cwd or PROJECT_ROOT)
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
        )
        if sha.returncode != 0:
            return {"commit": None, "dirty": None}
        return {"commit": sha.stdout.strip(), "dirty": bool(dirty.stdout.strip())}
    except (OSError, subprocess.TimeoutExpired):
        return {"commit": None, "dirty": None}


def file_sha256(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def hash_inputs(inputs: Mapping[str, str | os.PathLike | None]) -> dict[str, Any]:
    """sha256 of each input file (or of every file under a directory, combined)."""
    out: dict[str, Any] = {}
    for name, p in inputs.items():
        if p is None:
            continue
        p = Path(p)
        if p.is_file():
            out[name] = {"path": str(p), "sha256": file_sha256(p), "bytes": p.stat().st_size}
        elif p.is_dir():
            h = hashlib.sha256()
            files = sorted(f for f in p.rglob("*") if f.is_file())
            for f in files:
                h.update(str(f.relative_to(p)).encode())
                h.update(file_sha256(f).encode())
            out[name] = {"path": str(p), "sha256": h.hexdigest(), "files": len(files)}
        else:
            out[name] = {"path": str(p), "sha256": None, "note": "not found locally (remote name or endpoint)"}
    return out


def host_info() -> dict[str, Any]:
    return {
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "cpu_count": os.cpu_count(),
    }


def make_provenance(
    config: Any, seed: int | None, inputs: Mapping[str, Any] | None = None, extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Build a provenance record. ``config`` is a plain (already resolved) dict."""
    return {
        "seed": seed,
        "git": git_commit(),
        "versions": package_versions(),
        "inputs": hash_inputs(inputs or {}),
        "host": host_info(),
        "argv": sys.argv,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "config": config,
        **(dict(extra) if extra else {}),
    }


def write_provenance(directory: str | os.PathLike, record: Mapping[str, Any]) -> Path:
    record = dict(record)
    record["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    return atomic_write_json(Path(directory) / "provenance.json", record)
