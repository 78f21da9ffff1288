"""Every YAML under configs/ composes: each group option on top of the root config, and each experiment."""

from pathlib import Path

import pytest
from hydra.errors import ConfigCompositionException
from omegaconf import OmegaConf

from costlab.config import CONFIG_DIR

GROUP_FILES = sorted(p for p in CONFIG_DIR.rglob("*.yaml") if p.parent != CONFIG_DIR
                     and "tasks" not in p.relative_to(CONFIG_DIR).parts)


def _override(p: Path) -> str:
    rel = p.relative_to(CONFIG_DIR).with_suffix("")
    group, name = str(rel.parent), rel.name
    in_defaults = group in {"paths", "teacher", "teacher_data", "student", "data", "distill", "logger", "hardware",
                            "pricing"}
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
