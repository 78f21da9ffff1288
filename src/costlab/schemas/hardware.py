"""configs/hardware/*.yaml — a hardware profile: what it rents for (the one home of hourly prices) and threads."""

from typing import Literal, Union

from pydantic import Field, RootModel

from costlab.schemas.base import Schema


class CpuHardwareConfig(Schema):
    name: str
    kind: Literal["cpu"]
    usd_per_hour: float
    usd_per_hour_range: tuple[float, float]
    threads: int
    memory_gb: float


class GpuHardwareConfig(Schema):
    name: str
    kind: Literal["gpu"]
    gpu: str
    gpu_memory_gb: float
    usd_per_hour: float
    usd_per_hour_range: tuple[float, float]
    threads: int


class HardwareConfig(RootModel[Union[CpuHardwareConfig, GpuHardwareConfig]]):
    root: Union[CpuHardwareConfig, GpuHardwareConfig] = Field(discriminator="kind")
