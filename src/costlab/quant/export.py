"""Export a GGUF for serving: pick a built variant (or quantize a base on the fly) and write a serving snippet.

Output in ``quant.export.out_dir`` (default ``<run_dir>/export/``): ``<name>.gguf``, ``serve.sh`` (the
llama-cpp-python OpenAI-compatible server, and llama.cpp's ``llama-server`` equivalent), ``client.py`` (a
one-line OpenAI SDK call against it), ``export.json`` and ``provenance.json``.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Mapping

from costlab.errors import CostlabError
from costlab.io import atomic_write_json, atomic_write_text
from costlab.quant.variant import read_variants, resolve_path


def find_gguf_variant(run_dir: Path, name: str) -> tuple[dict[str, Any], Path]:
    variants = {v["name"]: v for v in read_variants(run_dir)}
    if name not in variants:
        ggufs = sorted(n for n, v in variants.items() if v.get("format") == "gguf" and v.get("status") == "ok")
        raise CostlabError(
            f"no variant '{name}' in {run_dir}/variants",
            f"built GGUF variants: {ggufs or 'none'}; run the quantize stage first, or set "
            "quant.export.variant=null to quantize quant.export.base on the fly",
        )
    v = variants[name]
    if v.get("format") != "gguf":
        raise CostlabError(
            f"variant '{name}' is format '{v.get('format')}', not gguf", "pick a GGUF variant (e.g. student-Q4_K_M)"
        )
    if v.get("status") != "ok":
        raise CostlabError(
            f"variant '{name}' failed when it was built: {v.get('error')}", "fix that first or pick another variant"
        )
    path = resolve_path(run_dir, v)
    if not path.is_file():
        raise CostlabError(f"variant '{name}' points at {path}, which does not exist", "rerun the quantize stage")
    return v, path


def quantize_on_the_fly(
    hf_dir: str, qtype: str, out_file: Path, converter: str, outtype: str = "f16", threads: int = 2
) -> Path:
    from costlab.quant import gguf as G

    G.ftype_of(qtype)
    with tempfile.TemporaryDirectory(dir=out_file.parent) as tmp:
        f16 = Path(tmp) / "model-f16.gguf"
        G.convert_hf_to_gguf(hf_dir, f16, converter, outtype)
        if qtype.upper() == outtype.upper():
            shutil.move(str(f16), out_file)
        else:
            G.quantize_gguf(f16, out_file, qtype, threads=threads)
    return out_file


def serve_command(gguf: Path, alias: str, n_ctx: int, threads: int, host: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(gguf),
        "--model_alias",
        alias,
        "--n_ctx",
        str(n_ctx),
        "--n_threads",
        str(threads),
        "--host",
        host,
        "--port",
        str(port),
    ]


def snippets(gguf: Path, alias: str, n_ctx: int, threads: int, host: str, port: int) -> dict[str, str]:
    py_server = " ".join(shlex.quote(a) for a in serve_command(gguf, alias, n_ctx, threads, host, port))
    serve = f"""#!/usr/bin/env bash
# Serve {gguf.name} behind an OpenAI-compatible API on http://{host}:{port}/v1
# llama-cpp-python's server, with the python that has it (`pip install 'llama-cpp-python[server]'` elsewhere):
exec {py_server}
# llama.cpp's own server, same model and settings (https://github.com/ggml-org/llama.cpp):
#   llama-server -m {shlex.quote(str(gguf))} -c {n_ctx} -t {threads} --host {host} --port {port} --alias {alias}
# With a GPU: build llama-cpp-python with CMAKE_ARGS="-DGGML_CUDA=on" and add --n_gpu_layers -1 (llama-server: -ngl 99).
"""
    client = (
        f"from openai import OpenAI; print(OpenAI(base_url='http://{host}:{port}/v1', api_key='none')"
        f".chat.completions.create(model='{alias}', messages=[{{'role': 'user', 'content': "
        f"'What is the capital of France?'}}], max_tokens=32).choices[0].message.content)\n"
    )
    return {"serve.sh": serve, "client.py": client}


def export_gguf(
    run_dir: Path,
    exp: Mapping[str, Any],
    hf_dirs: Mapping[str, str] | None = None,
    converter: str | None = None,
    outtype: str = "f16",
) -> dict[str, Any]:
    """Write the serving-ready GGUF + snippets. ``hf_dirs`` maps base → HF dir for on-the-fly quantization."""
    out_dir = Path(exp["out_dir"])
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    if exp.get("variant"):
        v, src = find_gguf_variant(run_dir, str(exp["variant"]))
        name, how = v["name"], f"copied from variant {v['name']}"
        dst = out_dir / f"{name}.gguf"
        if dst.exists():
            dst.unlink()
        try:
            os.link(src, dst)  # same filesystem: no second copy of the weights
        except OSError:
            shutil.copyfile(src, dst)
    else:
        base, qtype = str(exp["base"]), str(exp["type"])
        if not hf_dirs or base not in hf_dirs:
            raise CostlabError(
                f"quant.export.base={base}: no HF model for that base",
                "train the student first, or use base=teacher, or pick a built variant",
            )
        if not converter:
            raise CostlabError("on-the-fly export needs the llama.cpp converter", "select +quant=gguf")
        name, how = f"{base}-{qtype}", f"quantized now from {hf_dirs[base]}"
        dst = quantize_on_the_fly(hf_dirs[base], qtype, out_dir / f"{name}.gguf", converter, outtype)
    n_ctx, threads, host, port = int(exp["n_ctx"]), int(exp["threads"]), str(exp["host"]), int(exp["port"])
    for fname, text in snippets(dst.resolve(), name, n_ctx, threads, host, port).items():
        atomic_write_text(out_dir / fname, text)
    (out_dir / "serve.sh").chmod(0o755)
    info = {
        "name": name,
        "gguf": str(dst.resolve()),
        "size_mb": round(dst.stat().st_size / 1e6, 3),
        "how": how,
        "serve": str(out_dir / "serve.sh"),
        "client": str(out_dir / "client.py"),
        "n_ctx": n_ctx,
        "threads": threads,
        "host": host,
        "port": port,
        "seconds": round(time.time() - t0, 2),
    }
    atomic_write_json(out_dir / "export.json", info)
    return info
