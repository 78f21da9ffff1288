"""Helpers for tests/quant (imported relatively: tests/quant is a package)."""

from __future__ import annotations

import json
from pathlib import Path

from costlab.config import PROJECT_ROOT

CONVERTER = PROJECT_ROOT / ".cache" / "llama.cpp-0.3.36" / "convert_hf_to_gguf.py"
# hidden = intermediate = 256: every weight row is a multiple of 256 (K-quant super-block size).
TINY256 = dict(
    hidden_size=256,
    intermediate_size=256,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    head_dim=64,
    max_position_embeddings=512,
    tie_word_embeddings=True,
)
# initializer_range stays at the default 0.02: larger random weights blow activations up and exaggerate quant error
TEXT = (
    "The river runs past the old mill, where the miller keeps a ledger of every sack of grain. "
    "In spring the water is high and the wheel turns fast; in late summer it slows, and the village waits. "
)


def build_tiny(path: Path, tokenizer_dir: Path, seed: int = 0, **overrides) -> Path:
    """The shared tiny-Llama builder (tests/conftest.py) with the 256-wide shape above."""
    from tests.conftest import make_tiny_llama

    return make_tiny_llama(path, tokenizer_dir, seed, **{**TINY256, **overrides})


def write_teacher_data(run_dir: Path, n_train: int = 8, n_heldout: int = 4) -> None:
    """teacher_data/{train,heldout}.jsonl in the trunk's schema (messages + response)."""
    d = run_dir / "teacher_data"
    d.mkdir(parents=True, exist_ok=True)
    for name, n in (("train", n_train), ("heldout", n_heldout)):
        with (d / f"{name}.jsonl").open("w") as f:
            for i in range(n):
                f.write(
                    json.dumps(
                        {
                            "id": f"{name}{i}",
                            "messages": [{"role": "user", "content": f"Tell me story {i}."}],
                            "response": TEXT * 2,
                        }
                    )
                    + "\n"
                )
