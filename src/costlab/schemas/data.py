"""configs/data/*.yaml — the prompt files (train / held-out)."""

from typing import Optional

from costlab.schemas.base import Schema


class DataConfig(Schema):
    train_file: str
    heldout_file: str
    max_train: Optional[int]
    max_heldout: Optional[int]
