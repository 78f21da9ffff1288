"""configs/serve/*.yaml — the cost gateway (`costlab serve`)."""

from typing import Literal, Optional

from pydantic import Field

from costlab.schemas.base import Schema


class ServerConfig(Schema):
    host: str
    port: int
    log_level: str


class CompressConfig(Schema):
    enabled: bool
    fillers: bool
    keep_last: Optional[int]


class ExactCacheConfig(Schema):
    enabled: bool
    ttl_s: float
    max_entries: int
    cache_sampled: bool


class SemanticCacheConfig(Schema):
    enabled: bool
    threshold: float
    ttl_s: float
    max_entries: int
    persist: bool
    guard: bool


class RouterConfig(Schema):
    classifier: Literal["keyword", "learned"]
    artifact: Optional[str]
    default_priority: Literal["cost", "quality", "speed"]
    max_classify_chars: int = Field(gt=0)
    classifier_timeout_s: float = Field(gt=0)


class BudgetLimits(Schema):
    daily_usd: Optional[float]
    monthly_usd: Optional[float]


class BudgetConfig(Schema):
    global_: BudgetLimits = Field(alias="global")
    on_exhausted: Literal["reject", "downgrade"]
    allow_below_floor: bool
    webhook: Optional[str]
    redis_fail_open: bool


class LedgerConfig(Schema):
    on_write_failure: Literal["auto", "reject", "serve"]
    retry_s: float = Field(gt=0)


class AuthConfig(Schema):
    allow_anonymous: Optional[bool]
    anonymous_budget: BudgetLimits
    metrics_public: bool
    keys_file: Optional[str]
    keys: list[dict]


class LimitsConfig(Schema):
    max_body_bytes: int = Field(gt=0)
    max_messages: int = Field(gt=0)
    max_depth: int = Field(gt=0)
    request_timeout_s: float = Field(gt=0)


class RequestConfig(Schema):
    forward_unknown: Optional[list[str]]


class StreamConfig(Schema):
    default_max_output_tokens: int
    max_output_tokens_cap: int


class UpstreamConfig(Schema):
    connect_timeout_s: float
    read_timeout_s: float
    retries: int
    backoff_s: float
    api_key_env: dict[str, str]
    stream_usage: bool


class LoggingConfig(Schema):
    log_prompts: bool
    log_keys: bool


class ServeConfig(Schema):
    server: ServerConfig
    tables_dir: str
    state_dir: str
    endpoints: dict[str, str]
    backend: Literal["sqlite", "redis"]
    redis_url: str
    redis_prefix: str
    threads: int
    tokenizers: dict[str, str]
    compress: CompressConfig
    exact_cache: ExactCacheConfig
    semantic_cache: SemanticCacheConfig
    router: RouterConfig
    budget: BudgetConfig
    ledger: LedgerConfig
    auth: AuthConfig
    limits: LimitsConfig
    request: RequestConfig
    stream: StreamConfig
    upstream: UpstreamConfig
    logging: LoggingConfig
