"""The gateway's settings: configs/serve/default.yaml composed through Hydra like the pipeline (interpolations such
as ``${paths.run_dir}`` resolve), validated once by ``costlab.schemas.serve.ServeConfig``. Defaults live only in
the YAML; code reads the typed fields.
"""

from __future__ import annotations

from typing import Any, Iterable

from costlab.schemas.serve import ServeConfig


def load_settings(overrides: Iterable[str] = ()) -> ServeConfig:
    """Compose ``config`` + ``+serve=default`` (unless the overrides pick a serve config) + ``overrides``."""
    from costlab.config import compose, typed

    ov = list(overrides)
    if not any(o.lstrip("+~").split("=")[0] == "serve" for o in ov):
        ov.insert(0, "+serve=default")
    cfg = compose(ov)
    return typed(cfg, "serve")


def _merge(base: dict, patch: dict) -> dict:
    out = dict(base)
    for k, v in patch.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def with_changes(settings: ServeConfig, patch: dict[str, Any]) -> ServeConfig:
    """A copy with nested ``patch`` values applied and validated again (tests, benchmarks)."""
    return ServeConfig.model_validate(_merge(settings.model_dump(by_alias=True), patch))
