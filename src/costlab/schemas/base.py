"""Base classes of the config schemas: every model refuses unknown keys; ``Plugin`` is a ``_target_`` section."""

from __future__ import annotations

import importlib
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field


class Schema(BaseModel):
    """A config section: unknown keys are refused, values are typed. Defaults live in the YAML, not here."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, protected_namespaces=())


class Target(Schema):
    """A section instantiated with hydra.utils.instantiate: ``_target_`` (+ ``_partial_``) and typed kwargs."""

    target: str = Field(alias="_target_")
    partial: Optional[bool] = Field(None, alias="_partial_")


class Plugin(BaseModel):
    """A registered component chosen by ``_target_`` (e.g. a quantization method). Its own keys are checked by the
    target class's ``Params`` schema (``costlab.config.validate`` does it, naming the key and the YAML file), so
    adding a component is one module (class + Params) and one YAML — no edit here."""

    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)

    target: str = Field(alias="_target_")

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})

    def target_class(self) -> type:
        mod, _, name = self.target.rpartition(".")
        return getattr(importlib.import_module(mod), name)

    def instantiate(self) -> Any:
        """The component, built from its typed params (``cls(**Params(...))`` when the class declares Params)."""
        cls = self.target_class()
        return cls(**self.params)
