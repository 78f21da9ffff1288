"""configs/teacher/*.yaml — the teacher model."""

from typing import Literal

from costlab.schemas.base import Schema


class TeacherConfig(Schema):
    name: str
    source: Literal["hf", "gguf"]
    path: str
    dtype: str
    max_context: int
