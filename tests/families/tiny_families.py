"""Tiny random models of each decoder family, built from transformers configs (no hub), toy-sized for CPU.

Sizes: hidden 256, 4 heads / 2 KV heads (GQA), head_dim 64, MLP 512, 4 layers — every weight row is a multiple of
256 so llama.cpp's K-quants apply as on a real model (also after pruning the MLP to 256). BPE families reuse the
embedded SmolLM2 tokenizer (vocab 49152; llama.cpp's converter knows its pre-tokenizer); Mistral, Gemma 2/3 and Phi-3 ship a
SentencePiece ``tokenizer.model`` (their converters read it), so they get one trained here on a few sentences.
Each family carries the quirks pruning must keep: tied embeddings, GQA, sliding windows (Gemma windows are 16
tokens so the 48-token fidelity check crosses them), soft-capping, q/k norms, ``layer_types``.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

SEQ = 48  # tokens per fidelity/KD sequence (> the Gemma sliding window of 16)
BASE = dict(
    hidden_size=256,
    intermediate_size=512,
    num_hidden_layers=4,
    num_attention_heads=4,
    num_key_value_heads=2,
    head_dim=64,
    max_position_embeddings=512,
)

# family → (config class, model class, tokenizer kind, config overrides)
FAMILIES: dict[str, tuple[str, str, str, dict]] = {
    "llama": ("LlamaConfig", "LlamaForCausalLM", "bpe", dict(tie_word_embeddings=True)),
    # qwen2 gets the SentencePiece vocab: transformers 5 loads any tokenizer in a qwen2 dir as Qwen2Tokenizer (Qwen's
    # pre-tokenizer), so the converter would not recognise the SmolLM2 BPE (docs/families.md); its converter takes SPM.
    "qwen2": ("Qwen2Config", "Qwen2ForCausalLM", "spm", dict(tie_word_embeddings=True)),  # layer_types, qkv bias
    "qwen3": ("Qwen3Config", "Qwen3ForCausalLM", "bpe", dict(tie_word_embeddings=True)),  # q/k norm, layer_types
    "mistral": ("MistralConfig", "MistralForCausalLM", "spm", dict(tie_word_embeddings=False, sliding_window=4096)),
    "gemma2": (
        "Gemma2Config",
        "Gemma2ForCausalLM",
        "spm",
        dict(
            tie_word_embeddings=True,
            sliding_window=16,
            attn_logit_softcapping=50.0,
            final_logit_softcapping=30.0,
            query_pre_attn_scalar=64,
        ),
    ),
    "gemma3_text": (
        "Gemma3TextConfig",
        "Gemma3ForCausalLM",
        "spm",
        dict(
            tie_word_embeddings=True,
            sliding_window=16,
            query_pre_attn_scalar=64,  # = head_dim, as
            # in Gemma 3 1B-12B: llama.cpp scales by 1/sqrt(head_dim) (docs/families.md)
            layer_types=["sliding_attention", "full_attention", "sliding_attention", "full_attention"],
        ),
    ),
    "phi3": ("Phi3Config", "Phi3ForCausalLM", "spm", dict(tie_word_embeddings=False, sliding_window=2047)),
}

SPM_TEXT = [
    "The river runs past the old mill, where the miller keeps a ledger of every sack of grain.",
    "In spring the water is high and the wheel turns fast; in late summer it slows, and the village waits.",
    "What is the capital of France? The capital of France is Paris.",
    "Name a yellow fruit. A banana is a yellow fruit, and so is a lemon.",
    "Write a Python function that returns 1: def one(): return 1",
    "Numbers: 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20.",
]


def spm_model(path: Path, vocab_size: int = 512) -> Path:
    """A SentencePiece BPE model with byte fallback (ids: 0 <pad>, 1 <eos>, 2 <bos>, 3 <unk> as in Gemma)."""
    import sentencepiece as spm

    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(SPM_TEXT * 20),
        model_writer=buf,
        vocab_size=vocab_size,
        model_type="bpe",
        byte_fallback=True,
        character_coverage=1.0,
        hard_vocab_limit=False,
        pad_id=0,
        eos_id=1,
        bos_id=2,
        unk_id=3,
        minloglevel=2,
    )
    path.write_bytes(buf.getvalue())
    return path


def spm_vocab_size(model_file: Path) -> int:
    import sentencepiece as spm

    return spm.SentencePieceProcessor(model_file=str(model_file)).vocab_size()


def write_spm_tokenizer(model_dir: Path, spm_file: Path) -> None:
    """tokenizer.model + the tokenizer_config.json the converters read (Phi-3's reads `tokenizer_class`)."""
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / "tokenizer.model").write_bytes(Path(spm_file).read_bytes())
    (model_dir / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "LlamaTokenizer",
                "bos_token": "<bos>",
                "eos_token": "<eos>",
                "pad_token": "<pad>",
                "unk_token": "<unk>",
                "add_bos_token": True,
                "add_eos_token": False,
            }
        )
    )


def build_family(family: str, path: Path, bpe_tokenizer_dir: Path, spm_file: Path, seed: int = 0):
    """(model, vocab_size) for ``family``, saved to ``path`` with tokenizer files the converter accepts."""
    import torch
    import transformers

    cfg_cls, model_cls, tok_kind, over = FAMILIES[family]
    if tok_kind == "bpe":
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(bpe_tokenizer_dir)
        vocab = len(tok)
        ids = dict(bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    else:
        vocab = spm_vocab_size(spm_file)
        ids = dict(bos_token_id=2, eos_token_id=1, pad_token_id=0)
    cfg = getattr(transformers, cfg_cls)(vocab_size=vocab, **ids, **{**BASE, **over})
    torch.manual_seed(seed)
    model = getattr(transformers, model_cls)(cfg).eval()
    save_family(model, path, family, bpe_tokenizer_dir, spm_file)
    return model, vocab


def save_family(model, path: Path, family: str, bpe_tokenizer_dir: Path, spm_file: Path) -> Path:
    model.save_pretrained(path)
    if FAMILIES[family][2] == "bpe":
        from transformers import AutoTokenizer

        AutoTokenizer.from_pretrained(bpe_tokenizer_dir).save_pretrained(path)
    else:
        write_spm_tokenizer(path, spm_file)
    return path
