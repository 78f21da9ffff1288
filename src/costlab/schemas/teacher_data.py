"""configs/teacher_data/*.yaml — how teacher responses + top-k log-probs are generated."""

from typing import Literal, Union

from pydantic import Field

from costlab.schemas.base import Schema


class HFBackendConfig(Schema):
    target: Literal["costlab.teacher.generate.HFBackend"] = Field(alias="_target_")
    partial: bool = Field(alias="_partial_")
    batch_size: int


class OpenAIBackendConfig(Schema):
    target: Literal["costlab.teacher.generate.OpenAIBackend"] = Field(alias="_target_")
    partial: bool = Field(alias="_partial_")
    base_url: str
    api_key_env: str
    model: str
    concurrency: int
    timeout_s: float
    max_retries: int
    request_logprobs: bool


class TeacherDataConfig(Schema):
    backend: Union[HFBackendConfig, OpenAIBackendConfig] = Field(discriminator="target")
    max_new_tokens: int
    do_sample: bool
    temperature: float
    top_k_logprobs: int
    logprob_temperature: float
    truncated_rows: Literal["keep", "drop"]
