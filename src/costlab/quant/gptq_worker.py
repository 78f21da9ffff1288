"""GPTQ / AWQ through GPTQModel, run as a subprocess in the interpreter that has gptqmodel installed.

gptqmodel pins numpy 2.2.6 (and other versions), so it lives in its own venv (``make venv-gptq`` →
``.cache/venv-gptq``) rather than in the project venv. The quantize stage starts this file with that venv's
python: ``python gptq_worker.py spec.json result.json``. It quantizes, saves, reloads the saved dir with
``GPTQModel.load`` and runs the same sanity check as every other variant, then writes result.json.
Only the standard library, torch, transformers, gptqmodel and costlab.quant.sanity (numpy) are imported.
Exit codes: 0 ok, 3 gptqmodel not importable, 1 anything else (the message is in result.json).

AWQ and GPTQ kernels: on CPU GPTQModel picks its torch kernels; on CUDA the Marlin/Machete/ExLlama kernels.
auto-gptq is not used: it is archived and refuses to quantize without CUDA.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path

# Run as a script, Python puts this file's folder (src/costlab/quant/) first on sys.path, and costlab's own
# quant/gptqmodel.py there would shadow the real `gptqmodel` package ("No module named 'costlab'" on import).
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]


def _write(path: str, obj: dict) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2)
    os.replace(tmp, path)


def run(spec: dict) -> dict:
    os.environ.setdefault("GPTQMODEL_CPU_WORKERS", str(spec.get("cpu_workers", 2)))
    import torch

    torch.set_num_threads(int(spec.get("threads", 1)))
    torch.manual_seed(int(spec.get("seed", 0)))
    from gptqmodel import BACKEND, AWQConfig, GPTQConfig, GPTQModel
    from transformers import AutoTokenizer

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # src/ → costlab.quant.sanity
    from costlab.quant.sanity import hf_sanity

    method = spec["method"]
    kw = dict(bits=int(spec["bits"]), group_size=int(spec["group_size"]), sym=bool(spec.get("sym", True)))
    if method == "gptq":
        qcfg = GPTQConfig(
            desc_act=bool(spec.get("desc_act", False)), damp_percent=float(spec.get("damp_percent", 0.05)), **kw
        )
    elif method == "awq":
        qcfg = AWQConfig(**kw)
    else:
        raise ValueError(f"unknown method {method}")
    tok = AutoTokenizer.from_pretrained(spec["hf_dir"])
    calib = []
    for t in spec["calibration"]:
        ids = tok(t, add_special_tokens=False)["input_ids"][: int(spec["max_tokens"])]
        calib.append({"input_ids": ids, "attention_mask": [1] * len(ids)})
    t0 = time.time()
    dtype = getattr(torch, spec.get("dtype", "float32"))  # AWQ's torch kernel packs only fp16/bf16
    model = GPTQModel.load(spec["hf_dir"], qcfg, device="cpu", dtype=dtype)
    # On CPU, AWQ's default packing backend (AWQ_GEMM) is CUDA-only: use the portable torch kernel.
    backend = BACKEND.AUTO
    if method == "awq" and not torch.cuda.is_available():
        backend = BACKEND.AWQ_TORCH
    model.quantize(calib, batch_size=1, calibration_data_min_length=int(spec.get("min_tokens", 10)), backend=backend)
    out = Path(spec["out_dir"])
    model.save(str(out))
    tok.save_pretrained(str(out))
    build = time.time() - t0
    del model
    loaded = GPTQModel.load(str(out), device="cpu", dtype=dtype)
    hf = getattr(loaded, "model", loaded)
    hf.eval()
    sanity = hf_sanity(hf, tok, spec["heldout_ids"], spec["prompt"], int(spec["gen_tokens"]), int(spec["window"]))
    qc = out / "quantize_config.json"
    return {
        "status": "ok",
        "build_seconds": build,
        "sanity": sanity,
        "quantize_config": json.loads(qc.read_text()) if qc.exists() else None,
        "versions": {
            "gptqmodel": _version("gptqmodel"),
            "torch": torch.__version__,
            "transformers": _version("transformers"),
            "numpy": _version("numpy"),
        },
    }


def _version(name: str) -> str | None:
    import importlib.metadata

    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def main(argv: list[str]) -> int:
    spec_path, result_path = argv[1], argv[2]
    spec = json.loads(Path(spec_path).read_text())
    try:
        import gptqmodel  # noqa: F401
    except Exception as e:  # ImportError, or a broken install (e.g. a numpy ABI clash)
        _write(result_path, {"status": "failed", "error": f"gptqmodel not importable in {sys.executable}: {e!r}"})
        return 3
    try:
        _write(result_path, run(spec))
        return 0
    except Exception as e:
        tb = traceback.format_exc(limit=4)
        _write(result_path, {"status": "failed", "error": f"{type(e).__name__}: {e}", "traceback": tb})
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
