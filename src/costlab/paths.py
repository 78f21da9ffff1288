"""Where things are, and the environment every process runs in — the one place for both.

- ``PROJECT_ROOT`` / ``CONFIG_DIR`` / ``DATA_DIR``: the repo checkout (src/costlab/paths.py → two levels up).
  Configs reach it as ``${project_root:}`` (configs/paths/default.yaml), code imports it from here.
- ``cache_dir()``: the one cache dir outside run dirs (``$COSTLAB_CACHE_DIR`` or ``<repo>/.cache``): the HF home,
  dequantized GGUF teachers, the llama.cpp converter, the GPTQ venv, wandb's own cache. Everything a *run* makes
  lives in its run dir (configs/paths/default.yaml ``run_dir``).
- ``offline_env()``: the environment variables that keep libraries off the network and quiet (HF Hub, datasets,
  tokenizers' fork warning, LiteLLM's price map, wandb's banners). Entry points call ``set_offline_env()``; a
  subprocess gets ``offline_env()``.
- ``env(name)``: every environment variable costlab reads is listed in ``ENV_VARS`` and read here, nowhere else
  (configs read theirs only in configs/paths/default.yaml). ``secret(var)`` reads an API key from the variable a
  config names (``api_key_env``): keys are read when used and never enter a config, so no run dir stores one.
  ``set_env`` sets a library's variable in this process (tiktoken's offline cache dir).
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = PROJECT_ROOT / "configs"
DATA_DIR = PROJECT_ROOT / "data"

# No network (the HF Hub is unreachable from the reference box, and a run must not depend on it) and no
# tokenizers fork warning / deadlock when a DataLoader or a worker process forks.
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # litellm reads its bundled price map, never fetches it at import
    "WANDB_SILENT": "true",  # one wandb run per variant: keep wandb's banners out of the log
}

# Every environment variable costlab reads (the config reads COSTLAB_RUNS_DIR, COSTLAB_CACHE_DIR,
# COSTLAB_TEACHER_BASE_URL and WANDB_MODE in configs/paths/default.yaml; code reads the rest through env()).
ENV_VARS = {
    "COSTLAB_CACHE_DIR": "the one cache dir outside run dirs (default <repo>/.cache)",
    "COSTLAB_RUNS_DIR": "where runs/<exp>/<run_id>/ are created (configs/paths: runs_dir)",
    "COSTLAB_TEACHER_BASE_URL": "teacher_data=openai's endpoint (configs/paths: teacher_base_url)",
    "WANDB_MODE": "offline | online | disabled (configs/paths: wandb_mode)",
    "OPENAI_API_KEY": "the Batch API runner's key when --api-key is not given (read when used, never stored)",
    "TIKTOKEN_CACHE_DIR": "where tiktoken's BPE files are cached (costlab.cost.compress looks there first)",
    "DATA_GYM_CACHE_DIR": "tiktoken's older name for TIKTOKEN_CACHE_DIR",
}


def env(name: str, default: str | None = None) -> str | None:
    """The value of environment variable ``name`` (one of ``ENV_VARS``), or ``default`` when unset or empty."""
    if name not in ENV_VARS:
        raise KeyError(f"{name} is not in costlab.paths.ENV_VARS: list it there with what it sets")
    return os.environ.get(name) or default


def secret(var: str) -> str | None:
    """An API key from the environment variable ``var`` that a config names (``api_key_env``), or None."""
    return os.environ.get(var) or None


def set_env(name: str, value: str, override: bool = False) -> None:
    """Set ``name`` (one of ``ENV_VARS``) for this process and its children; a value already set wins unless
    ``override``."""
    if name not in ENV_VARS:
        raise KeyError(f"{name} is not in costlab.paths.ENV_VARS: list it there with what it sets")
    if override:
        os.environ[name] = value
    else:
        os.environ.setdefault(name, value)


def cache_dir() -> Path:
    """The one documented cache dir (not per run): $COSTLAB_CACHE_DIR, else <repo>/.cache."""
    return Path(env("COSTLAB_CACHE_DIR") or PROJECT_ROOT / ".cache")


def offline_env(base: dict[str, str] | None = None, drop: tuple[str, ...] = ()) -> dict[str, str]:
    """``base`` (default: os.environ) without ``drop`` plus the offline variables (user-set values win): the
    environment of a subprocess."""
    env = {k: v for k, v in (os.environ if base is None else base).items() if k not in drop}
    for k, v in OFFLINE_ENV.items():
        env.setdefault(k, v)
    return env


def set_offline_env() -> None:
    """Set the offline variables in this process (user-set values win). Called by every entry point."""
    for k, v in OFFLINE_ENV.items():
        os.environ.setdefault(k, v)
