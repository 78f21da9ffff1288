"""Decoder families the pruner knows, and the checks that stop bad input before anything is written.

A family is a transformers ``model_type`` whose decoder is ``model.model.layers`` (a ModuleList of blocks with
``self_attn`` and ``mlp.down_proj``). The MLP comes in two layouts: ``split`` (``gate_proj`` + ``up_proj``) and
``fused`` (Phi-3's ``gate_up_proj``, gate rows first). Per-layer config lists (``layer_types``) are kept in sync
by :func:`costlab.student.prune.set_layers`. The tested matrix (tiny random models, prune → KD → GGUF → llama.cpp)
is tests/families; docs/families.md has the results and what llama.cpp's converter does not support.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from costlab.errors import CostlabError


@dataclass(frozen=True)
class Family:
    model_type: str
    mlp: str  # split | fused
    quirks: str  # what pruning must preserve (documentation; tests/families checks each survives)


FAMILIES: dict[str, Family] = {
    f.model_type: f
    for f in [
        Family("llama", "split", "GQA, tied embeddings on small models"),
        Family("mistral", "split", "GQA, sliding-window attention"),
        Family("qwen2", "split", "GQA, q/k/v bias, layer_types (sliding window above max_window_layers)"),
        Family("qwen3", "split", "GQA, q/k RMSNorm, explicit head_dim, layer_types"),
        Family("gemma", "split", "MQA/GQA, embedding scaled by sqrt(hidden), tied embeddings"),
        Family(
            "gemma2",
            "split",
            "layer_types alternating sliding/full, attention and final logit soft-capping, "
            "pre/post feed-forward norms, tied embeddings",
        ),
        Family(
            "gemma3_text", "split", "layer_types (5 sliding : 1 full), q/k norm, local/global RoPE, tied embeddings"
        ),
        Family("phi3", "fused", "fused qkv_proj and gate_up_proj, sliding window"),
    ]
}


def _describe(config, model=None) -> str:
    archs = (config.get("architectures") if isinstance(config, dict) else getattr(config, "architectures", None)) or []
    arch = type(model).__name__ if model is not None else (archs[0] if archs else type(config).__name__)
    return f"{arch} (model_type '{_get(config, 'model_type')}')"


def family_of(config_or_model, name: str = "teacher") -> Family:
    """The pruner's Family for a transformers model or config; CostlabError naming the model and the fix otherwise."""
    model = config_or_model if hasattr(config_or_model, "config") else None
    config = model.config if model is not None else config_or_model
    mt = getattr(config, "model_type", None)
    if mt not in FAMILIES:
        raise CostlabError(
            f"{name}: {_describe(config, model)} is not supported by the pruner (supported model_types: "
            f"{', '.join(sorted(FAMILIES))})",
            "use student=pretrained with a smaller model that shares the teacher's tokenizer, or a teacher from a "
            "supported family (docs/families.md)",
        )
    return FAMILIES[mt]


def read_config(path: str | Path) -> dict[str, Any] | None:
    """config.json of a local HF dir as a dict (None when there is none, e.g. a LoRA-only checkpoint)."""
    f = Path(path) / "config.json"
    return json.loads(f.read_text()) if f.is_file() else None


# What must match between a saved model and the one a run expects (a different family or a different shape
# cannot be resumed from, and loading it would silently train the wrong model).
SHAPE_KEYS = ("model_type", "hidden_size", "num_attention_heads", "num_key_value_heads", "vocab_size")
STUDENT_KEYS = SHAPE_KEYS + ("num_hidden_layers", "intermediate_size")


def _get(cfg, k):
    return cfg.get(k) if isinstance(cfg, dict) else getattr(cfg, k, None)


def check_same_model(
    saved_dir: str | Path, expected, keys: tuple[str, ...], what: str, expected_name: str, fix: str
) -> None:
    """Refuse a saved model dir (init/, a checkpoint) whose config differs from ``expected`` on ``keys``."""
    saved = read_config(saved_dir)
    if saved is None:
        return
    diff = {
        k: (_get(saved, k), _get(expected, k))
        for k in keys
        if _get(expected, k) is not None and _get(saved, k) != _get(expected, k)
    }
    if diff:
        shown = ", ".join(f"{k}={a!r} (expected {b!r})" for k, (a, b) in diff.items())
        raise CostlabError(f"{what} {saved_dir} holds another model than {expected_name}: {shown}", fix)


def expected_student_config(teacher_config, student_spec) -> tuple[Any, tuple[str, ...], str]:
    """(config to compare a saved student with, keys that must match, its name) for the configured student.

    pruned: the teacher's family and shapes (layers and MLP width are the pruner's to change);
    pretrained: the student's own config.json (every shape key).
    """
    target = str(_get(student_spec, "_target_") or "")
    if target.endswith("PretrainedStudent"):
        path = _get(student_spec, "path")
        cfg = read_config(path) if path and Path(str(path)).is_dir() else None
        if cfg is not None:
            return cfg, STUDENT_KEYS, f"the configured student {path}"
        return {"vocab_size": None}, (), f"the configured student {path}"
    return teacher_config, SHAPE_KEYS, f"a student pruned from the teacher ({_describe(teacher_config)})"


def check_init_dir(init_dir: str | Path, teacher_config, student_spec) -> None:
    """A reused ``init/`` must hold the student this config builds (same family and shapes)."""
    expected, keys, name = expected_student_config(teacher_config, student_spec)
    check_same_model(
        init_dir,
        expected,
        keys,
        "student init",
        name,
        f"delete {init_dir} (and its checkpoints/) to rebuild the student, or use a new run_id=...",
    )


def check_resume_checkpoint(ckpt_dir: str | Path | None, expected, name: str = "the student being trained") -> None:
    """A checkpoint to resume from must hold the model being trained (``expected``: its config, or a model dir).
    A full-FT checkpoint has config.json; a LoRA checkpoint has only the adapter and is checked by peft."""
    if ckpt_dir is None:
        return
    if isinstance(expected, (str, Path)):
        name = f"the student in {expected}"
        expected = read_config(expected)
        if expected is None:
            return
    check_same_model(
        ckpt_dir,
        expected,
        STUDENT_KEYS,
        "checkpoint",
        name,
        f"delete {Path(ckpt_dir).parent} to train from the start again, or use a new run_id=...",
    )
