"""configs/quant/*.yaml — the quantize stage (+ scripts/export_gguf.py's `export` section).

``methods`` maps a method name to a plug-in chosen by ``_target_`` (costlab.quant.method.QuantMethod); each
method class checks its own keys with its ``Params`` schema, so a new method needs no edit here.
"""

from typing import Literal, Optional

from costlab.schemas.base import Plugin, Schema


class CalibrationConfig(Schema):
    paths: list[str]
    n_samples: int
    min_samples: int
    max_tokens: int
    min_tokens: int


class SanityConfig(Schema):
    heldout_paths: list[str]
    max_tokens: int
    window: int
    gen_tokens: int
    prompt: str
    llama_threads: int


class ExportConfig(Schema):
    variant: Optional[str]
    base: Literal["teacher", "student"]
    type: str
    out_dir: str
    n_ctx: int
    threads: int
    host: str
    port: int


class QuantConfig(Schema):
    bases: list[Literal["teacher", "student"]]
    reference: bool
    strict: bool
    calibration: CalibrationConfig
    sanity: SanityConfig
    export: ExportConfig
    methods: dict[str, Plugin]
