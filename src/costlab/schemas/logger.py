"""configs/logger/*.yaml — experiment tracking (none | wandb)."""

from typing import Literal, Union

from pydantic import Field, RootModel

from costlab.schemas.base import Schema


class NoLoggerConfig(Schema):
    report_to: Literal["none"]


class WandbLoggerConfig(Schema):
    report_to: Literal["wandb"]
    project: str
    mode: Literal["offline", "online", "disabled"]
    dir: str
    tags: list[str]


class LoggerConfig(RootModel[Union[NoLoggerConfig, WandbLoggerConfig]]):
    root: Union[NoLoggerConfig, WandbLoggerConfig] = Field(discriminator="report_to")
