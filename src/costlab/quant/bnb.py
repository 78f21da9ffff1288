"""bitsandbytes through transformers: LLM.int8 (``int8``) and 4-bit ``nf4`` / ``fp4`` (optionally double-quant).

bitsandbytes >= 0.50 has CPU kernels: all three load, generate and ``save_pretrained`` on CPU, slowly
(~0.6 tok/s int8, ~1.7 tok/s nf4 for 135M on 2 cores). The saved dir reloads with plain
``AutoModelForCausalLM.from_pretrained(dir)`` (the quantization config is in config.json).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from costlab.errors import CostlabError

MODES = ("int8", "nf4", "fp4")


def require_bnb() -> None:
    if importlib.util.find_spec("bitsandbytes") is None:
        raise CostlabError(
            "bitsandbytes is not installed", "pip install 'bitsandbytes>=0.50'  (the costlab[quant] extra)"
        )


def bnb_config(mode: str, double_quant: bool = True, compute_dtype: str = "float32"):
    import torch
    from transformers import BitsAndBytesConfig

    if mode not in MODES:
        raise CostlabError(f"unknown bitsandbytes mode '{mode}'", f"use one of {list(MODES)} (quant.methods.bnb.modes)")
    if mode == "int8":
        return BitsAndBytesConfig(load_in_8bit=True)
    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type=mode,
        bnb_4bit_use_double_quant=bool(double_quant),
        bnb_4bit_compute_dtype=getattr(torch, compute_dtype),
    )


def variant_suffix(mode: str, double_quant: bool) -> str:
    return f"bnb-{mode}" + ("-dq" if double_quant and mode != "int8" else "")


def quantize_bnb(
    hf_dir: str,
    out_dir: Path,
    mode: str,
    double_quant: bool = True,
    compute_dtype: str = "float32",
    device: str = "cpu",
) -> Path:
    """Load ``hf_dir`` quantized on the fly, save the quantized weights + tokenizer to ``out_dir``."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    require_bnb()
    qc = bnb_config(mode, double_quant, compute_dtype)
    model = AutoModelForCausalLM.from_pretrained(hf_dir, quantization_config=qc, dtype=torch.float32, device_map=device)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    AutoTokenizer.from_pretrained(hf_dir).save_pretrained(out_dir)
    return out_dir


def load_bnb(path: str | Path, device: str = "cpu"):
    import torch
    from transformers import AutoModelForCausalLM

    require_bnb()
    model = AutoModelForCausalLM.from_pretrained(str(path), dtype=torch.float32, device_map=device)
    return model.eval()


# ------------------------------------------------------------------------------------------ the quantize method
from typing import Any, Literal  # noqa: E402

from costlab.quant.method import Base, QuantMethod, VariantSpec  # noqa: E402
from costlab.schemas.base import Schema  # noqa: E402


class BnbMethod(QuantMethod):
    """configs/quant/bnb.yaml: one saved, reloadable bitsandbytes HF dir per mode (int8 | nf4 | fp4)."""

    class Params(Schema):
        modes: list[Literal["int8", "nf4", "fp4"]]
        double_quant: bool
        compute_dtype: str

    def variants(self, base: Base) -> list[VariantSpec]:
        dq = self.p.double_quant
        return [
            VariantSpec(
                f"{base.name}-{variant_suffix(m, dq)}",
                "bnb",
                m + ("-dq" if dq and m != "int8" else ""),
                "hf",
                {"mode": m},
            )
            for m in self.p.modes
        ]

    def build(self, base: Base, spec: VariantSpec, variant, var_dir: Path) -> dict[str, Any]:
        import time

        from costlab.quant.sanity import hf_sanity
        from costlab.quant.variant import rel_to_run, weight_bytes

        t0 = time.time()
        quantize_bnb(base.hf_dir, var_dir, spec.options["mode"], self.p.double_quant, self.p.compute_dtype)
        variant.build_seconds = time.time() - t0
        model = load_bnb(var_dir)  # sanity on the reloaded copy: proves it round-trips
        variant.path = rel_to_run(var_dir, base.run_dir)
        wb = weight_bytes(var_dir)
        variant.size_mb, variant.n_params, variant.bits_per_weight = wb / 1e6, base.n_params, wb * 8 / base.n_params
        sanity = base.sanity
        variant.sanity = hf_sanity(
            model, base.tokenizer, base.heldout_ids, sanity.prompt, sanity.gen_tokens, sanity.window
        )
        return {"double_quant": self.p.double_quant, "compute_dtype": self.p.compute_dtype}
