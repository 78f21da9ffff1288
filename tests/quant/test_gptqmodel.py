"""GPTQ and AWQ through GPTQModel on a tiny random Llama, in the separate venv made by `make venv-gptq`.

Skipped (with the reason) when that venv does not exist: gptqmodel pins numpy 2.2.6, so it is not in the project venv.
"""

from __future__ import annotations

import json
import math

import pytest

from costlab.config import PROJECT_ROOT

from .quant_helpers import write_teacher_data

VENV_PY = PROJECT_ROOT / ".cache" / "venv-gptq" / "bin" / "python"

pytestmark = [
    pytest.mark.integration,
    pytest.mark.llama_cpp,
    pytest.mark.gptq,
    pytest.mark.skipif(not VENV_PY.is_file(), reason=f"no {VENV_PY}: run `make venv-gptq`"),
]


def test_gptq_and_awq_build_reload_and_generate(compose, tmp_path, tiny256_dir):
    from costlab.pipeline import open_run, run_stage

    cfg = compose(
        [
            f"paths.runs_dir={tmp_path / 'runs'}",
            f"paths.cache_dir={PROJECT_ROOT / '.cache'}",
            "run_id=g",
            "teacher=hf",
            f"teacher.path={tiny256_dir}",
            "teacher.dtype=float32",
            "threads=1",
            "+quant=all",
            "~quant.methods.gguf",
            "~quant.methods.bnb",
            "quant.reference=false",
            "quant.calibration.n_samples=4",
            "quant.calibration.max_tokens=64",
            "quant.sanity.max_tokens=64",
            "quant.sanity.window=64",
            "quant.sanity.gen_tokens=4",
        ]
    )
    run_dir = open_run(cfg)
    write_teacher_data(run_dir)
    run_stage(cfg, run_dir, "quantize")
    for name, fmt in (("teacher-gptq-w4g64", "gptq"), ("teacher-awq-w4g64", "awq")):
        v = json.loads((run_dir / "variants" / name / "variant.json").read_text())
        assert v["status"] == "ok", v["error"]
        assert v["format"] == fmt and v["backend"] == "gptqmodel" and math.isfinite(v["sanity"]["ppl"])
        assert v["sanity"]["sample"] is not None and 3 < v["bits_per_weight"] < 32
        qc = json.loads((run_dir / v["path"] / "quantize_config.json").read_text())
        assert qc["bits"] == 4 and qc["group_size"] == 64 and qc["quant_method"] == fmt
