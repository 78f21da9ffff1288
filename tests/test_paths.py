"""costlab.paths: environment variables enter in one place (code: costlab.paths; configs: configs/paths), and an
API key never enters a resolved config (the run dir's config.yaml)."""

from __future__ import annotations

import json
import re

import pytest

from costlab import paths
from costlab.config import compose, to_container

ROOT = paths.PROJECT_ROOT
ENV_READ = re.compile(r"os\.environ|os\.getenv|os\.putenv|oc\.env:")
# The one place for code and the one place for configs.
HOME = {"src/costlab/paths.py", "configs/paths/default.yaml"}
# Justified exceptions (each says why).
EXCEPTIONS = {
    # runs as a script in the GPTQ venv and sets a library knob from its spec before torch is imported
    "src/costlab/quant/gptq_worker.py",
}


def test_environment_variables_enter_in_one_place():
    files = [*ROOT.glob("src/**/*.py"), *ROOT.glob("configs/**/*.yaml")]
    files += [*ROOT.glob("benchmarks/**/*.py"), *ROOT.glob("scripts/**/*.py"), *ROOT.glob("data/**/*.py")]
    hits = sorted(
        f"{f.relative_to(ROOT)}:{i}: {line.strip()}"
        for f in files
        if str(f.relative_to(ROOT)) not in HOME | EXCEPTIONS
        for i, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1)
        if ENV_READ.search(line)
    )
    assert not hits, "read env vars through costlab.paths (env/secret/set_env) or configs/paths:\n" + "\n".join(hits)


def test_every_env_var_the_configs_read_is_listed_in_ENV_VARS():
    names = set(re.findall(r"oc\.env:(\w+)", (ROOT / "configs/paths/default.yaml").read_text()))
    assert names and names <= set(paths.ENV_VARS), names - set(paths.ENV_VARS)


def test_env_refuses_an_unlisted_variable():
    with pytest.raises(KeyError, match="ENV_VARS"):
        paths.env("SOME_UNLISTED_VARIABLE")
    with pytest.raises(KeyError, match="ENV_VARS"):
        paths.set_env("SOME_UNLISTED_VARIABLE", "1")


def test_offline_env_keeps_litellm_off_the_network_and_drops_what_it_is_told():
    env = paths.offline_env({"NO_LOCAL_GGUF": "1", "HF_HUB_OFFLINE": "0"}, drop=("NO_LOCAL_GGUF",))
    assert env["LITELLM_LOCAL_MODEL_COST_MAP"] == "True" and env["HF_HUB_OFFLINE"] == "0"  # the user's value wins
    assert "NO_LOCAL_GGUF" not in env


def test_openai_teacher_key_never_enters_the_resolved_config(monkeypatch):
    """Regression: teacher_data=openai resolved ${oc.env:OPENAI_API_KEY} into the config, so the key was written
    into the run dir's config.yaml. Now the config names the variable and the backend reads it when it is made."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret-1234")
    monkeypatch.setenv("COSTLAB_TEACHER_BASE_URL", "http://teacher.test:9/v1")
    cfg = compose(["teacher_data=openai"])
    resolved = json.dumps(to_container(cfg))
    assert "sk-test-secret-1234" not in resolved
    assert cfg.teacher_data.backend.base_url == "http://teacher.test:9/v1"  # entered through configs/paths

    from hydra.utils import instantiate

    from costlab.teacher.generate import GenParams

    backend = instantiate(cfg.teacher_data.backend)(gen=GenParams(8, False, 1.0, 2, 1.0))
    assert backend.client.api_key == "sk-test-secret-1234"
    monkeypatch.delenv("OPENAI_API_KEY")
    backend = instantiate(cfg.teacher_data.backend)(gen=GenParams(8, False, 1.0, 2, 1.0))
    assert backend.client.api_key == "sk-no-key"  # local servers accept any key
