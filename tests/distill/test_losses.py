import math

import pytest
import torch
import torch.nn.functional as F

from costlab.distill.losses import KINDS, KDLoss, divergence, topk_with_tail
from costlab.errors import CostlabError

P = torch.tensor([0.5, 0.5])
Q = torch.tensor([0.25, 0.75])


def kl(p, q):
    return float((p * (p / q).log()).sum())


@pytest.mark.parametrize(
    "kind,expected",
    [
        ("forward_kl", kl(P, Q)),
        ("reverse_kl", kl(Q, P)),
        ("jsd", 0.5 * kl(P, 0.5 * P + 0.5 * Q) + 0.5 * kl(Q, 0.5 * P + 0.5 * Q)),
        ("skew_kl", kl(P, 0.1 * P + 0.9 * Q)),
    ],
)
def test_divergences_match_closed_form(kind, expected):
    got = KDLoss(kind=kind, temperature=1.0, beta=0.5, skew=0.1).kd_dense(Q.log()[None], P.log()[None])
    assert got.item() == pytest.approx(expected, rel=1e-6)


def test_closed_form_values_are_not_trivial():
    # guards the parametrized test above against comparing zeros with zeros
    assert kl(P, Q) == pytest.approx(0.5 * math.log(2) + 0.5 * math.log(2 / 3))
    assert kl(P, Q) > 0.05 and kl(Q, P) > 0.05 and kl(P, Q) != pytest.approx(kl(Q, P))


def test_skew_zero_is_forward_kl():
    lp, lq = P.log(), Q.log()
    assert divergence("skew_kl", lp, lq, skew=0.0).item() == pytest.approx(kl(P, Q), rel=1e-6)


@pytest.mark.parametrize(
    "kw,key",
    [
        (dict(kind="jsd", beta=0.0), "beta"),
        (dict(kind="jsd", beta=1.0), "beta"),
        (dict(kind="jsd", beta=-0.1), "beta"),
        (dict(kind="skew_kl", skew=1.0), "skew"),
        (dict(kind="skew_kl", skew=-0.1), "skew"),
        (dict(kind="skew_kl", skew=1.5), "skew"),
    ],
)
def test_degenerate_jsd_beta_and_skew_lambda_are_rejected_at_config_time(kw, key):
    """Regression (issue 9 §5): JSD with beta in {0, 1} and skew KL with lambda = 1 gave a KD term of exactly 0
    (the mixture equals one side), silently training on CE alone. They must be refused when the loss is built."""
    with pytest.raises(CostlabError, match=rf"distill\.loss\.{key}"):
        KDLoss(temperature=1.0, **kw)
    with pytest.raises(CostlabError, match=key):  # and the function-level entry point refuses them too
        divergence(kw["kind"], P.log(), Q.log(), beta=kw.get("beta", 0.5), skew=kw.get("skew", 0.1))


@pytest.mark.parametrize(
    "kw",
    [
        dict(kind="jsd", beta=0.01),
        dict(kind="jsd", beta=0.99),
        dict(kind="skew_kl", skew=0.0),
        dict(kind="skew_kl", skew=0.99),
    ],
)
def test_valid_jsd_and_skew_give_a_nonzero_kd_term(kw):
    assert KDLoss(temperature=1.0, **kw).kd_dense(Q.log()[None], P.log()[None]).item() > 1e-6


@pytest.mark.parametrize("kind", KINDS)
def test_temperature_scales_by_t_squared(kind):
    torch.manual_seed(0)
    s, t = torch.randn(3, 11), torch.randn(3, 11)
    T = 2.5
    got = KDLoss(kind=kind, temperature=T).kd_dense(s, t)
    ref = divergence(kind, F.log_softmax(t / T, -1), F.log_softmax(s / T, -1)) * T * T
    assert torch.allclose(got, ref, atol=1e-6)
    assert (got > 0).all()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("T", [1.0, 2.0])
def test_topk_equals_dense_when_k_is_vocab(kind, T):
    torch.manual_seed(1)
    V = 13
    s, t = torch.randn(2, 5, V), torch.randn(2, 5, V) * 3
    loss = KDLoss(kind=kind, temperature=T)
    lp_t = F.log_softmax(t / T, -1)
    ids = lp_t.argsort(-1, descending=True)  # all V ids, in teacher order
    topk = loss.kd_topk(s, ids, lp_t.gather(-1, ids))
    dense = loss.kd_dense(s, t)
    assert torch.allclose(topk, dense, atol=1e-5), (topk - dense).abs().max()


def test_topk_keeps_tail_bucket_exactly():
    torch.manual_seed(2)
    V, k = 9, 3
    s, t = torch.randn(V), torch.randn(V)
    lp_t, lq_s = F.log_softmax(t, -1), F.log_softmax(s, -1)
    ids = lp_t.topk(k).indices
    p = torch.cat([lp_t[ids].exp(), 1 - lp_t[ids].exp().sum(0, keepdim=True)])
    q = torch.cat([lq_s[ids].exp(), 1 - lq_s[ids].exp().sum(0, keepdim=True)])
    got = KDLoss(kind="forward_kl", temperature=1.0).kd_topk(s[None], ids[None], lp_t[ids][None])
    assert got.item() == pytest.approx(kl(p, q), rel=1e-5)
    # and it is not the renormalized-top-k divergence (the variant that made students worse)
    pr, qr = p[:k] / p[:k].sum(), q[:k] / q[:k].sum()
    assert got.item() != pytest.approx(kl(pr, qr), rel=1e-2)


def test_tail_floor_keeps_gradients_finite():
    lp = F.log_softmax(torch.randn(4), -1)
    assert torch.isfinite(topk_with_tail(lp)).all()
    s = torch.randn(1, 3, 4, requires_grad=True)
    t = torch.randn(1, 3, 4)
    ids = torch.arange(4).expand(1, 3, 4)
    KDLoss(kind="reverse_kl").kd_topk(s, ids, F.log_softmax(t, -1)).sum().backward()
    assert torch.isfinite(s.grad).all()


def test_call_masks_prompt_and_mixes_alpha():
    torch.manual_seed(3)
    B, L, V = 2, 6, 10
    s, t = torch.randn(B, L, V), torch.randn(B, L, V)
    labels = torch.randint(0, V, (B, L))
    labels[:, :3] = -100
    ce_only = KDLoss(alpha=0.0)(s, labels)
    ref_ce = F.cross_entropy(s[:, :-1].reshape(-1, V), labels[:, 1:].reshape(-1), ignore_index=-100)
    assert ce_only["loss"].item() == pytest.approx(ref_ce.item(), rel=1e-6)
    both = KDLoss(alpha=0.3, temperature=2.0)(s, labels, teacher_logits=t)
    assert both["loss"].item() == pytest.approx(0.3 * both["kd"].item() + 0.7 * both["ce"].item(), rel=1e-6)
    # changing logits only at masked (prompt) positions changes nothing
    s2 = s.clone()
    s2[:, :2] += 5.0
    assert KDLoss(alpha=0.3, temperature=2.0)(s2, labels, teacher_logits=t)["loss"].item() == pytest.approx(
        both["loss"].item(), rel=1e-6
    )


def test_bad_inputs_are_clear_errors():
    with pytest.raises(CostlabError, match="kind"):
        KDLoss(kind="kl")
    with pytest.raises(CostlabError, match="alpha"):
        KDLoss(alpha=1.5)
    with pytest.raises(CostlabError, match="tokenizer"):
        KDLoss().kd_dense(torch.randn(1, 5), torch.randn(1, 6))
    with pytest.raises(CostlabError, match="teacher signal"):
        KDLoss(alpha=0.5)(torch.randn(1, 3, 4), torch.zeros(1, 3, dtype=torch.long))


@pytest.mark.parametrize("alpha", [0.5, 1.0])
def test_ce_from_the_kd_log_softmax_at_t1_equals_cross_entropy(alpha):
    """At T = 1 the dense KD term's student log-softmax also gives the CE (one full-vocab pass fewer): the CE
    value, the loss and the gradient equal the separately computed F.cross_entropy path."""
    torch.manual_seed(5)
    B, L, V = 2, 7, 50
    t = torch.randn(B, L, V)
    labels = torch.randint(0, V, (B, L))
    labels[:, :2] = -100
    s1 = torch.randn(B, L, V, requires_grad=True)
    s2 = s1.detach().clone().requires_grad_(True)
    out = KDLoss(kind="forward_kl", temperature=1.0, alpha=alpha)(s1, labels, teacher_logits=t)
    ref_ce = F.cross_entropy(s2[:, :-1].reshape(-1, V), labels[:, 1:].reshape(-1), ignore_index=-100)
    logq, logp = F.log_softmax(s2[:, :-1], -1), F.log_softmax(t[:, :-1], -1)
    mask = labels[:, 1:] != -100
    ref_kd = ((logp.exp() * (logp - logq)).sum(-1) * mask).sum() / mask.sum()
    ref = alpha * ref_kd + (1 - alpha) * ref_ce
    assert out["ce"].item() == pytest.approx(ref_ce.item(), rel=1e-5)
    assert out["loss"].item() == pytest.approx(ref.item(), rel=1e-5)
    out["loss"].backward()
    ref.backward()
    assert torch.allclose(s1.grad, s2.grad, atol=1e-6)


@pytest.mark.parametrize("T,alpha", [(1.0, 0.5), (2.0, 0.5), (2.0, 1.0)])
def test_fused_forward_kl_equals_the_generic_divergence(T, alpha):
    """forward_kl's fused path (KL = Σ p log p − Σ p s + logsumexp s, gradient softmax(s) − p) gives the value and
    the gradient of log-softmax on both sides + divergence(), including teacher rows with −inf logits (a masked
    vocabulary: p = 0 there, 0·log 0 = 0)."""
    torch.manual_seed(7)
    B, L, V = 2, 6, 40
    t = torch.randn(B, L, V) * 3
    t[0, :, :5] = float("-inf")
    labels = torch.randint(0, V, (B, L))
    labels[1, :3] = -100
    s1 = (torch.randn(B, L, V) * 3).requires_grad_(True)
    s2 = s1.detach().clone().requires_grad_(True)
    out = KDLoss(kind="forward_kl", temperature=T, alpha=alpha)(s1, labels, teacher_logits=t)
    logq, logp = F.log_softmax(s2[:, :-1] / T, -1), F.log_softmax(t[:, :-1] / T, -1)
    mask = labels[:, 1:] != -100
    ref_kd = (divergence("forward_kl", logp, logq) * T * T * mask).sum() / mask.sum()
    ref_ce = F.cross_entropy(s2[:, :-1].reshape(-1, V), labels[:, 1:].reshape(-1), ignore_index=-100)
    ref = alpha * ref_kd + (1 - alpha) * ref_ce
    assert math.isfinite(out["kd"].item()) and out["kd"].item() > 0.1
    assert out["kd"].item() == pytest.approx(ref_kd.item(), rel=1e-5)
    assert out["loss"].item() == pytest.approx(ref.item(), rel=1e-5)
    out["loss"].backward()
    ref.backward()
    assert torch.isfinite(s1.grad).all()
    assert torch.allclose(s1.grad, s2.grad, atol=1e-6)


def test_fused_forward_kl_gradient_passes_gradcheck():
    from costlab.distill.losses import _ForwardKLDense

    torch.manual_seed(3)
    s = torch.randn(3, 4, 7, dtype=torch.float64, requires_grad=True)
    t = torch.randn(3, 4, 7, dtype=torch.float64)
    w = torch.randn(3, 4, dtype=torch.float64)  # weights on both outputs, so both gradient inputs are exercised

    def f(x):
        kl, lse = _ForwardKLDense.apply(x, t)
        return (kl * w).sum() + (lse * w.flip(0)).sum()

    assert torch.autograd.gradcheck(f, (s,))


def test_ce_is_reported_without_a_graph_at_alpha_1():
    """At alpha = 1 the CE only feeds the logs: it carries no graph (its backward would multiply by 0)."""
    torch.manual_seed(1)
    s = torch.randn(1, 5, 11, requires_grad=True)
    labels = torch.randint(0, 11, (1, 5))
    for kw in ({"teacher_logits": torch.randn(1, 5, 11)}, {}):
        a = 1.0 if kw else 0.0  # alpha = 0 without a teacher: the CE is the loss and must keep its graph
        out = KDLoss(kind="forward_kl", alpha=a)(s, labels, **kw)
        assert out["ce"].requires_grad is (a < 1.0)
        assert out["loss"].requires_grad
