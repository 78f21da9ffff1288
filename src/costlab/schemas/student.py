"""configs/student/*.yaml — the student: a pruned teacher or a smaller pretrained model (chosen by _target_)."""

from typing import Literal, Optional, Union

from pydantic import Field, RootModel

from costlab.schemas.base import Schema


class PrunedStudentConfig(Schema):
    target: Literal["costlab.student.prune.PrunedStudent"] = Field(alias="_target_")
    drop_layers: int
    importance: Literal["drop_ppl", "block_influence"]
    shortlist: int
    mlp_width: Optional[int]
    calib_tokens: int
    calib_seq_len: int


class PretrainedStudentConfig(Schema):
    target: Literal["costlab.student.prune.PretrainedStudent"] = Field(alias="_target_")
    source: Literal["hf", "gguf"]
    path: str
    dtype: str
    cache_dir: str


class StudentConfig(RootModel[Union[PrunedStudentConfig, PretrainedStudentConfig]]):
    root: Union[PrunedStudentConfig, PretrainedStudentConfig] = Field(discriminator="target")
