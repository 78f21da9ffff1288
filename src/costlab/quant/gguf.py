"""HF → GGUF with llama.cpp's own tools: ``convert_hf_to_gguf.py`` (F16) then ``llama_model_quantize``.

The converter comes from the llama-cpp-python sdist of the installed version (``make
.cache/llama.cpp-0.3.36/convert_hf_to_gguf.py``) so that converter and runtime agree. It runs as a subprocess (it
puts its own ``gguf-py`` first on sys.path). Quantization runs in-process through llama-cpp-python's ctypes
binding; llama.cpp's log goes into the error message when it fails.

Importance matrix (imatrix): llama.cpp's ``llama-imatrix`` tool is not part of the Python wheel, so
:func:`compute_imatrix` collects the same statistic in PyTorch — the mean of squared input activations per
input column of every linear layer, over calibration text — and passes it to ``llama_model_quantize`` as
``params.imatrix``. llama.cpp requires one for the IQ1/IQ2 types and uses it (when given) for all types.
"""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from costlab.errors import CostlabError
from costlab.paths import offline_env

# Quant type names llama.cpp's `llama-quantize` accepts that map to a llama_ftype (K-quants need row sizes that are
# a multiple of 256; rows that are not fall back to legacy types, see docs/quantization.md).
EXTRA_TYPES = {"F32": "LLAMA_FTYPE_ALL_F32"}


def quant_types() -> dict[str, int]:
    """Every llama_ftype llama-cpp-python exposes, by llama.cpp's name (Q4_K_M, Q8_0, IQ4_XS, F16, BF16, ...)."""
    import llama_cpp

    out = {
        n[len("LLAMA_FTYPE_MOSTLY_") :]: getattr(llama_cpp, n)
        for n in dir(llama_cpp)
        if n.startswith("LLAMA_FTYPE_MOSTLY_")
    }
    out.update({k: getattr(llama_cpp, v) for k, v in EXTRA_TYPES.items()})
    return out


def ftype_of(name: str) -> int:
    types = quant_types()
    key = name.upper()
    if key not in types:
        raise CostlabError(
            f"unknown GGUF quant type '{name}'", f"use one of: {', '.join(sorted(types))} (quant.methods.gguf.types)"
        )
    return types[key]


def converter_path(path: str | os.PathLike) -> Path:
    p = Path(path)
    if not p.is_file():
        raise CostlabError(
            f"llama.cpp converter not found at {p}",
            f"run `make {p}` (extracts it from the llama-cpp-python sdist of the installed version)",
        )
    return p


def converter_architectures(converter: str | os.PathLike) -> set[str]:
    """HF ``architectures`` names the converter registers (``@ModelBase.register(...)`` in its source files)."""
    import re

    conv = converter_path(converter)
    files = [conv, *sorted((conv.parent / "conversion").glob("*.py"))]
    names: set[str] = set()
    for f in files:
        for block in re.findall(r"@ModelBase\.register\(([^)]*)\)", f.read_text(errors="replace")):
            names.update(re.findall(r"[\"']([A-Za-z0-9_]+)[\"']", block))
    return names


def check_convertible(hf_dir: str | os.PathLike, converter: str | os.PathLike) -> str:
    """The model's architecture if llama.cpp's converter registers it; else a CostlabError naming the model and the
    fix, raised before the converter runs (nothing written)."""
    hf_dir = Path(hf_dir)
    if not (hf_dir / "config.json").is_file():
        raise CostlabError(f"{hf_dir} is not a Hugging Face model dir (no config.json)", "point at an HF model dir")
    cfg = json.loads((hf_dir / "config.json").read_text())
    arch = (cfg.get("architectures") or ["?"])[0]
    qpas, hd = cfg.get("query_pre_attn_scalar"), cfg.get("head_dim")
    if (
        cfg.get("model_type") in ("gemma3", "gemma3_text")
        and qpas
        and hd
        and qpas != hd
        and cfg.get("num_hidden_layers") != 62
    ):
        # llama.cpp (src/models/gemma3.cpp) scales queries by 1/sqrt(head_dim) unless the layer count is 62 (27B)
        raise CostlabError(
            f"{hf_dir}: {arch} has query_pre_attn_scalar={qpas} != head_dim={hd} and {cfg.get('num_hidden_layers')} "
            "layers; llama.cpp would scale its attention by 1/sqrt(head_dim) and the GGUF would not match the model",
            "export this model with the bnb/gptq/awq formats, or keep all 62 layers of a Gemma 3 27B (docs/families.md)",
        )
    known = converter_architectures(converter)
    if known and arch not in known:
        raise CostlabError(
            f"convert_hf_to_gguf failed for {hf_dir}: architecture {arch} (model_type '{cfg.get('model_type')}') "
            f"is not supported by llama.cpp's converter ({Path(converter).parent.name}, {len(known)} architectures)",
            f"this architecture is not supported by llama.cpp's converter ({Path(converter).parent.name}); use the "
            "bnb/gptq/awq formats for it, or a newer llama.cpp (docs/families.md lists the tested families)",
        )
    return arch


def sliding_window_pattern(hf_dir: str | os.PathLike) -> list[bool] | None:
    """Per-layer sliding-window flags from config.json ``layer_types`` (None when no layer slides)."""
    cfg = json.loads((Path(hf_dir) / "config.json").read_text())
    lt = cfg.get("layer_types")
    if not lt or "sliding_attention" not in lt:
        return None
    if len(lt) != cfg.get("num_hidden_layers"):
        raise CostlabError(
            f"{hf_dir}/config.json: layer_types has {len(lt)} entries for {cfg.get('num_hidden_layers')} layers",
            "re-save the model (costlab's pruner keeps them in sync)",
        )
    return [t == "sliding_attention" for t in lt]


def _write_sliding_window_pattern(gguf_file: Path, pattern: list[bool]) -> bool:
    """Write ``<arch>.attention.sliding_window_pattern`` as a per-layer array unless the file already has one.

    llama.cpp's Gemma 2/3 loaders fall back to a fixed period (every 2nd / every 6th layer global) when the key is
    absent, and the converter does not write it for them; after pruning that period no longer matches the layers,
    so the GGUF would attend with the wrong window in some layers. Returns whether the file was rewritten.
    """
    import gguf
    from gguf.scripts.gguf_new_metadata import MetadataDetails, copy_with_new_metadata

    reader = gguf.GGUFReader(str(gguf_file), "r")
    f = reader.get_field(gguf.Keys.General.ARCHITECTURE)
    arch = f.contents()
    key = gguf.Keys.Attention.SLIDING_WINDOW_PATTERN.format(arch=arch)
    if reader.get_field(key) is not None:
        return False
    tmp = gguf_file.with_name(gguf_file.name + ".swa")
    writer = gguf.GGUFWriter(str(tmp), arch=arch, endianess=reader.endianess)
    align = reader.get_field(gguf.Keys.General.ALIGNMENT)
    if align is not None:
        writer.data_alignment = align.contents()
    meta = {
        key: MetadataDetails(gguf.GGUFValueType.ARRAY, [bool(x) for x in pattern], sub_type=gguf.GGUFValueType.BOOL)
    }
    import logging

    logging.getLogger("gguf").setLevel(logging.WARNING)
    copy_with_new_metadata(reader, writer, meta, [])
    del reader
    os.replace(tmp, gguf_file)
    return True


def convert_hf_to_gguf(
    hf_dir: str | os.PathLike,
    out_file: str | os.PathLike,
    converter: str | os.PathLike,
    outtype: str = "f16",
    timeout: float = 3600,
) -> Path:
    """Run llama.cpp's converter; an unsupported architecture or a bad dir becomes a CostlabError (before anything
    is written when the architecture is unknown to the converter, with the converter's log otherwise). Per-layer
    sliding-window flags from ``layer_types`` are written into the GGUF (see _write_sliding_window_pattern)."""
    conv = converter_path(converter)
    hf_dir, out_file = Path(hf_dir), Path(out_file)
    check_convertible(hf_dir, conv)
    pattern = sliding_window_pattern(hf_dir)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_file.with_name(out_file.name + ".partial")
    env = offline_env(drop=("NO_LOCAL_GGUF",))  # use the converter's own gguf-py
    cmd = [sys.executable, str(conv), str(hf_dir), "--outfile", str(tmp), "--outtype", outtype]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    if proc.returncode != 0 or not tmp.is_file():
        tmp.unlink(missing_ok=True)
        log = (proc.stderr or "") + (proc.stdout or "")
        lines = [l for l in log.splitlines() if l.strip() and not l.startswith(("Writing:", "INFO:"))]
        reason = lines[-1] if lines else f"exit code {proc.returncode}"
        fix = "check the model dir"
        if "not supported" in log:
            fix = (
                "this architecture is not supported by llama.cpp's converter "
                f"({conv.parent.name}); use the bnb/gptq/awq formats for it, or a newer llama.cpp"
            )
        elif "tokenizer.model" in log:
            fix = (
                "this family's converter reads a SentencePiece tokenizer.model: save the model with its original "
                "tokenizer files (docs/families.md)"
            )
        raise CostlabError(f"convert_hf_to_gguf failed for {hf_dir}: {reason}", fix)
    if pattern is not None:
        try:
            _write_sliding_window_pattern(tmp, pattern)
        except Exception:
            tmp.unlink(missing_ok=True)
            raise
    os.replace(tmp, out_file)
    return out_file


def _imatrix_array(imatrix: dict[str, np.ndarray]):
    """NULL-terminated llama_model_imatrix_data[]; returns (array, keepalive) — keep both alive during the call."""
    import llama_cpp

    keep: list[Any] = []
    arr = (llama_cpp.llama_model_imatrix_data * (len(imatrix) + 1))()
    for i, (name, values) in enumerate(sorted(imatrix.items())):
        v = np.ascontiguousarray(values, dtype=np.float32)
        b = name.encode()
        keep += [v, b]
        arr[i].name = b
        arr[i].data = v.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
        arr[i].size = v.size
    arr[len(imatrix)].name = None
    return arr, keep


def quantize_gguf(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    qtype: str,
    threads: int = 0,
    imatrix: dict[str, np.ndarray] | None = None,
    allow_requantize: bool = False,
) -> Path:
    """llama.cpp's quantizer (``llama_model_quantize``) from an F16/F32 GGUF to ``qtype``."""
    import llama_cpp

    from costlab.quant.sanity import capture_llama_log

    ftype = ftype_of(qtype)
    src, dst = Path(src), Path(dst)
    if not src.is_file():
        raise CostlabError(f"GGUF not found: {src}")
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(dst.name + ".partial")
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    params.nthread = int(threads)
    params.allow_requantize = bool(allow_requantize)
    keep = None
    if imatrix:
        arr, keep = _imatrix_array(imatrix)
        params.imatrix = ctypes.cast(arr, ctypes.POINTER(llama_cpp.llama_model_imatrix_data))
        keep.append(arr)
    with capture_llama_log() as log:
        rc = llama_cpp.llama_model_quantize(str(src).encode(), str(tmp).encode(), ctypes.byref(params))
    del keep
    if rc != 0 or not tmp.is_file():
        tmp.unlink(missing_ok=True)
        lines = [l.strip() for l in log.getvalue().splitlines() if l.strip()]
        errs = (
            [l.split("failed to quantize:", 1)[1].strip() for l in lines if "failed to quantize:" in l]
            or [l for l in lines if "error" in l.lower()]
            or lines[-1:]
        )
        reason = " | ".join(errs[-2:])[-500:] or f"return code {rc}"
        fix = "check the type name and the source file"
        if "imatrix" in reason.lower():
            fix = "this type needs an importance matrix: set quant.methods.gguf.imatrix=true (uses calibration text)"
        elif "requantiz" in reason.lower():
            fix = "quantize from the F16 GGUF, not from an already-quantized one"
        raise CostlabError(f"llama_model_quantize to {qtype} failed: {reason}", fix)
    os.replace(tmp, dst)
    return dst


def gguf_stats(path: str | os.PathLike) -> dict[str, Any]:
    """n_params, tensor bytes, bits/weight and the tensor-type histogram of a GGUF file."""
    from gguf import GGUFReader

    r = GGUFReader(str(path))
    n_params = 0
    n_bytes = 0
    types: dict[str, int] = {}
    for t in r.tensors:
        n_params += int(t.n_elements)
        n_bytes += int(t.n_bytes)
        types[t.tensor_type.name] = types.get(t.tensor_type.name, 0) + 1
    arch = None
    f = r.fields.get("general.architecture")
    if f is not None:
        arch = bytes(f.parts[f.data[0]]).decode()
    return {
        "n_params": n_params,
        "tensor_bytes": n_bytes,
        "file_bytes": Path(path).stat().st_size,
        "bits_per_weight": n_bytes * 8 / max(n_params, 1),
        "tensor_types": types,
        "arch": arch,
        "tensors": {t.name: [int(x) for x in t.shape] for t in r.tensors},
    }


def compute_imatrix(
    model, texts: Sequence[str], tokenizer, gguf_file: str | os.PathLike, max_tokens: int = 512
) -> dict[str, np.ndarray]:
    """Mean squared input activation per input column of each linear layer, keyed by GGUF tensor name.

    The same statistic llama.cpp's ``llama-imatrix`` collects (sum of x_j^2 / number of tokens). HF module names
    are mapped to GGUF names with gguf's TensorNameMap; entries whose size does not match the GGUF tensor's row
    length are dropped (llama.cpp would reject them).
    """
    import gguf
    import torch

    if not texts:
        raise CostlabError(
            "imatrix needs calibration text and the calibration set is empty",
            "generate teacher data first or set quant.calibration.paths",
        )
    stats = gguf_stats(gguf_file)
    arch_name = stats["arch"]
    arch = next((a for a, n in gguf.MODEL_ARCH_NAMES.items() if n == arch_name), None)
    if arch is None:
        raise CostlabError(
            f"imatrix: GGUF architecture '{arch_name}' unknown to the installed gguf package",
            "upgrade gguf or disable quant.methods.gguf.imatrix",
        )
    n_blocks = int(getattr(model.config, "num_hidden_layers", 0) or 0)
    name_map = gguf.get_tensor_name_map(arch, n_blocks)
    sums: dict[str, torch.Tensor] = {}
    counts: dict[str, int] = {}
    hooks = []

    def make_hook(name: str):
        def hook(_mod, inp, _out):
            x = inp[0].detach().reshape(-1, inp[0].shape[-1]).float()
            sums[name] = sums.get(name, 0) + (x * x).sum(0)
            counts[name] = counts.get(name, 0) + x.shape[0]

        return hook

    for name, mod in model.named_modules():
        if isinstance(mod, torch.nn.Linear):
            hooks.append(mod.register_forward_hook(make_hook(name)))
    try:
        with torch.inference_mode():
            for t in texts:
                ids = tokenizer(t, add_special_tokens=False)["input_ids"][:max_tokens]
                if len(ids) >= 2:
                    model(torch.tensor([ids]))
    finally:
        for h in hooks:
            h.remove()
    out: dict[str, np.ndarray] = {}
    for name, s in sums.items():
        gname = name_map.get_name(name + ".weight", try_suffixes=(".weight",))
        if gname is None or gname not in stats["tensors"]:
            continue
        if stats["tensors"][gname][0] != s.numel():  # GGUF shape is (ne0=in_features, ne1=out_features)
            continue
        out[gname] = (s / counts[name]).cpu().numpy().astype(np.float32)
    if not out:
        raise CostlabError(
            "imatrix: no linear layer matched a GGUF tensor", "disable quant.methods.gguf.imatrix for this model"
        )
    return out


# ------------------------------------------------------------------------------------------ the quantize method
from costlab.quant.method import Base, QuantMethod, VariantSpec  # noqa: E402  (after the conversion functions)
from costlab.schemas.base import Schema  # noqa: E402


class GGUFMethod(QuantMethod):
    """configs/quant/gguf.yaml: convert each base once (HF → F16 with llama.cpp's converter, + the imatrix when
    asked), then one llama.cpp-quantized GGUF variant per type."""

    class Params(Schema):
        types: list[str]
        outtype: str
        converter: str
        imatrix: bool
        threads: int
        keep_f16: bool

    def variants(self, base: Base) -> list[VariantSpec]:
        suffix = "-imat" if self.p.imatrix else ""
        return [VariantSpec(f"{base.name}-{t}{suffix}", "gguf", t, "llama.cpp", {"type": t}) for t in self.p.types]

    def _prepare(self, base: Base) -> dict[str, Any]:
        """Convert once per base (and compute the imatrix once); an error fails every type of this base."""
        import time

        prep = base.state.setdefault("gguf", {})
        if "error" in prep:
            raise prep["error"]
        if "f16" in prep:
            return prep
        f16 = base.work_dir / f"{base.name}-{self.p.outtype.upper()}.gguf"
        try:
            t0 = time.time()
            convert_hf_to_gguf(base.hf_dir, f16, self.p.converter, self.p.outtype)
            prep["convert_seconds"] = time.time() - t0
            prep["f16"] = f16
            if self.p.imatrix:
                texts, src = base.require_calibration()
                t0 = time.time()
                prep["imatrix"] = compute_imatrix(
                    base.model(), texts, base.tokenizer, f16, base.calibration_cfg.max_tokens
                )
                prep["imatrix_seconds"] = time.time() - t0
                prep["imatrix_source"] = src
        except CostlabError as e:
            prep["error"] = e
            raise
        return prep

    def build(self, base: Base, spec: VariantSpec, variant, var_dir: Path) -> dict[str, Any]:
        import shutil
        import time

        from costlab.quant.sanity import gguf_sanity
        from costlab.quant.variant import rel_to_run

        qtype = spec.options["type"]
        ftype_of(qtype)  # unknown type → this variant fails before any work
        prep = self._prepare(base)
        dst = var_dir / f"{variant.name}.gguf"
        t0 = time.time()
        if qtype.upper() == self.p.outtype.upper():
            shutil.copyfile(prep["f16"], dst)
        else:
            quantize_gguf(prep["f16"], dst, qtype, threads=self.p.threads, imatrix=prep.get("imatrix"))
        quantize_seconds = time.time() - t0
        # build time = what it costs to make this file from the HF dir: convert (+ imatrix) + quantize
        variant.build_seconds = prep["convert_seconds"] + prep.get("imatrix_seconds", 0.0) + quantize_seconds
        st = gguf_stats(dst)
        variant.path = rel_to_run(dst, base.run_dir)
        variant.size_mb, variant.n_params, variant.bits_per_weight = (
            st["file_bytes"] / 1e6,
            st["n_params"],
            st["bits_per_weight"],
        )
        sanity = base.sanity
        variant.sanity = gguf_sanity(
            str(dst), base.heldout_ids, sanity.prompt, sanity.gen_tokens, sanity.window, sanity.llama_threads
        )
        return {
            "tensor_types": st["tensor_types"],
            "converter": str(self.p.converter),
            "imatrix": bool(prep.get("imatrix")),
            "imatrix_source": prep.get("imatrix_source"),
            "convert_seconds": prep["convert_seconds"],
            "imatrix_seconds": prep.get("imatrix_seconds"),
            "quantize_seconds": quantize_seconds,
        }

    def finish(self, base: Base) -> None:
        prep = base.state.pop("gguf", {})
        if not self.p.keep_f16 and prep.get("f16") is not None:
            Path(prep["f16"]).unlink(missing_ok=True)
