"""The variants a run holds (``variants/<name>/variant.json``, written by the quantize stage) and the
backend each one needs."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from costlab.errors import CostlabError
from costlab.quant.variant import read_variants, resolve_path

# runtime → (python module that must import, what to install)
BACKENDS = {
    "hf": ("transformers", "pip install -e '.[all]'"),
    "llama.cpp": ("llama_cpp", "make install (builds llama-cpp-python) or pip install llama-cpp-python"),
}
# extra modules transformers needs to load a quantized checkpoint, by (format, the quantize stage's backend)
FORMAT_MODULES = {
    ("bnb", None): ("bitsandbytes", "pip install -e '.[quant]'"),
    ("gptq", "gptqmodel"): ("gptqmodel", "pip install -c constraints.txt gptqmodel==7.6.0 (docs/facts.md), or measure "
                                         "it on the machine/venv that built it"),
    ("awq", "gptqmodel"): ("gptqmodel", "pip install -c constraints.txt gptqmodel==7.6.0, or measure it on a GPU box"),
    ("gptq", None): ("compressed_tensors", "pip install compressed-tensors"),
    ("awq", None): ("compressed_tensors", "pip install compressed-tensors"),
}


def backend_kind(variant: dict[str, Any]) -> str:
    """'llama.cpp' for GGUF files; 'hf' for everything transformers loads (hf, bnb, and GPTQ/AWQ checkpoints,
    which transformers runs through gptqmodel / compressed-tensors kernels)."""
    if variant.get("format") == "gguf" or variant.get("backend") == "llama.cpp":
        return "llama.cpp"
    if variant.get("format") in ("hf", "bnb", "gptq", "awq") or variant.get("backend") in (None, "hf", "transformers"):
        return "hf"
    return str(variant.get("backend"))


def missing_backend(variant: dict[str, Any]) -> str | None:
    """None if the variant's runtime is importable here, else a message naming what to install."""
    kind = backend_kind(variant)
    if kind not in BACKENDS:
        return (f"variant {variant.get('name')}: backend '{kind}' is not supported by the evaluate stage "
                "(supported: HF-loadable checkpoints and GGUF files)")
    need = [BACKENDS[kind]]
    fmt, be = variant.get("format"), variant.get("backend")
    extra = FORMAT_MODULES.get((fmt, be)) or FORMAT_MODULES.get((fmt, None))
    if kind == "hf" and extra:
        need.append(extra)
    for mod, fix in need:
        if importlib.util.find_spec(mod) is None:
            return f"variant {variant.get('name')} needs python module '{mod}', which is not installed ({fix})"
    return None


def list_variants(run_dir: Path, include: list[str] | None = None) -> list[dict[str, Any]]:
    """All variants of the run (failed ones included: they are reported as failed, never measured)."""
    vdir = Path(run_dir) / "variants"
    if not vdir.is_dir():
        raise CostlabError(f"{vdir}: no variants in this run",
                           "run the quantize stage first (list it before 'evaluate' in the experiment's stages)")
    variants = read_variants(run_dir)
    if include:
        names = {v["name"] for v in variants}
        unknown = [n for n in include if n not in names]
        if unknown:
            raise CostlabError(f"eval.variants names {unknown}, which are not in {vdir}",
                               f"use names from {sorted(names)} or null for all")
        variants = [v for v in variants if v["name"] in include]
    if not variants:
        raise CostlabError(f"{vdir}: no variant.json files", "run the quantize stage first")
    for v in variants:
        for k in ("name", "format", "status"):
            if k not in v:
                raise CostlabError(f"{vdir}/{v.get('name', '?')}/variant.json: missing key '{k}'",
                                   "re-run the quantize stage (schema in costlab/quant/variant.py)")
        if v["status"] == "ok":
            p = resolve_path(run_dir, v)
            if not p.exists():
                raise CostlabError(f"variant {v['name']}: {p} does not exist",
                                   "re-run the quantize stage or delete the stale variant dir")
    return variants


def variant_file(run_dir: Path, variant: dict[str, Any]) -> Path:
    return resolve_path(run_dir, variant)
