"""The variant record (``variants/<name>/variant.json``) that every later stage iterates.

Schema (the measurement stage depends on it; change it only together with costlab.eval)::

    {"name": "student-Q4_K_M", "base": "student"|"teacher", "format": "hf"|"gguf"|"bnb"|"gptq"|"awq",
     "quant": "Q4_K_M"|null, "path": "<relative to the run dir (absolute when outside it): file for gguf, dir otherwise>",
     "backend": "hf"|"llama.cpp"|"gptqmodel", "status": "ok"|"failed", "error": null|"<reason + fix>",
     "size_mb", "bits_per_weight", "n_params", "build_seconds",
     "sanity": {"ppl": float, "n_tokens": int, "sample": "<generated text>"}}

``size_mb`` is 10^6 bytes of the files a user ships (the .gguf file, or the weight files of a dir);
``bits_per_weight`` is weight bytes * 8 / n_params (GGUF: tensor data only, without the tokenizer metadata).
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from costlab.io import atomic_write_json, read_json

FORMATS = ("hf", "gguf", "bnb", "gptq", "awq")
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")


@dataclass
class Variant:
    name: str
    base: str
    format: str
    quant: str | None
    path: str | None
    backend: str
    status: str = "ok"
    error: str | None = None
    size_mb: float | None = None
    bits_per_weight: float | None = None
    n_params: int | None = None
    build_seconds: float | None = None
    sanity: dict[str, Any] = field(default_factory=dict)

    def fail(self, error: str) -> Variant:
        self.status, self.error = "failed", error
        return self

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("size_mb", "bits_per_weight", "build_seconds"):
            if d[k] is not None:
                d[k] = round(float(d[k]), 3)
        return d


def rel_to_run(path: str | os.PathLike, run_dir: Path) -> str:
    """Path relative to the run dir when inside it, else absolute (``run_dir / path`` works for both)."""
    p = Path(path).resolve()
    try:
        return str(p.relative_to(Path(run_dir).resolve()))
    except ValueError:
        return str(p)


def weight_bytes(path: str | os.PathLike) -> int:
    """Bytes of the model weights: the file itself, or every weight file under a dir."""
    p = Path(path)
    if p.is_file():
        return p.stat().st_size
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file() and f.suffix in WEIGHT_SUFFIXES)


def finite(x: Any) -> bool:
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def write_variant(var_dir: Path, variant: Variant) -> Path:
    var_dir.mkdir(parents=True, exist_ok=True)
    return atomic_write_json(var_dir / "variant.json", variant.to_dict())


def read_variants(run_dir: str | os.PathLike, status: str | None = None) -> list[dict[str, Any]]:
    """Every ``variants/*/variant.json`` of a run (sorted by name), optionally only those with ``status``."""
    out = []
    for f in sorted(Path(run_dir, "variants").glob("*/variant.json")):
        v = read_json(f)
        if status is None or v.get("status") == status:
            out.append(v)
    return out


def resolve_path(run_dir: str | os.PathLike, variant: dict[str, Any]) -> Path:
    return Path(run_dir) / variant["path"]
