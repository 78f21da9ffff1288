import pytest
import torch

from costlab.errors import CostlabError
from costlab.models import load_causal_lm
from costlab.student.prune import (PrunedStudent, block_influence, calib_nll, decoder_layers, drop_ppl,
                                   make_calib_batches, mlp_channel_importance, prune_mlp, set_layers)


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
    builder = PrunedStudent(drop_layers=1, importance="drop_ppl", shortlist=0, mlp_width=96, calib_tokens=256,
                            calib_seq_len=16)
    student = builder.build(model, tokenizer, calib)
    r = builder.report
    assert r["dropped_layers"] == [int(min(r["drop_ppl"], key=r["drop_ppl"].get))]  # the cheapest measured drop
    assert len(r["drop_ppl"]) == 4  # shortlist=0 measured every layer
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
