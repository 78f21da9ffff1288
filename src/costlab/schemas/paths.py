"""configs/paths/*.yaml — every location (files, endpoints); environment variables enter only here and in costlab.paths."""

from typing import Literal

from costlab.schemas.base import Schema


class PathsConfig(Schema):
    root_dir: str
    data_dir: str
    runs_dir: str
    cache_dir: str
    run_dir: str
    teacher_base_url: str
    wandb_mode: Literal["offline", "online", "disabled"]
