"""Every YAML under configs/ composes: each group option on top of the root config, and each experiment."""

from pathlib import Path

import pytest
from hydra.errors import ConfigCompositionException
from omegaconf import OmegaConf

from costlab.config import CONFIG_DIR

# configs/eval/tasks: lm-eval task files; configs/accelerate: `accelerate launch --config_file` files. Neither is
# a Hydra config group.
NOT_HYDRA = {"tasks", "accelerate"}
GROUP_FILES = sorted(
    p
    for p in CONFIG_DIR.rglob("*.yaml")
    if p.parent != CONFIG_DIR and not NOT_HYDRA & set(p.relative_to(CONFIG_DIR).parts)
)


def _override(p: Path) -> str:
    rel = p.relative_to(CONFIG_DIR).with_suffix("")
    group, name = str(rel.parent), rel.name
    in_defaults = group in {
        "paths",
        "teacher",
        "teacher_data",
        "student",
        "data",
        "distill",
        "logger",
        "hardware",
        "pricing",
    }
    return f"{'' if in_defaults else '+'}{group}={name}"


def test_found_the_configs():
    groups = {p.relative_to(CONFIG_DIR).parts[0] for p in GROUP_FILES}
    assert {"teacher", "student", "data", "distill", "logger", "paths", "hardware", "pricing", "exp"} <= groups


@pytest.mark.parametrize("path", GROUP_FILES, ids=lambda p: str(p.relative_to(CONFIG_DIR)))
def test_every_config_composes_and_resolves(compose, path):
    cfg = compose([_override(path)])
    # deliberate '???' placeholders (paths the user must fill) are filled; then everything must resolve
    for key in OmegaConf.missing_keys(cfg):
        OmegaConf.update(cfg, key, "/filled/by/test")
    OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
    assert cfg.paths.run_dir


@pytest.mark.parametrize("exp", ["demo", "smoke", "qwen7b_to_05b"])
def test_experiments_compose_with_their_stages(compose, exp):
    cfg = compose([f"+exp={exp}"])
    from costlab.pipeline import STAGES

    assert cfg.exp_name == exp
    assert set(cfg.stages) <= set(STAGES), f"unknown stages in exp/{exp}: {set(cfg.stages) - set(STAGES)}"
    assert cfg.paths.run_dir.endswith(f"{exp}/main")


def test_reference_experiment_is_gpu_scale(compose):
    cfg = compose(["+exp=qwen7b_to_05b"])
    assert cfg.teacher.path == "Qwen/Qwen2.5-7B-Instruct"
    assert cfg.student.path == "Qwen/Qwen2.5-0.5B-Instruct"
    assert cfg.distill.method == "lora" and cfg.distill.trainer.bf16 is True


def test_unknown_key_and_group_are_rejected(compose):
    with pytest.raises(ConfigCompositionException):
        compose(["distill.lr=0.1"])  # not a key: struct mode refuses it
    with pytest.raises(ConfigCompositionException):
        compose(["+exp=nope"])


# ------------------------------------------------------------------------------------------ typed schemas
# group → (the override that selects it, a wrong-type override, the key it names, the YAML file it names)
WRONG_TYPE = {
    "root": ([], "seed=abc", "seed", "configs/config.yaml"),
    "paths": ([], "paths.run_dir=[a,b]", "paths.run_dir", "configs/paths/default.yaml"),
    "teacher": ([], "teacher.max_context=lots", "teacher.max_context", "configs/teacher/smollm2_gguf.yaml"),
    "teacher_data": (
        [],
        "teacher_data.max_new_tokens=many",
        "teacher_data.max_new_tokens",
        "configs/teacher_data/hf.yaml",
    ),
    "student": ([], "student.drop_layers=two", "student.drop_layers", "configs/student/pruned.yaml"),
    "data": ([], "data.max_train=all", "data.max_train", "configs/data/demo.yaml"),
    "distill": ([], "distill.trainer.max_steps=abc", "distill.trainer.max_steps", "configs/distill/kd_online.yaml"),
    "logger": (["logger=wandb"], "logger.mode=sometimes", "logger.mode", "configs/logger/wandb.yaml"),
    "hardware": ([], "hardware.threads=two", "hardware.threads", "configs/hardware/cpu_2core.yaml"),
    "pricing": ([], "pricing.max_age_days=old", "pricing.max_age_days", "configs/pricing/default.yaml"),
    "quant": (
        ["+quant=gguf"],
        "quant.calibration.n_samples=few",
        "quant.calibration.n_samples",
        "configs/quant/common.yaml",
    ),
    "quant method": (
        ["+quant=gguf"],
        "quant.methods.gguf.threads=two",
        "quant.methods.gguf.threads",
        "configs/quant/gguf.yaml",
    ),
    "eval": (["+eval=default"], "eval.reference=[a,b]", "eval.reference", "configs/eval/default.yaml"),
    "serve": (["+serve=default"], "serve.server.port=eighty", "serve.server.port", "configs/serve/default.yaml"),
}


@pytest.mark.parametrize("group", sorted(WRONG_TYPE))
def test_wrong_type_and_wrong_key_name_the_key_type_and_file(group):
    from costlab.config import compose
    from costlab.errors import CostlabError

    select, bad, key, file = WRONG_TYPE[group]
    with pytest.raises(CostlabError) as e:
        compose([*select, bad])
    msg = e.value.what
    assert f"{key} = " in msg and "expected " in msg and file in msg, msg
    assert msg.count("\n") == 1, msg  # one bad key → one line under the header
    # an unknown key next to the real one (added with '+', which struct mode lets through)
    parent, _, leaf = key.rpartition(".")
    unknown = f"{parent}.{leaf}_typo" if parent else f"{leaf}_typo"
    with pytest.raises(CostlabError) as e:
        compose([*select, f"+{unknown}=1"])
    msg = e.value.what
    assert f"{unknown}: unknown key" in msg and file in msg and leaf in msg.split("allowed here:")[1], msg


def test_every_experiment_and_group_option_validates():
    """Every experiment (and every quant/eval/serve option on top of the root config) matches the schemas."""
    from costlab.config import compose

    for exp in sorted(p.stem for p in (CONFIG_DIR / "exp").glob("*.yaml")):
        compose([f"+exp={exp}"])
    for path in GROUP_FILES:
        if path.parent.name != "exp":
            cfg = compose([_override(path)], check=False)
            for key in OmegaConf.missing_keys(cfg):
                OmegaConf.update(cfg, key, "/filled/by/test")
            from costlab.config import validate

            validate(cfg, {})


def test_typed_returns_the_group_model_and_names_a_missing_group():
    from costlab.config import compose, typed
    from costlab.errors import CostlabError
    from costlab.schemas import DistillConfig, EvalConfig

    cfg = compose(["+exp=demo"])
    ev = typed(cfg, "eval")
    assert isinstance(ev, EvalConfig) and isinstance(ev.latency.reps, int)
    d = typed(cfg, "distill")
    assert isinstance(d, DistillConfig) and d.trainer.max_steps == cfg.distill.trainer.max_steps
    assert type(typed(cfg, "student")).__name__ == "PrunedStudentConfig"
    with pytest.raises(CostlabError, match="not in this config"):
        typed(compose([]), "eval")


def test_run_fails_at_start_on_a_bad_key(tmp_path):
    """The edge: `costlab run` validates before any stage runs (exit 2, the key and the file, nothing written)."""
    import subprocess
    import sys

    p = subprocess.run(
        [sys.executable, "-m", "costlab", "run", f"paths.runs_dir={tmp_path}", "distill.trainer.max_steps=abc"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 2 and "distill.trainer.max_steps = 'abc'" in p.stderr
    assert "configs/distill/kd_online.yaml" in p.stderr and "Traceback" not in p.stderr
    assert not (tmp_path / "default" / "main" / "config.yaml").exists()  # (Hydra's own log dir is made first)
