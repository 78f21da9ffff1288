"""An architecture llama.cpp's converter does not know is refused by name before the converter runs."""

from __future__ import annotations

import pytest

from costlab.errors import CostlabError

pytestmark = pytest.mark.families


def test_unknown_architecture_refused_before_anything_is_written(tmp_path, monkeypatch):
    from transformers import OPTConfig, OPTForCausalLM

    from costlab.quant import gguf as G
    from tests.quant.quant_helpers import CONVERTER

    if not CONVERTER.is_file():
        pytest.skip(f"llama.cpp converter missing at {CONVERTER} (make install extracts it)")
    model_dir = tmp_path / "opt"
    OPTForCausalLM(
        OPTConfig(
            vocab_size=64,
            hidden_size=16,
            num_hidden_layers=1,
            ffn_dim=32,
            num_attention_heads=2,
            word_embed_proj_dim=16,
            max_position_embeddings=32,
        )
    ).save_pretrained(model_dir)
    assert "LlamaForCausalLM" in G.converter_architectures(CONVERTER)

    def no_run(*a, **k):
        raise AssertionError("the converter ran")

    monkeypatch.setattr(G.subprocess, "run", no_run)
    out = tmp_path / "out" / "opt.gguf"
    with pytest.raises(CostlabError) as e:
        G.convert_hf_to_gguf(model_dir, out, CONVERTER)
    assert "OPTForCausalLM" in str(e.value) and "model_type 'opt'" in str(e.value) and str(model_dir) in str(e.value)
    assert "not supported by llama.cpp's converter" in e.value.fix and "docs/families.md" in e.value.fix
    assert not out.parent.exists()


def test_pruned_gemma3_with_27b_attention_scale_is_refused(tmp_path):
    """llama.cpp recognises Gemma 3 27B's attention scale by its 62 layers; a pruned one would get the wrong scale."""
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    from costlab.quant.gguf import convert_hf_to_gguf
    from tests.quant.quant_helpers import CONVERTER

    if not CONVERTER.is_file():
        pytest.skip(f"llama.cpp converter missing at {CONVERTER} (make install extracts it)")
    d = tmp_path / "g3"
    Gemma3ForCausalLM(
        Gemma3TextConfig(
            vocab_size=64,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            num_key_value_heads=1,
            head_dim=16,
            query_pre_attn_scalar=24,
        )
    ).save_pretrained(d)
    with pytest.raises(CostlabError, match="query_pre_attn_scalar=24 != head_dim=16") as e:
        convert_hf_to_gguf(d, tmp_path / "out" / "g3.gguf", CONVERTER)
    assert "Gemma3ForCausalLM" in str(e.value) and "docs/families.md" in e.value.fix
    assert not (tmp_path / "out").exists()
