"""The quantize stage end to end on a tiny random teacher: variants, their records, and failures that stay local."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from costlab.errors import CostlabError

from .quant_helpers import write_teacher_data

pytestmark = pytest.mark.llama_cpp
pytest.importorskip("llama_cpp")

SCHEMA = {
    "name",
    "base",
    "format",
    "quant",
    "path",
    "backend",
    "status",
    "error",
    "size_mb",
    "bits_per_weight",
    "n_params",
    "build_seconds",
    "sanity",
}


def overrides(tmp_path: Path, teacher_dir: Path, converter: Path, quant: str = "all") -> list[str]:
    return [
        f"paths.runs_dir={tmp_path / 'runs'}",
        f"paths.cache_dir={tmp_path / 'cache'}",
        "run_id=t",
        "teacher=hf",
        f"teacher.path={teacher_dir}",
        "teacher.dtype=float32",
        "threads=1",
        f"+quant={quant}",
        f"quant.methods.gguf.converter={converter}",
        "quant.methods.gguf.threads=1",
        "quant.sanity.max_tokens=128",
        "quant.sanity.window=64",
        "quant.sanity.gen_tokens=4",
        "quant.sanity.llama_threads=1",
    ]


def variants(run_dir: Path) -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text()) for p in (run_dir / "variants").glob("*/variant.json")}


def test_stage_builds_variants_and_records_failures(compose, tmp_path, tiny256_dir, converter):
    from costlab.pipeline import open_run, run_stage

    cfg = compose(
        overrides(tmp_path, tiny256_dir, converter)
        + [
            "quant.methods.gguf.types=[Q8_0,Q4_K_M,Q9_X]",  # Q9_X: unknown type
            "quant.methods.bnb.modes=[int8,nf4]",
            f"quant.methods.gptq.python={tmp_path / 'no-venv' / 'bin' / 'python'}",  # library not installed
            "~quant.methods.awq",
        ]
    )
    run_dir = open_run(cfg)
    write_teacher_data(run_dir)
    metrics = run_stage(cfg, run_dir, "quantize")
    v = variants(run_dir)
    assert set(v) == {
        "teacher-hf",
        "teacher-Q8_0",
        "teacher-Q4_K_M",
        "teacher-Q9_X",
        "teacher-bnb-int8",
        "teacher-bnb-nf4-dq",
        "teacher-gptq-w4g64",
    }  # no student dir → only the teacher, no student-*
    for name, rec in v.items():
        assert set(rec) == SCHEMA, name
        assert (run_dir / "variants" / name / "provenance.json").is_file()
    ok = {n for n, r in v.items() if r["status"] == "ok"}
    assert ok == {"teacher-hf", "teacher-Q8_0", "teacher-Q4_K_M", "teacher-bnb-int8", "teacher-bnb-nf4-dq"}
    for n in ok:
        r = v[n]
        assert math.isfinite(r["sanity"]["ppl"]) and r["sanity"]["n_tokens"] > 100 and r["error"] is None
        assert r["size_mb"] > 0 and r["bits_per_weight"] > 0 and r["n_params"] > 0
        assert (run_dir / r["path"]).exists()
    assert v["teacher-Q8_0"]["path"] == "variants/teacher-Q8_0/teacher-Q8_0.gguf"
    assert v["teacher-Q4_K_M"]["bits_per_weight"] < v["teacher-Q8_0"]["bits_per_weight"] < 9
    assert v["teacher-hf"]["format"] == "hf" and 31.9 < v["teacher-hf"]["bits_per_weight"] < 32.1
    assert v["teacher-bnb-nf4-dq"]["size_mb"] < v["teacher-bnb-int8"]["size_mb"] < v["teacher-hf"]["size_mb"]
    # Q8_0 stays close to fp32 on the same held-out tokens
    assert abs(math.log(v["teacher-Q8_0"]["sanity"]["ppl"] / v["teacher-hf"]["sanity"]["ppl"])) < 0.05
    bad = v["teacher-Q9_X"]
    assert bad["status"] == "failed" and "unknown GGUF quant type 'Q9_X'" in bad["error"] and "fix:" in bad["error"]
    assert bad["size_mb"] is None and bad["sanity"] == {}
    gptq = v["teacher-gptq-w4g64"]
    assert (
        gptq["status"] == "failed"
        and "gptqmodel is not installed" in gptq["error"]
        and "make venv-gptq" in gptq["error"]
    )
    assert metrics["n_ok"] == 5 and metrics["n_failed"] == 2 and "student" in metrics["skipped_bases"]
    assert json.loads((run_dir / "variants" / "stage.json").read_text())["status"] == "done"
    assert len(json.loads((run_dir / "variants" / "index.json").read_text())) == 7
    # the bnb dir reloads with plain transformers and generates
    from costlab.models import load_tokenizer
    from costlab.quant.bnb import load_bnb
    from costlab.quant.sanity import hf_generate

    model = load_bnb(run_dir / v["teacher-bnb-nf4-dq"]["path"])
    _, new = hf_generate(model, load_tokenizer(str(run_dir / v["teacher-bnb-nf4-dq"]["path"])), "Hi", 3)
    assert len(new) == 3


def test_empty_calibration_fails_only_calibrated_variants(compose, tmp_path, tiny256_dir, converter):
    from costlab.pipeline import open_run, run_stage

    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    cfg = compose(
        overrides(tmp_path, tiny256_dir, converter, quant="gguf")
        + ["quant.methods.gguf.types=[Q8_0]", "quant.methods.gguf.imatrix=true", f"quant.calibration.paths=[{empty}]"]
    )
    run_dir = open_run(cfg)
    write_teacher_data(run_dir)
    run_stage(cfg, run_dir, "quantize")
    v = variants(run_dir)
    assert v["teacher-hf"]["status"] == "ok"
    assert v["teacher-Q8_0-imat"]["status"] == "failed"
    assert "calibration set is empty" in v["teacher-Q8_0-imat"]["error"]


def test_imatrix_variant_and_student_base(compose, tmp_path, tiny256_dir, converter):
    """A student dir in the run is picked up; imatrix from teacher data makes an IQ2_XXS that loads."""
    import shutil

    from costlab.pipeline import open_run, run_stage

    cfg = compose(
        overrides(tmp_path, tiny256_dir, converter, quant="gguf")
        + ["quant.bases=[student]", "quant.methods.gguf.types=[IQ2_XXS]", "quant.methods.gguf.imatrix=true"]
    )
    run_dir = open_run(cfg)
    write_teacher_data(run_dir)
    shutil.copytree(tiny256_dir, run_dir / "student" / "merged")
    run_stage(cfg, run_dir, "quantize")
    v = variants(run_dir)
    assert set(v) == {"student-hf", "student-IQ2_XXS-imat"}
    assert v["student-IQ2_XXS-imat"]["status"] == "ok", v["student-IQ2_XXS-imat"]["error"]
    assert v["student-hf"]["path"] == "student/merged" and v["student-hf"]["base"] == "student"
    prov = json.loads((run_dir / "variants" / "student-IQ2_XXS-imat" / "provenance.json").read_text())
    assert prov["imatrix"] is True and prov["imatrix_source"].endswith("teacher_data/train.jsonl")


def test_non_finite_perplexity_fails_the_variant(compose, tmp_path, tokenizer_dir, converter):
    """A model with a NaN weight converts and loads, but its perplexity is NaN: recorded as failed, not a result."""
    import torch
    from safetensors.torch import load_file, save_file

    from costlab.pipeline import open_run, run_stage

    from .quant_helpers import build_tiny

    bad = build_tiny(tmp_path / "nan-model", tokenizer_dir, num_hidden_layers=1)
    sd = load_file(bad / "model.safetensors")
    sd["model.layers.0.mlp.down_proj.weight"][0, 0] = float("nan")
    save_file(sd, bad / "model.safetensors", metadata={"format": "pt"})
    cfg = compose(overrides(tmp_path, bad, converter, quant="gguf") + ["quant.methods.gguf.types=[F16]"])
    run_dir = open_run(cfg)
    write_teacher_data(run_dir)
    metrics = run_stage(cfg, run_dir, "quantize")
    v = variants(run_dir)
    for name in ("teacher-hf", "teacher-F16"):
        assert v[name]["status"] == "failed" and "not finite" in v[name]["error"], v[name]
    assert metrics["n_ok"] == 0
    assert torch.isnan(sd["model.layers.0.mlp.down_proj.weight"]).any()
    # quant.strict=true: the stage itself fails once every variant has been tried
    from costlab.quant.stage import run_stage as quant_stage

    strict = compose(
        overrides(tmp_path, bad, converter, quant="gguf") + ["quant.methods.gguf.types=[]", "quant.strict=true"]
    )
    with pytest.raises(CostlabError, match=r"1 variant\(s\) failed: \['teacher-hf'\]"):
        quant_stage(strict, run_dir, tmp_path / "strict-variants")
    assert json.loads((tmp_path / "strict-variants" / "teacher-hf" / "variant.json").read_text())["status"] == "failed"
