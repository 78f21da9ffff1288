"""KD losses in one place.

Divergences between the teacher distribution p and the student distribution q at temperature T, per token:
  forward_kl  KL(p‖q) = Σ p (log p − log q)               mode-covering (Hinton et al. 2015)
  reverse_kl  KL(q‖p) = Σ q (log q − log p)               mode-seeking (MiniLLM)
  jsd         β·KL(p‖m) + (1−β)·KL(q‖m),  m = β p + (1−β) q   generalized JSD (GKD, Agarwal et al. 2024)
  skew_kl     KL(p ‖ λ p + (1−λ) q)                       skew KL (DistiLLM, Ko et al. 2024)
β must lie in (0, 1) and λ in [0, 1): at β ∈ {0, 1} the JSD mixture equals one side and at λ = 1 the skew
mixture equals p, so the KD term is exactly 0 and training silently falls back to CE. Both are refused when the
loss is built (config time). For the endpoints use kind=forward_kl / reverse_kl explicitly (TRL maps β=0/1 to
those; costlab asks you to name the divergence instead of guessing which one you meant).
The KD term is multiplied by T² so its gradient scale does not shrink with T, and mixed with cross-entropy on
the teacher's text: loss = α·T²·KD + (1−α)·CE. α = 0 is sequence-level KD (CE on teacher text only).

Two teacher signals:
  dense  teacher logits for the whole vocabulary (teacher run online);
  top-k  stored teacher log-probs of its k most likely tokens (offline). The remaining mass is kept as one
         "tail" bucket on both sides, so the loss is an exact divergence between (k+1)-way distributions and
         equals the dense loss when k = vocab. Renormalizing over the top-k only (dropping the tail) measured
         worse than no training at all on SmolLM2 (docs/facts.md): at T=2 the top-20 hold ~16% of the mass.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from costlab.errors import CostlabError

KINDS = ("forward_kl", "reverse_kl", "jsd", "skew_kl")
IGNORE = -100
_TINY = 1e-12


def _kl(logp: torch.Tensor, logq: torch.Tensor) -> torch.Tensor:
    """KL(p‖q) along the last dim from log-probs; 0·log0 treated as 0."""
    p = logp.exp()
    return torch.where(p > 0, p * (logp - logq), torch.zeros_like(p)).sum(-1)


def _log_mix(logp: torch.Tensor, logq: torch.Tensor, w: float) -> torch.Tensor:
    """log(w·p + (1−w)·q), stable."""
    if w <= 0.0:
        return logq
    if w >= 1.0:
        return logp
    return torch.logaddexp(logp + math.log(w), logq + math.log1p(-w))


def check_mix_weights(beta: float, skew: float) -> None:
    """Refuse JSD β outside (0, 1) and skew-KL λ outside [0, 1): those make the KD term identically 0."""
    if not 0.0 < beta < 1.0:
        raise CostlabError(
            f"distill.loss.beta={beta} is outside (0, 1): the JSD mixture then equals one side and "
            "the KD term is exactly 0",
            "use 0 < beta < 1 (0.5 = symmetric JSD); for beta 0 or 1 set distill.loss.kind to forward_kl or reverse_kl",
        )
    if not 0.0 <= skew < 1.0:
        raise CostlabError(
            f"distill.loss.skew={skew} (skew-KL lambda) is outside [0, 1): at 1 the mixture is the "
            "teacher itself and the KD term is exactly 0",
            "use 0 <= skew < 1 (0 = forward KL, DistiLLM uses 0.1)",
        )


def divergence(
    kind: str, logp_t: torch.Tensor, logq_s: torch.Tensor, beta: float = 0.5, skew: float = 0.1
) -> torch.Tensor:
    """Per-position divergence between teacher log-probs and student log-probs (same support, last dim)."""
    check_mix_weights(beta, skew)
    if kind == "forward_kl":
        return _kl(logp_t, logq_s)
    if kind == "reverse_kl":
        return _kl(logq_s, logp_t)
    if kind == "jsd":
        logm = _log_mix(logp_t, logq_s, beta)
        return beta * _kl(logp_t, logm) + (1.0 - beta) * _kl(logq_s, logm)
    if kind == "skew_kl":
        return _kl(logp_t, _log_mix(logp_t, logq_s, skew))
    raise CostlabError(f"unknown KD loss kind '{kind}' (distill.loss.kind)", f"use one of {list(KINDS)}")


def topk_with_tail(logp_topk: torch.Tensor) -> torch.Tensor:
    """[..., k] log-probs of the top-k → [..., k+1] with the tail mass log(1 − Σ p) appended.

    The tail is floored at 1e-12 (never −inf) so gradients stay finite when k = vocab and the tail is empty.
    """
    tail = (1.0 - logp_topk.exp().sum(-1, keepdim=True)).clamp(min=_TINY).log()
    return torch.cat([logp_topk, tail], dim=-1)


def student_topk_with_tail(student_logp: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """Student log-probs gathered at the teacher's top-k ids, plus the student's own tail mass."""
    gathered = student_logp.gather(-1, ids)
    return topk_with_tail(gathered)


class _ForwardKLDense(torch.autograd.Function):
    """Per-position KL(p‖q) from dense logits, q = softmax(s) (student), p = softmax(t) (teacher, no gradient),
    fused: KL = Σ p·(log p − log q) computed in place on the teacher's log-probs, and ∂KL/∂s = q − p written in the
    backward pass from the saved (log q, p). The generic path (``divergence`` through autograd) builds ~6
    vocabulary-sized tensors forward and ~4 backward; this builds 3 and 1. Same value and
    gradient up to float rounding (tests/distill/test_losses.py). Also returns logsumexp(s) = s₀ − log q₀: at
    T = 1 the cross-entropy is logsumexp(s) − s[target], so the CE needs no log-softmax of its own (its
    gradient, q, flows back through the second output)."""

    @staticmethod
    def forward(ctx, s: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logq = F.log_softmax(s, -1)
        logp = F.log_softmax(t, -1)
        p = logp.exp()
        d = logp.clamp_(min=torch.finfo(logp.dtype).min).sub_(logq)  # log p − log q; −inf (masked row) → finite,
        kl = d.mul_(p).sum(-1)  # so that 0·log 0 counts 0 (sum: pairwise, as accurate as the generic path)
        ctx.save_for_backward(logq, p)
        return kl, s[..., 0] - logq[..., 0]

    @staticmethod
    def backward(ctx, g_kl: torch.Tensor | None, g_lse: torch.Tensor | None):
        logq, p = ctx.saved_tensors
        q = logq.exp()  # softmax(s)
        g = torch.zeros_like(logq[..., :1]) if g_kl is None else g_kl.unsqueeze(-1)
        if g_lse is None:
            q.sub_(p).mul_(g)  # (q − p)·g
        else:
            q.mul_(g + g_lse.unsqueeze(-1)).sub_(p * g)  # q·(g + g_lse) − p·g
        return q, None


@dataclass
class KDLoss:
    """α·T²·KD + (1−α)·CE. Instantiated from `distill.loss` (`_target_: costlab.distill.losses.KDLoss`)."""

    kind: str = "forward_kl"
    temperature: float = 1.0
    alpha: float = 0.5
    beta: float = 0.5
    skew: float = 0.1

    def __post_init__(self):
        if self.kind not in KINDS:
            raise CostlabError(f"unknown KD loss kind '{self.kind}' (distill.loss.kind)", f"use one of {list(KINDS)}")
        if self.temperature <= 0:
            raise CostlabError(f"distill.loss.temperature must be > 0, got {self.temperature}")
        if not 0.0 <= self.alpha <= 1.0:
            raise CostlabError(f"distill.loss.alpha must be in [0, 1], got {self.alpha}")
        check_mix_weights(float(self.beta), float(self.skew))

    def kd_dense(self, student_logits: torch.Tensor, teacher_logits: torch.Tensor) -> torch.Tensor:
        """Per-position KD term (× T²) from dense logits [..., V]."""
        if student_logits.shape[-1] != teacher_logits.shape[-1]:
            raise CostlabError(
                f"teacher vocab {teacher_logits.shape[-1]} != student vocab {student_logits.shape[-1]}",
                "logit KD needs the same tokenizer; use distill.teacher_signal=none (sequence-level KD) instead",
            )
        return self._kd_dense(student_logits, teacher_logits)[0]

    def _kd_dense(
        self, student_logits: torch.Tensor, teacher_logits: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(per-position KD term × T², the student's logsumexp at T): at T = 1 the CE is logsumexp − logit[target].

        forward_kl (the default kind) takes the fused path (_ForwardKLDense); the other kinds go through
        log-softmax on both sides and ``divergence``, and return None for the logsumexp."""
        T = self.temperature
        s, t = student_logits.float(), teacher_logits.float()
        if T != 1.0:  # at T = 1 the division is a full-vocab copy for nothing
            s, t = s / T, t / T
        if self.kind == "forward_kl":
            kl, lse = _ForwardKLDense.apply(s, t.detach())
            return kl * T * T, lse
        logq = F.log_softmax(s, dim=-1)
        logp = F.log_softmax(t, dim=-1)
        return divergence(self.kind, logp, logq, self.beta, self.skew) * T * T, None

    def kd_topk(
        self, student_logits: torch.Tensor, topk_ids: torch.Tensor, topk_logprobs: torch.Tensor
    ) -> torch.Tensor:
        """Per-position KD term (× T²) from stored teacher top-k log-probs, computed at this loss's temperature."""
        T = self.temperature
        logq = F.log_softmax(student_logits.float() / T, dim=-1)
        return (
            divergence(
                self.kind,
                topk_with_tail(topk_logprobs.float()),
                student_topk_with_tail(logq, topk_ids.long()),
                self.beta,
                self.skew,
            )
            * T
            * T
        )

    def __call__(
        self,
        student_logits: torch.Tensor,
        labels: torch.Tensor,
        teacher_logits: torch.Tensor | None = None,
        topk_ids: torch.Tensor | None = None,
        topk_logprobs: torch.Tensor | None = None,
    ) -> dict:
        """Causal-LM loss. ``labels`` [B, L] with −100 on positions not trained (prompt, padding); logits and teacher
        signals are aligned with the *input* positions (position t predicts labels[t+1])."""
        logits = student_logits[:, :-1]
        targets = labels[:, 1:]
        mask = targets != IGNORE
        n = mask.sum().clamp(min=1)
        lse1 = None  # the student's logsumexp at T = 1, when the dense KD term computes it anyway
        if self.alpha > 0 and teacher_logits is not None:
            kd, lse = self._kd_dense(logits, teacher_logits[:, :-1])
            lse1 = lse if self.temperature == 1.0 else None
        # at alpha = 1 the CE is only reported: no graph for it (its backward would be a full-vocab pass times 0)
        with torch.set_grad_enabled(torch.is_grad_enabled() and self.alpha < 1.0):
            if lse1 is not None:  # CE = logsumexp − logit[target], from the KD term's logsumexp
                tgt = logits.float().gather(-1, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1)
                ce = torch.where(mask, lse1 - tgt, torch.zeros_like(tgt)).sum() / n
            else:
                ce = (
                    F.cross_entropy(
                        logits.reshape(-1, logits.shape[-1]).float(),
                        targets.reshape(-1),
                        ignore_index=IGNORE,
                        reduction="sum",
                    )
                    / n
                )
        out = {"ce": ce}
        if self.alpha > 0:
            if teacher_logits is None:  # (with dense teacher logits, kd was computed above)
                if topk_ids is None or topk_logprobs is None:
                    raise CostlabError(
                        "KD loss with alpha > 0 got no teacher signal",
                        "set distill.teacher_signal to online or topk, or distill.loss.alpha=0",
                    )
                kd = self.kd_topk(logits, topk_ids[:, :-1], topk_logprobs[:, :-1])
            kd = (kd * mask).sum() / n
            out["kd"] = kd
            out["loss"] = self.alpha * kd + (1.0 - self.alpha) * ce
        else:
            out["loss"] = ce
        return out
