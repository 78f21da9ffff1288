"""Where things are, and the environment every process runs in — the one place for both.

- ``PROJECT_ROOT`` / ``CONFIG_DIR`` / ``DATA_DIR``: the repo checkout (src/costlab/paths.py → two levels up).
  Configs reach it as ``${project_root:}`` (configs/paths/default.yaml), code imports it from here.
- ``cache_dir()``: the one cache dir outside run dirs (``$COSTLAB_CACHE_DIR`` or ``<repo>/.cache``): the HF home,
  dequantized GGUF teachers, the llama.cpp converter, the GPTQ venv, wandb's own cache. Everything a *run* makes
  lives in its run dir (configs/paths/default.yaml ``run_dir``).
- ``offline_env()``: the environment variables that keep libraries off the network and quiet (HF Hub, datasets,
  tokenizers' fork warning). Entry points call ``set_offline_env()``; a subprocess gets ``offline_env()``.
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
}


def cache_dir() -> Path:
    """The one documented cache dir (not per run): $COSTLAB_CACHE_DIR, else <repo>/.cache."""
    return Path(os.environ.get("COSTLAB_CACHE_DIR") or PROJECT_ROOT / ".cache")


def offline_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: os.environ) plus the offline variables; values already set by the user win."""
    env = dict(os.environ if base is None else base)
    for k, v in OFFLINE_ENV.items():
        env.setdefault(k, v)
    return env


def set_offline_env() -> None:
    """Set the offline variables in this process (user-set values win). Called by every entry point."""
    for k, v in OFFLINE_ENV.items():
        os.environ.setdefault(k, v)
