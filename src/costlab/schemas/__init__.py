"""Typed config schemas: one pydantic model per config group (configs/<group>/), registered here.

The YAML files hold the values (and the comments saying what each costs or buys); these models hold the types
and the set of allowed keys — no default is stated in both places. ``costlab.config.validate(cfg)`` checks a
composed config once, at the edge (pipeline start, `costlab serve`), and fails with one message naming each bad
key, the expected type and the YAML file; ``costlab.config.typed(cfg, "eval")`` returns the typed section.

Adding a key to configs/<group>/*.yaml means adding it to src/costlab/schemas/<group>.py in the same commit.
"""

from __future__ import annotations

from pydantic import BaseModel

from costlab.schemas.base import Plugin, Schema, Target
from costlab.schemas.data import DataConfig
from costlab.schemas.distill import DistillConfig
from costlab.schemas.eval import EvalConfig
from costlab.schemas.hardware import HardwareConfig
from costlab.schemas.logger import LoggerConfig
from costlab.schemas.paths import PathsConfig
from costlab.schemas.pricing import PricingConfig
from costlab.schemas.quant import QuantConfig
from costlab.schemas.root import RootConfig
from costlab.schemas.serve import ServeConfig
from costlab.schemas.student import StudentConfig
from costlab.schemas.teacher import TeacherConfig
from costlab.schemas.teacher_data import TeacherDataConfig

# config group (configs/<group>/) → its schema. Groups not in configs/config.yaml's defaults (quant, eval, serve)
# are validated when an experiment or the command line adds them.
GROUPS: dict[str, type[BaseModel]] = {
    "paths": PathsConfig,
    "teacher": TeacherConfig,
    "teacher_data": TeacherDataConfig,
    "student": StudentConfig,
    "data": DataConfig,
    "distill": DistillConfig,
    "logger": LoggerConfig,
    "hardware": HardwareConfig,
    "pricing": PricingConfig,
    "quant": QuantConfig,
    "eval": EvalConfig,
    "serve": ServeConfig,
}


def register_group(name: str, schema: type[BaseModel]) -> None:
    """A new config group: its schema (validated like the built-in ones)."""
    GROUPS[name] = schema


__all__ = [
    "GROUPS",
    "Plugin",
    "RootConfig",
    "Schema",
    "Target",
    "register_group",
    *(m.__name__ for m in GROUPS.values()),
]
