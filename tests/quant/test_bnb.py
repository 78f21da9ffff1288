"""bitsandbytes on CPU: quantize a tiny random Llama, save, reload with plain transformers, generate."""

from __future__ import annotations

import json

import pytest

from costlab.errors import CostlabError

pytest.importorskip("bitsandbytes")


@pytest.mark.parametrize("mode,dq", [("int8", False), ("nf4", True), ("fp4", False)])
def test_save_reload_generate(tmp_path, tiny256_dir, tokenizer, mode, dq):
    from costlab.quant.bnb import load_bnb, quantize_bnb
    from costlab.quant.sanity import hf_generate, hf_perplexity
    from costlab.quant.variant import weight_bytes

    out = quantize_bnb(str(tiny256_dir), tmp_path / mode, mode, double_quant=dq)
    qc = json.loads((out / "config.json").read_text())["quantization_config"]
    assert qc["quant_method"] == "bitsandbytes"
    assert qc["load_in_8bit"] is (mode == "int8")
    if mode != "int8":
        assert qc["bnb_4bit_quant_type"] == mode and qc["bnb_4bit_use_double_quant"] is dq
    model = load_bnb(out)
    assert any("Linear8bitLt" in type(m).__name__ or "Linear4bit" in type(m).__name__ for m in model.modules())
    _, new = hf_generate(model, tokenizer, "Hello there", 4)
    assert len(new) == 4
    ppl, n = hf_perplexity(model, tokenizer("The mill by the river keeps a ledger.")["input_ids"], 64)
    assert n > 5 and ppl == ppl and ppl < float("inf")
    # the embedding (49152 x 256, tied) stays fp32, so the saving shows only in the linear layers
    assert weight_bytes(out) < weight_bytes(tiny256_dir)


def test_unknown_mode_and_missing_library(monkeypatch):
    import importlib.util

    from costlab.quant import bnb

    with pytest.raises(CostlabError, match="unknown bitsandbytes mode 'int3'"):
        bnb.bnb_config("int3")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "bitsandbytes" else real(n, *a))
    with pytest.raises(CostlabError, match="bitsandbytes is not installed") as e:
        bnb.require_bnb()
    assert "pip install" in e.value.fix
