"""The variants a run holds (``variants/<name>/variant.json``, written by the quantize stage) and the
backend each one needs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping

from costlab.errors import CostlabError
from costlab.eval.backends.base import backend_key
from costlab.quant.variant import read_variants, resolve_path


def backend_kind(variant: Mapping[str, Any]) -> str:
    """The runtime a variant needs: 'llama.cpp' for GGUF files; 'hf' for everything transformers loads (hf, bnb, and
    GPTQ/AWQ checkpoints, which transformers runs through gptqmodel / compressed-tensors kernels); else the
    variant's own ``backend`` (a plugin registered under eval.backends)."""
    if variant.get("format") == "gguf" or variant.get("backend") == "llama.cpp":
        return "llama.cpp"
    if variant.get("format") in ("hf", "bnb", "gptq", "awq") or variant.get("backend") in (None, "hf", "transformers"):
        return "hf"
    return str(variant.get("backend"))


def missing_backend(variant: Mapping[str, Any], backends_cfg: Mapping[str, Any]) -> str | None:
    """None if the variant's runtime is configured and importable here, else a message naming the fix."""
    from costlab.eval.backends import make_backend

    kind = backend_kind(variant)
    if backend_key(kind) not in backends_cfg:
        return (
            f"variant {variant.get('name')}: runtime '{kind}' has no eval backend (eval.backends has "
            f"{sorted(backends_cfg)}); add eval.backends.{backend_key(kind)} with a _target_"
        )
    return make_backend(backends_cfg, kind).missing(variant)


_GGUF_TYPE = re.compile(r"[.\-_](I?Q\d[A-Z0-9_]*|BF16|F16|F32)\.gguf$", re.IGNORECASE)


def gguf_type(path: str | None) -> str | None:
    """The llama.cpp quant type in a GGUF file name (``SmolLM2-135M-Instruct.Q4_1.gguf`` → ``Q4_1``)."""
    m = _GGUF_TYPE.search(str(path or ""))
    return m.group(1).upper() if m else None


def variant_label(variant: Mapping[str, Any], teacher: Mapping[str, Any], hf_dtype: str | None) -> str:
    """What the variant really is, for every table: e.g. ``teacher (Q4_1 GGUF, dequantized to fp32)`` for the demo's
    reference, ``teacher Q8_0 GGUF (re-quantized from the dequantized Q4_1)``, ``student Q4_K_M GGUF``."""
    base, fmt, quant = variant.get("base") or "?", variant.get("format"), variant.get("quant")
    src_type = gguf_type(teacher.get("path")) if base == "teacher" and teacher.get("source") == "gguf" else None
    if src_type is None and base == "teacher" and teacher.get("source") == "gguf":
        src_type = "GGUF"
    dtype = {"float32": "fp32", "bfloat16": "bf16", "float16": "fp16"}.get(str(hf_dtype), str(hf_dtype))
    if fmt == "hf":
        if src_type:
            return f"{base} ({src_type} GGUF, dequantized to {dtype})"
        return f"{base} (HF checkpoint, run in {dtype})"
    what = f"{base} {quant or ''} {'GGUF' if fmt == 'gguf' else fmt}".replace("  ", " ")
    if src_type:
        return f"{what} (re-quantized from the dequantized {src_type})"
    return what


def list_variants(run_dir: Path, include: list[str] | None = None) -> list[dict[str, Any]]:
    """All variants of the run (failed ones included: they are reported as failed, never measured)."""
    vdir = Path(run_dir) / "variants"
    if not vdir.is_dir():
        raise CostlabError(
            f"{vdir}: no variants in this run",
            "run the quantize stage first (list it before 'evaluate' in the experiment's stages)",
        )
    variants = read_variants(run_dir)
    if include:
        names = {v["name"] for v in variants}
        unknown = [n for n in include if n not in names]
        if unknown:
            raise CostlabError(
                f"eval.variants names {unknown}, which are not in {vdir}",
                f"use names from {sorted(names)} or null for all",
            )
        variants = [v for v in variants if v["name"] in include]
    if not variants:
        raise CostlabError(f"{vdir}: no variant.json files", "run the quantize stage first")
    for v in variants:
        for k in ("name", "format", "status"):
            if k not in v:
                raise CostlabError(
                    f"{vdir}/{v.get('name', '?')}/variant.json: missing key '{k}'",
                    "re-run the quantize stage (schema in costlab/quant/variant.py)",
                )
        if v["status"] == "ok":
            p = resolve_path(run_dir, v)
            if not p.exists():
                raise CostlabError(
                    f"variant {v['name']}: {p} does not exist",
                    "re-run the quantize stage or delete the stale variant dir",
                )
    return variants


def variant_file(run_dir: Path, variant: dict[str, Any]) -> Path:
    return resolve_path(run_dir, variant)
