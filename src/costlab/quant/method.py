"""Quantization methods are plug-ins: a class here-or-anywhere, chosen by ``_target_`` under ``quant.methods``.

Adding a method is one module + one YAML::

    # my_pkg/awesome.py
    class AwesomeMethod(QuantMethod):
        class Params(Schema):          # the method's keys, typed; unknown keys are refused at start
            bits: int
        def variants(self, base):       # what it builds for one base model
            return [VariantSpec(f"{base.name}-awesome-w{self.p.bits}", "awesome", f"w{self.p.bits}", "hf")]
        def build(self, base, spec, variant, var_dir):   # fill `variant` (path, size, sanity), return extras
            ...

    # configs/quant/awesome.yaml
    defaults: [common, _self_]
    methods:
      awesome: {_target_: my_pkg.awesome.AwesomeMethod, bits: 4}

The stage (costlab.quant.stage) owns everything around it: the variant dir, the variant.json record, provenance,
resume (a variant already ``ok`` is kept), and turning a failure into a ``failed`` record with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from costlab.errors import CostlabError
from costlab.quant.variant import Variant
from costlab.schemas.base import Schema


@dataclass(frozen=True)
class VariantSpec:
    """One variant a method will build: its name and how the record describes it."""

    name: str
    format: str  # hf | gguf | bnb | gptq | awq | ... (variant.json "format")
    quant: str | None  # the quantization within the format (Q4_K_M, nf4-dq, w4g64)
    backend: str  # runtime that loads it: hf | llama.cpp | gptqmodel
    options: dict[str, Any] = field(default_factory=dict)  # method-private (e.g. the GGUF type)


@dataclass
class Base:
    """What every method gets for one base model (teacher or student): its files, tokenizer, held-out token ids,
    the lazily loaded HF model, calibration text, the shared config sections and a scratch dir."""

    name: str  # teacher | student
    hf_dir: str
    tokenizer: Any
    heldout_ids: list[int]
    n_params: int
    sanity: Any  # costlab.schemas.quant.SanityConfig
    calibration_cfg: Any  # costlab.schemas.quant.CalibrationConfig
    run_dir: Path
    work_dir: Path  # <run>/variants/.work: intermediates shared by a method's variants
    seed: int
    threads: int
    load_model: Callable[[], Any]
    state: dict[str, Any] = field(default_factory=dict)  # per-base scratch a method may keep (e.g. a converted F16)

    def model(self) -> Any:
        return self.load_model()

    def calibration(self) -> tuple[list[str], str | None]:
        from costlab.quant.texts import calibration_texts

        calib = self.calibration_cfg
        return calibration_texts(calib.paths, calib.n_samples, self.tokenizer, calib.min_tokens)

    def require_calibration(self) -> tuple[list[str], str]:
        texts, src = self.calibration()
        calib = self.calibration_cfg
        if not texts:
            where = src or ", ".join(str(p) for p in calib.paths)
            raise CostlabError(
                f"the calibration set is empty (no rows of ≥ {calib.min_tokens} tokens in {where})",
                "run generate_teacher first, or point quant.calibration.paths at a JSONL with text",
            )
        if len(texts) < calib.min_samples:
            raise CostlabError(
                f"the calibration set is too small: {len(texts)} rows < quant.calibration.min_samples="
                f"{calib.min_samples} (from {src})",
                "add teacher data or lower quant.calibration.min_samples",
            )
        return texts, str(src)


class QuantMethod:
    """Base class of a quantization method. Subclasses declare ``Params`` (a Schema) and implement ``variants``
    and ``build``; ``finish`` may clean up per-base intermediates."""

    class Params(Schema):
        pass

    def __init__(self, **params: Any):
        self.p = self.Params(**params)

    def variants(self, base: Base) -> list[VariantSpec]:
        raise NotImplementedError

    def build(self, base: Base, spec: VariantSpec, variant: Variant, var_dir: Path) -> dict[str, Any] | None:
        """Build ``spec`` into ``var_dir``; fill ``variant`` (path, size_mb, n_params, bits_per_weight,
        build_seconds, sanity). Raise CostlabError(what, fix) on a user-fixable failure. Returns provenance extras."""
        raise NotImplementedError

    def finish(self, base: Base) -> None:
        """Called once after every variant of ``base`` was tried."""
