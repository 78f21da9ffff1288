"""configs/distill/*.yaml — KD training: teacher signal, loss (_target_), LoRA (_target_), trainer arguments."""

from typing import Literal, Optional

from pydantic import Field

from costlab.schemas.base import Schema, Target


class LossConfig(Target):
    kind: Literal["forward_kl", "reverse_kl", "jsd", "skew_kl"]
    temperature: float
    alpha: float
    beta: float = Field(gt=0.0, lt=1.0)  # JSD at beta 0 or 1 is identically 0 (costlab.distill.losses)
    skew: float = Field(ge=0.0, lt=1.0)  # skew KL at lambda 1 is identically 0


class LoraConfig(Target):
    r: int
    lora_alpha: int
    lora_dropout: float
    target_modules: list[str]
    task_type: str


class TrainerConfig(Schema):
    """Passed to transformers.TrainingArguments (activation_checkpointing → gradient_checkpointing)."""

    max_steps: int
    per_device_train_batch_size: int
    gradient_accumulation_steps: int
    learning_rate: float
    lr_scheduler_type: str
    warmup_steps: int
    weight_decay: float
    max_grad_norm: float
    logging_steps: int
    save_steps: int
    save_total_limit: Optional[int]
    dataloader_num_workers: int
    bf16: bool
    activation_checkpointing: bool
    ddp_find_unused_parameters: bool


class HealingConfig(Schema):
    """The healing report (costlab.distill.healing): every figure with n and an interval."""

    general_text: Optional[str]
    general_max_tokens: int = Field(ge=1)
    general_seq_len: int = Field(ge=2)
    tasks_dir: str
    mc_tasks: dict[str, str]
    mc_limit: int = Field(ge=1)
    apply_chat_template: bool
    confidence: float = Field(gt=0.0, lt=1.0)
    n_boot: int = Field(ge=1)


class DistillConfig(Schema):
    teacher_signal: Literal["online", "topk", "none"]
    method: Literal["full", "lora"]
    max_seq_len: int
    max_minutes: Optional[float]
    keep_checkpoints: bool
    keep_freed_memory: bool
    control: bool
    healing: HealingConfig
    loss: LossConfig
    lora: LoraConfig
    trainer: TrainerConfig
