"""configs/eval/*.yaml — measurement (evaluate stage), the tables built from it (build_tables) and the report.

Sections: top level + backends + stats + quality + fidelity + latency, tables + report.
``backends`` maps a runtime to an eval backend plug-in chosen by ``_target_`` (costlab.eval.backends).
"""

from typing import Literal, Optional

from costlab.schemas.base import Plugin, Schema


class StatsConfig(Schema):
    confidence: float
    n_boot: int


class QualityConfig(Schema):
    tasks_dir: str
    tasks: dict[str, str]
    limit: Optional[int]
    class_limits: Optional[dict[str, int]]
    apply_chat_template: bool


class FidelityConfig(Schema):
    source: str
    top_k: int
    seq_len: int
    max_tokens: int
    max_sequences: Optional[int]
    batch_size: int


class LatencyConfig(Schema):
    prompt_tokens: int
    new_tokens: int
    reps: int
    warmup: int
    concurrency: int


class TrafficConfig(Schema):
    requests_per_day: float
    avg_input_tokens: float
    avg_output_tokens: float


class TablesConfig(Schema):
    quality_floor: float
    hardware_profiles: list[str]
    utilization: float
    throughput: Literal["concurrency", "batch1"]
    price_share: Literal["used_threads", "whole_box"]
    price: Literal["usd_per_hour", "low", "high"]
    traffic: TrafficConfig
    local_endpoint: str
    api_endpoints: dict[str, str]
    include_api: bool
    litellm_provider: str


class WandbReportConfig(Schema):
    enabled: bool
    project: str
    mode: Literal["offline", "online", "disabled"]


class RoutingCurveConfig(Schema):
    strong: Optional[str]
    cheap: Optional[str]
    classifier: str
    points: int


class ReportConfig(Schema):
    runs: list[str]
    wandb: WandbReportConfig
    routing_curve: RoutingCurveConfig


class EvalConfig(Schema):
    reference: str
    variants: Optional[list[str]]
    isolate: bool
    variant_timeout_s: float
    threads: int
    backends: dict[str, Plugin]
    stats: StatsConfig
    quality: QualityConfig
    fidelity: FidelityConfig
    latency: LatencyConfig
    tables: TablesConfig
    report: ReportConfig
