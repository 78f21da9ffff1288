"""Fixtures for the quantization tests: a tiny random Llama whose rows are multiples of 256 (so K-quants apply as on
a real model) and its F16 GGUF made by the vendored llama.cpp converter."""

from __future__ import annotations

from pathlib import Path

import pytest

from costlab.config import PROJECT_ROOT

from .quant_helpers import CONVERTER, build_tiny


@pytest.fixture(scope="session")
def converter() -> Path:
    if not CONVERTER.is_file():  # `make test` builds it (make install); the unit tier does not need it
        pytest.skip(f"llama.cpp converter missing at {CONVERTER}: run `make {CONVERTER.relative_to(PROJECT_ROOT)}`")
    return CONVERTER


@pytest.fixture(scope="session")
def tiny256_dir(tmp_path_factory, tokenizer_dir) -> Path:
    return build_tiny(tmp_path_factory.mktemp("tiny256"), tokenizer_dir)


@pytest.fixture(scope="session")
def tiny256_f16(tmp_path_factory, tiny256_dir, converter) -> Path:
    from costlab.quant.gguf import convert_hf_to_gguf

    return convert_hf_to_gguf(tiny256_dir, tmp_path_factory.mktemp("gguf") / "tiny-F16.gguf", converter)
