import math

import pytest
import torch

from costlab.fidelity import FidelityAccumulator, hf_fidelity


def test_model_against_itself_is_perfect(tiny_llama_dir):
    from costlab.models import load_causal_lm

    m = load_causal_lm(str(tiny_llama_dir))
    seqs = [{"input_ids": list(range(100, 120)), "start": 5}, {"input_ids": list(range(300, 312)), "start": 3}]
    r = hf_fidelity(m, seqs, teacher=m, batch_size=2)
    assert r["kl"] == pytest.approx(0.0, abs=1e-6)
    assert r["top1_agreement"] == 1.0
    assert r["n_tokens"] == 15 + 9
    assert math.isfinite(r["ppl"]) and r["ppl"] > 1


def test_uniform_model_has_vocab_perplexity_and_positive_kl():
    V = 8
    acc = FidelityAccumulator()
    targets = torch.tensor([1, 2, 3])
    teacher = torch.zeros(3, V)
    teacher[torch.arange(3), targets] = 5.0
    acc.add(torch.zeros(3, V), targets, teacher_logits=teacher)
    r = acc.result()
    assert r["ppl"] == pytest.approx(V, rel=1e-6)
    assert r["kl"] > 0.5
    assert r["top1_agreement"] == pytest.approx(0.0)  # uniform argmax is 0, teacher's never is


def test_topk_reference_matches_dense_reference_at_full_k():
    torch.manual_seed(0)
    V = 10
    s, t = torch.randn(4, V), torch.randn(4, V)
    tgt = torch.randint(0, V, (4,))
    a, b = FidelityAccumulator(), FidelityAccumulator()
    a.add(s, tgt, teacher_logits=t)
    lp = torch.log_softmax(t, -1)
    ids = lp.argsort(-1, descending=True)
    b.add(s, tgt, teacher_topk_ids=ids, teacher_topk_logprobs=lp.gather(-1, ids))
    assert a.result()["kl"] == pytest.approx(b.result()["kl"], rel=1e-4)
    assert a.result()["top1_agreement"] == b.result()["top1_agreement"]
