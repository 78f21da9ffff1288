import pytest
import torch

from costlab.errors import CostlabError
from costlab.models import load_causal_lm
from costlab.student import prune as prune_mod
from costlab.student.prune import (
    PrunedStudent,
    block_influence,
    calib_nll,
    decoder_layers,
    drop_ppl,
    iterative_drop,
    make_calib_batches,
    mlp_activation_means,
    mlp_channel_importance,
    prune_mlp,
    set_layers,
)


@pytest.fixture
def model(tiny_llama_dir):
    return load_causal_lm(str(tiny_llama_dir))


def _batches(seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randint(0, 2000, (2, 16), generator=g) for _ in range(2)]


def _make_identity(layer):
    """Zero the residual branches: the layer becomes the identity map."""
    layer.self_attn.o_proj.weight.data.zero_()
    layer.mlp.down_proj.weight.data.zero_()


def test_set_layers_reindexes_and_generates(model):
    set_layers(model, [0, 2, 3])
    assert model.config.num_hidden_layers == 3
    assert [l.self_attn.layer_idx for l in decoder_layers(model)] == [0, 1, 2]
    out = model.generate(torch.tensor([[1, 2, 3]]), max_new_tokens=4, do_sample=False)  # KV cache indices valid
    assert out.shape == (1, 7)


def test_drop_ppl_finds_the_layer_that_does_nothing(model):
    _make_identity(decoder_layers(model)[2])
    b = _batches()
    base = calib_nll(model, b)
    dp = drop_ppl(model, b, [0, 1, 2, 3])
    assert dp[2] == pytest.approx(torch.tensor(base).exp().item(), rel=1e-4)  # removing an identity changes nothing
    assert all(abs(dp[i] - dp[2]) > 1e-3 * dp[2] for i in (0, 1, 3))  # removing a real layer does change it
    assert len(decoder_layers(model)) == 4 and model.config.num_hidden_layers == 4  # restored afterwards


def test_block_influence_is_zero_for_identity_layer(model):
    _make_identity(decoder_layers(model)[1])
    bi = block_influence(model, _batches())
    assert bi[1] == pytest.approx(0.0, abs=1e-5)
    assert min(bi[0], bi[2], bi[3]) > 1e-3


def test_mlp_pruning_drops_dead_channels_without_changing_outputs(model):
    b = _batches()
    for layer in decoder_layers(model):  # channels 64..127 are dead (zero up-projection)
        layer.mlp.up_proj.weight.data[64:] = 0
    ref = model(input_ids=b[0]).logits
    imp = mlp_channel_importance(model, b)
    assert all(float(i[64:].max()) == 0.0 and float(i[:64].min()) > 0 for i in imp)
    prune_mlp(model, imp, 64)
    assert model.config.intermediate_size == 64
    assert torch.allclose(model(input_ids=b[0]).logits, ref, atol=1e-5)


def test_pruned_student_build_reports_and_unfreezes(model, tokenizer):
    for p in model.parameters():
        p.requires_grad_(False)  # a frozen teacher: the copy must still be trainable
    calib = [list(range(100 + i, 140 + i)) for i in range(8)]
    builder = PrunedStudent(
        drop_layers=1, importance="drop_ppl", shortlist=0, mlp_width=96, calib_tokens=256, calib_seq_len=16
    )
    student = builder.build(model, tokenizer, calib)
    r = builder.report
    first = r["depth"]["rounds"][0]["drop_ppl"]
    assert r["dropped_layers"] == [int(min(first, key=first.get))]  # the cheapest measured drop
    assert len(first) == 4  # shortlist=0 measured every layer
    assert r["family"] == "llama" and len(r["width"]["layers"]) == 3
    w = r["width"]["layers"][0]
    assert w["channels"] == 128 and w["kept"] == 96 and 0.75 < w["importance_share_kept"] <= 1
    assert r["mlp_width"] == [128, 96]
    assert r["student_params"] < r["teacher_params"] and 0 < r["param_ratio"] < 1
    assert all(p.requires_grad for p in student.parameters())
    assert len(decoder_layers(model)) == 4  # the teacher itself is untouched


def test_bad_student_settings(model, tokenizer):
    calib = [list(range(100, 200))]
    with pytest.raises(CostlabError, match="drop_layers"):
        PrunedStudent(drop_layers=4, calib_seq_len=16).build(model, tokenizer, calib)
    with pytest.raises(CostlabError, match="mlp_width"):
        PrunedStudent(drop_layers=0, mlp_width=4096, calib_seq_len=16).build(model, tokenizer, calib)
    with pytest.raises(CostlabError, match="fewer than one sequence"):
        make_calib_batches([[1, 2, 3]], 100, 16)


def _tiny_qwen2(**kw):
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(0)
    cfg = Qwen2Config(
        vocab_size=2000,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=4,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        **kw,
    )
    return Qwen2ForCausalLM(cfg).eval()


def test_drop_ppl_restores_layer_types_qwen2():
    """Regression (issue 10): configs with `layer_types` crashed with IndexError after drop_ppl's trial removals."""
    model = _tiny_qwen2()
    types = list(model.config.layer_types)
    b = _batches()
    drop_ppl(model, b, [0, 1, 2, 3])
    assert model.config.layer_types == types and model.config.num_hidden_layers == 4
    calib_nll(model, b)  # the restored model still runs


def test_pruned_qwen2_builds_reloads_and_generates(tokenizer, tmp_path):
    model = _tiny_qwen2()
    calib = [list(range(100 + i, 140 + i)) for i in range(8)]
    student = PrunedStudent(drop_layers=1, shortlist=0, mlp_width=96, calib_tokens=256, calib_seq_len=16).build(
        model, tokenizer, calib
    )
    assert len(student.config.layer_types) == student.config.num_hidden_layers == 3
    student.save_pretrained(tmp_path)
    again = load_causal_lm(str(tmp_path))
    out = again.generate(torch.tensor([[1, 2, 3]]), max_new_tokens=4, do_sample=False)
    assert out.shape == (1, 7)


def test_iterative_drop_remeasures_after_each_removal(model, monkeypatch):
    """Single drops rank 0 < 1 < 2 = 3, but 0 and 1 only work apart: the k best single drops taken together (old
    method: {0, 1}) are the worst pair; re-measuring after removing 0 finds {0, 2}."""
    originals = list(decoder_layers(model))
    cost = {
        frozenset(): 1.0,
        frozenset({0}): 1.1,
        frozenset({1}): 1.2,
        frozenset({2}): 1.5,
        frozenset({3}): 1.5,
        frozenset({0, 1}): 9.0,
        frozenset({0, 2}): 1.6,
        frozenset({0, 3}): 2.0,
    }
    calls = []

    def fake_nll(m, batches):
        gone = frozenset(i for i, l in enumerate(originals) if all(l is not x for x in decoder_layers(m)))
        calls.append(gone)
        return float(torch.tensor(cost[gone]).log())

    monkeypatch.setattr(prune_mod, "calib_nll", fake_nll)
    monkeypatch.setattr(prune_mod, "block_influence", lambda m, b: [0.0] * len(decoder_layers(m)))
    dropped, rounds = iterative_drop(model, _batches(), 2, "drop_ppl", shortlist=0)
    assert dropped == [0, 2]
    assert [r["dropped"] for r in rounds] == [0, 2]
    assert set(rounds[0]["drop_ppl"]) == {"0", "1", "2", "3"}
    assert rounds[1]["drop_ppl"] == {"1": 9.0, "2": 1.6, "3": 2.0}  # measured again, with layer 0 already gone
    assert sum(len(c) == 2 for c in calls) == 3  # one trial per remaining candidate in round 2
    assert len(decoder_layers(model)) == 2 and model.config.num_hidden_layers == 2


def test_iterative_drop_round_two_is_measured_on_the_pruned_model(model, tiny_llama_dir):
    b = _batches()
    dropped, rounds = iterative_drop(model, b, 2, "drop_ppl", shortlist=0)
    first, second = rounds[0]["dropped"], rounds[1]["dropped"]
    fresh = load_causal_lm(str(tiny_llama_dir))
    set_layers(fresh, [i for i in range(4) if i not in (first, second)])
    assert rounds[1]["drop_ppl"][str(second)] == pytest.approx(torch.tensor(calib_nll(fresh, b)).exp().item(), rel=1e-3)
    assert rounds[1]["ppl_before"] == pytest.approx(rounds[0]["drop_ppl"][str(first)], rel=1e-3)
    assert str(first) not in rounds[1]["drop_ppl"] and len(rounds[1]["drop_ppl"]) == 3


def test_channel_importance_weighs_activation_by_down_proj_column(model):
    b = _batches()
    layer = decoder_layers(model)[0]
    layer.mlp.down_proj.weight.data[:, 5] = 0  # channel 5 fires but cannot reach the output
    layer.mlp.down_proj.weight.data[:, 7] *= 10
    act = mlp_activation_means(model, b)[0]
    imp = mlp_channel_importance(model, b)[0]
    assert act[5] > 0 and imp[5] == 0
    cols = layer.mlp.down_proj.weight.norm(dim=0)
    assert torch.allclose(imp, act * cols)  # activation × column norm, channel by channel
    assert imp[7] / act[7] == pytest.approx(float(cols[7]))


def test_iterative_block_influence_recomputes_each_round(model, monkeypatch):
    calls = []
    real = prune_mod.block_influence

    def counting(m, b):
        calls.append(len(decoder_layers(m)))
        return real(m, b)

    monkeypatch.setattr(prune_mod, "block_influence", counting)
    dropped, rounds = iterative_drop(model, _batches(), 2, "block_influence")
    assert calls == [4, 3]  # measured on the full model, then again on the model without the first pick
    assert len(rounds[0]["block_influence"]) == 4 and len(rounds[1]["block_influence"]) == 3
    assert dropped == sorted([rounds[0]["dropped"], rounds[1]["dropped"]])
