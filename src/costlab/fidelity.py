"""Fidelity of a model to its teacher on the same tokens: mean per-token KL(teacher‖model), top-1 agreement,
perplexity. One definition for every format: callers supply logits (HF forward, llama.cpp scores, ...).

The teacher reference can be dense log-probs or top-k log-probs (+ tail bucket, see costlab.distill.losses);
with top-k the KL is between (k+1)-way distributions — a lower bound of the dense KL — and is reported as such.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from costlab.distill.losses import _kl, student_topk_with_tail, topk_with_tail


@dataclass
class FidelityAccumulator:
    """Accumulates token-level statistics over many sequences; ``result()`` gives the means."""

    kl_sum: float = 0.0
    agree: int = 0
    nll_sum: float = 0.0
    n: int = 0
    per_seq: list = field(default_factory=list)

    def add(
        self,
        model_logits: torch.Tensor,
        targets: torch.Tensor,
        teacher_logits: torch.Tensor | None = None,
        teacher_topk_ids: torch.Tensor | None = None,
        teacher_topk_logprobs: torch.Tensor | None = None,
    ) -> None:
        """One sequence: ``model_logits`` [L, V] predicting ``targets`` [L]; teacher signal aligned the same way."""
        logq = F.log_softmax(model_logits.float(), dim=-1)
        nll = -logq.gather(-1, targets.long()[:, None]).squeeze(-1)
        if teacher_logits is not None:
            if teacher_logits.shape[-1] != model_logits.shape[-1]:  # padded vocab rows (same tokenizer): compare
                V = min(teacher_logits.shape[-1], model_logits.shape[-1])  # the ids both can emit
                teacher_logits, logq = teacher_logits[..., :V], F.log_softmax(model_logits[..., :V].float(), dim=-1)
            logp = F.log_softmax(teacher_logits.float(), dim=-1)
            kl = _kl(logp, logq)
            t_top1 = logp.argmax(-1)
        elif teacher_topk_ids is not None:
            ids = teacher_topk_ids.long()
            kl = _kl(topk_with_tail(teacher_topk_logprobs.float()), student_topk_with_tail(logq, ids))
            t_top1 = ids.gather(-1, teacher_topk_logprobs.float().argmax(-1, keepdim=True)).squeeze(-1)
        else:
            kl, t_top1 = None, None
        n = targets.numel()
        self.n += n
        self.nll_sum += float(nll.sum())
        rec = {"n": n, "nll": float(nll.mean())}
        if kl is not None:
            self.kl_sum += float(kl.sum())
            a = int((logq.argmax(-1) == t_top1).sum())
            self.agree += a
            rec.update(kl=float(kl.mean()), top1=a / n)
        self.per_seq.append(rec)

    def result(self) -> dict:
        if self.n == 0:
            return {"n_tokens": 0}
        out = {"n_tokens": self.n, "ppl": math.exp(self.nll_sum / self.n), "nll": self.nll_sum / self.n}
        if self.per_seq and "kl" in self.per_seq[0]:
            out.update(kl=self.kl_sum / self.n, top1_agreement=self.agree / self.n)
        return out


@torch.no_grad()
def hf_fidelity(model, sequences: list[dict], teacher=None, batch_size: int = 4, desc: str = "fidelity") -> dict:
    """Fidelity of an HF causal LM on token sequences.

    ``sequences``: dicts with ``input_ids`` (list[int]) and ``start`` (index of the first scored target token,
    e.g. the first response token; earlier tokens are context only). Teacher: an HF model (dense) or
    per-sequence ``topk_ids``/``topk_logprobs`` arrays aligned with target positions start..L−1.
    """
    from tqdm.auto import tqdm

    acc = FidelityAccumulator()
    model.eval()
    for i in tqdm(range(0, len(sequences), batch_size), desc=desc, leave=False):
        batch = sequences[i : i + batch_size]
        logits = batch_logits(model, batch)
        t_logits = batch_logits(teacher, batch) if teacher is not None else None
        for j, seq in enumerate(batch):
            ids = torch.tensor(seq["input_ids"])
            s, L = int(seq["start"]), len(seq["input_ids"])
            if s < 1 or s >= L:
                continue
            ml = logits[j, s - 1 : L - 1]
            tgt = ids[s:L]
            if t_logits is not None:
                acc.add(ml, tgt, teacher_logits=t_logits[j, s - 1 : L - 1])
            elif "topk_ids" in seq:
                acc.add(
                    ml,
                    tgt,
                    teacher_topk_ids=torch.as_tensor(seq["topk_ids"]),
                    teacher_topk_logprobs=torch.as_tensor(seq["topk_logprobs"]),
                )
            else:
                acc.add(ml, tgt)
    return acc.result()


def batch_logits(model, batch: list[dict]) -> torch.Tensor:
    L = max(len(s["input_ids"]) for s in batch)
    ids = torch.zeros(len(batch), L, dtype=torch.long)
    att = torch.zeros(len(batch), L, dtype=torch.long)
    for j, s in enumerate(batch):  # right padding: positions < len are unaffected by padding in a causal LM
        ids[j, : len(s["input_ids"])] = torch.tensor(s["input_ids"])
        att[j, : len(s["input_ids"])] = 1
    dev = next(model.parameters()).device
    return model(input_ids=ids.to(dev), attention_mask=att.to(dev)).logits.float().cpu()
