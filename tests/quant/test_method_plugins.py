"""Quantization methods are plug-ins chosen by `_target_`: a test-only method is one module + one config entry,
and the stage gives it everything the shipped ones get (variant.json, provenance, failure records, typed params)."""

from __future__ import annotations

import json

import pytest

from costlab.errors import CostlabError

FAKE = "+quant.methods.fake={_target_:tests.quant.fake_method.FakeMethod,copies:2,fail_second:true}"


def _overrides(tmp_path, teacher_dir):
    return [
        f"paths.runs_dir={tmp_path / 'runs'}",
        f"paths.cache_dir={tmp_path / 'cache'}",
        "run_id=p",
        "teacher=hf",
        "teacher.name=tiny",
        f"teacher.path={teacher_dir}",
        "teacher.dtype=float32",
        "threads=1",
        "+quant=gguf",
        "~quant.methods.gguf",
        FAKE,
        "quant.sanity.max_tokens=64",
        "quant.sanity.window=32",
        "quant.sanity.gen_tokens=2",
    ]


def test_a_new_method_is_one_module_and_one_config_entry(tmp_path, tiny_llama_dir):
    from costlab.config import compose
    from costlab.pipeline import open_run, run_stage

    from .quant_helpers import write_teacher_data

    cfg = compose(_overrides(tmp_path, tiny_llama_dir))
    run_dir = open_run(cfg)
    write_teacher_data(run_dir)
    metrics = run_stage(cfg, run_dir, "quantize")
    v = {p.parent.name: json.loads(p.read_text()) for p in (run_dir / "variants").glob("*/variant.json")}
    assert set(v) == {"teacher-hf", "teacher-fake0", "teacher-fake1"}
    assert v["teacher-fake0"]["status"] == "ok" and v["teacher-fake0"]["format"] == "fake"
    assert v["teacher-fake0"]["path"] == "variants/teacher-fake0" and v["teacher-fake0"]["quant"] == "c0"
    assert v["teacher-fake1"]["status"] == "failed" and "fake failure" in v["teacher-fake1"]["error"]
    prov = json.loads((run_dir / "variants" / "teacher-fake0" / "provenance.json").read_text())
    assert prov["fake_index"] == 0 and prov["config"]["quant"]["methods"]["fake"]["copies"] == 2
    assert metrics["n_ok"] == 2 and metrics["n_failed"] == 1


def test_the_methods_own_keys_are_typed(tmp_path, tiny_llama_dir):
    from costlab.config import compose

    with pytest.raises(CostlabError) as e:
        compose(_overrides(tmp_path, tiny_llama_dir) + ["+quant.methods.fake.copiez=3", "quant.methods.fake.copies=x"])
    assert (
        "quant.methods.fake.copiez: unknown key" in e.value.what and "allowed here: copies, fail_second" in e.value.what
    )
    assert "quant.methods.fake.copies = 'x': expected int" in e.value.what
    with pytest.raises(CostlabError, match=r"quant.methods.nope._target_ = 'tests.quant.nope.X': cannot be imported"):
        compose(_overrides(tmp_path, tiny_llama_dir) + ["+quant.methods.nope={_target_:tests.quant.nope.X}"])


def test_missing_quant_group_is_a_clear_error(compose, tmp_path):
    from costlab.quant.stage import run_stage

    cfg = compose([f"paths.runs_dir={tmp_path}"])
    with pytest.raises(CostlabError, match="needs a `quant` config group") as e:
        run_stage(cfg, tmp_path, tmp_path / "variants")
    assert "+quant=gguf" in e.value.fix


@pytest.mark.parametrize("name", ["gguf", "bnb", "gptq", "awq", "all", "gguf_bnb"])
def test_every_quant_option_composes(compose, name):
    cfg = compose([f"+quant={name}"])  # (the conftest fixture: plain Hydra compose, no validation)
    from costlab.config import typed

    assert all(p.target_class() for p in typed(cfg, "quant").methods.values())
    assert set(cfg.quant) >= {"bases", "reference", "strict", "calibration", "sanity", "export", "methods"}
    assert cfg.quant.methods, name
