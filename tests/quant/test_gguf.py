"""HF → GGUF (vendored llama.cpp converter) → llama.cpp quantizer, checked against the HF model it came from."""

from __future__ import annotations

import json

import numpy as np
import pytest

from costlab.errors import CostlabError

from .quant_helpers import TEXT

pytestmark = pytest.mark.llama_cpp
pytest.importorskip("llama_cpp")


def hf_logits(hf_dir, ids):
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(hf_dir, dtype=torch.float32).eval()
    with torch.inference_mode():
        return model, model(torch.tensor([ids])).logits[0].numpy()


def llama_logits(path, ids):
    from costlab.quant.sanity import load_llama

    llm = load_llama(str(path), n_ctx=128, threads=1, logits_all=True)
    llm.eval(ids)
    out = np.asarray(llm.scores[: len(ids)]).copy()
    return llm, out


@pytest.fixture(scope="module")
def ids(tokenizer):
    return tokenizer(TEXT, add_special_tokens=False)["input_ids"][:32]


@pytest.fixture(scope="module")
def quantized(tiny256_f16, tmp_path_factory):
    from costlab.quant.gguf import quantize_gguf

    d = tmp_path_factory.mktemp("q")
    return {t: quantize_gguf(tiny256_f16, d / f"tiny-{t}.gguf", t, threads=1) for t in ("Q8_0", "Q4_K_M")}


def test_types_sizes_and_tensor_types(tiny256_f16, quantized):
    from costlab.quant.gguf import gguf_stats

    f16, q8, q4 = gguf_stats(tiny256_f16), gguf_stats(quantized["Q8_0"]), gguf_stats(quantized["Q4_K_M"])
    assert f16["n_params"] == q8["n_params"] == q4["n_params"]
    assert 15.9 < f16["bits_per_weight"] < 16.1
    assert 8.4 < q8["bits_per_weight"] < 8.6  # Q8_0: 34 bytes per 32 weights
    assert q4["bits_per_weight"] < 6.5 < q8["bits_per_weight"]
    assert "Q4_K" in q4["tensor_types"]  # rows of 256 → real K-quants, no legacy fallback for the blocks
    assert set(q8["tensor_types"]) <= {"Q8_0", "F32"}


def test_q8_logits_close_to_hf(tiny256_dir, quantized, ids):
    _, ref = hf_logits(tiny256_dir, ids)
    llm, got = llama_logits(quantized["Q8_0"], ids)
    llm.close()
    err = np.abs(got - ref).mean() / ref.std()
    corr = np.corrcoef(got.ravel(), ref.ravel())[0, 1]
    # measured: mean |diff| / std 0.012, corr 0.99988 (a random model's flat logits make top-1 ties, so no top-1 check)
    print(f"Q8_0 vs HF: mean |diff|/std {err:.4f}, corr {corr:.6f}")
    assert corr > 0.9995 and err < 0.03
    # Q4_K_M is further away (measured 0.107 / 0.991) but still the same function: the check tells 4 from 8 bits
    llm, got4 = llama_logits(quantized["Q4_K_M"], ids)
    llm.close()
    err4 = np.abs(got4 - ref).mean() / ref.std()
    assert np.corrcoef(got4.ravel(), ref.ravel())[0, 1] > 0.97
    assert err4 > 2 * err


def test_f16_greedy_tokens_match_hf(tiny256_dir, tiny256_f16, ids):
    import torch

    model, _ = hf_logits(tiny256_dir, ids)
    prompt = ids[:8]
    with torch.inference_mode():
        hf_out = model.generate(
            torch.tensor([prompt]),
            attention_mask=torch.ones(1, 8, dtype=torch.long),
            max_new_tokens=12,
            do_sample=False,
            eos_token_id=None,
            pad_token_id=0,
        )[0, 8:].tolist()
    llm, _ = llama_logits(tiny256_f16, ids[:1])
    toks = list(prompt)
    llm.reset()
    llm.eval(toks)
    for _ in range(12):
        nxt = int(np.argmax(llm.scores[llm.n_tokens - 1]))
        toks.append(nxt)
        llm.eval([nxt])
    llm.close()
    assert toks[8:] == hf_out


def test_unknown_quant_type_is_a_clear_error(tiny256_f16, tmp_path):
    from costlab.quant.gguf import quantize_gguf

    with pytest.raises(CostlabError, match="unknown GGUF quant type 'Q3_X'") as e:
        quantize_gguf(tiny256_f16, tmp_path / "x.gguf", "Q3_X")
    assert "Q4_K_M" in e.value.fix
    assert not (tmp_path / "x.gguf").exists()


def test_iq2_needs_imatrix_and_works_with_one(tiny256_dir, tiny256_f16, tokenizer, tmp_path):
    import torch
    from transformers import AutoModelForCausalLM

    from costlab.quant.gguf import compute_imatrix, gguf_stats, quantize_gguf

    with pytest.raises(CostlabError, match="requires an imatrix") as e:
        quantize_gguf(tiny256_f16, tmp_path / "iq2.gguf", "IQ2_XXS")
    assert "imatrix=true" in e.value.fix
    model = AutoModelForCausalLM.from_pretrained(tiny256_dir, dtype=torch.float32).eval()
    imat = compute_imatrix(model, [TEXT, TEXT[::-1]], tokenizer, tiny256_f16, max_tokens=64)
    assert "blk.0.attn_q.weight" in imat and "blk.1.ffn_down.weight" in imat
    assert imat["blk.0.ffn_down.weight"].shape == (256,) and np.all(imat["blk.0.ffn_down.weight"] > 0)
    out = quantize_gguf(tiny256_f16, tmp_path / "iq2.gguf", "IQ2_XXS", imatrix=imat)
    assert "IQ2_XXS" in gguf_stats(out)["tensor_types"]


def test_unsupported_architecture_fails_with_reason(tiny256_dir, converter, tmp_path):
    import shutil

    from costlab.quant.gguf import convert_hf_to_gguf

    bad = tmp_path / "bad"
    shutil.copytree(tiny256_dir, bad)
    cfg = json.loads((bad / "config.json").read_text())
    cfg["architectures"] = ["FrobnicatorForCausalLM"]
    (bad / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CostlabError, match="convert_hf_to_gguf failed") as e:
        convert_hf_to_gguf(bad, tmp_path / "bad.gguf", converter)
    assert "not supported" in e.value.fix
    assert not (tmp_path / "bad.gguf").exists()


def test_missing_converter_names_the_make_target(tiny256_dir, tmp_path):
    from costlab.quant.gguf import convert_hf_to_gguf

    with pytest.raises(CostlabError, match="converter not found") as e:
        convert_hf_to_gguf(tiny256_dir, tmp_path / "x.gguf", tmp_path / "nope" / "convert_hf_to_gguf.py")
    assert "make" in e.value.fix
