"""configs/paths/*.yaml — every filesystem location (environment variables enter only here and costlab.paths)."""

from costlab.schemas.base import Schema


class PathsConfig(Schema):
    root_dir: str
    data_dir: str
    runs_dir: str
    cache_dir: str
    run_dir: str
