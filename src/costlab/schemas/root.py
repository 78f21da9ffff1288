"""configs/config.yaml's own keys (the top level of every composed config, next to the groups)."""

from costlab.schemas.base import Schema


class RootConfig(Schema):
    exp_name: str
    run_id: str
    seed: int
    threads: int
    stages: list[str]
