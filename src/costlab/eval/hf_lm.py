"""lm-eval's ``hf`` model with the context of a multiple-choice question computed once for all its options.

lm-eval's HFLM scores every (context, option) pair as its own sequence, so a 4-way question with a ~70-token
chat-templated context costs 4 context forwards. Here the requests are grouped by context: one forward of the
context (KV cache kept), then all options of that context in one batch on top of the cache (right-padded:
padding after a token never affects it in a causal LM). Same log-likelihoods up to float rounding, ~k× fewer
context tokens. Requests that do not fit (longer than max_length, empty context/continuation) go through
HFLM's own path.
"""

from __future__ import annotations

import inspect

import torch
import torch.nn.functional as F
from lm_eval.models.huggingface import HFLM
from tqdm.auto import tqdm


class SharedPrefixHFLM(HFLM):
    @torch.no_grad()
    def _score_group(self, ctx: list[int], conts: list[list[int]]) -> list[tuple[float, bool]]:
        model = self.model
        params = inspect.signature(model.forward).parameters
        cache_kw = "cache" if "cache" in params else "past_key_values"  # transformers 5.x renamed it
        keep = {"logits_to_keep": 1} if "logits_to_keep" in params else {}  # the context's last position only
        out = model(input_ids=torch.tensor([ctx], device=self.device), use_cache=True, **keep)
        first = F.log_softmax(out.logits[0, -1].float(), dim=-1)
        k, L = len(conts), max(len(c) for c in conts)
        rest = None
        if L > 1:
            past = getattr(out, "cache", None) or out.past_key_values
            past.batch_repeat_interleave(k)
            pad = conts[0][0]
            inp = torch.full((k, L - 1), pad, dtype=torch.long, device=self.device)
            for j, c in enumerate(conts):
                if len(c) > 1:
                    inp[j, : len(c) - 1] = torch.tensor(c[:-1], device=self.device)
            rest = F.log_softmax(model(input_ids=inp, use_cache=False, **{cache_kw: past}).logits.float(), dim=-1)
        res = []
        for j, c in enumerate(conts):
            ll, greedy = float(first[c[0]]), int(first.argmax()) == c[0]
            for t in range(1, len(c)):
                row = rest[j, t - 1]
                ll += float(row[c[t]])
                greedy = greedy and int(row.argmax()) == c[t]
            res.append((ll, greedy))
        return res

    def _loglikelihood_tokens(self, requests, disable_tqdm: bool = False, override_bs: int | None = None):
        groups: dict[tuple[int, ...], list[int]] = {}
        for i, (_, ctx, _cont) in enumerate(requests):
            groups.setdefault(tuple(ctx), []).append(i)
        out: list = [None] * len(requests)
        fallback: list[int] = []
        for ctx, idx in tqdm(groups.items(), disable=disable_tqdm, desc="loglikelihood (shared context)"):
            conts = [list(requests[i][2]) for i in idx]
            if not ctx or any(not c for c in conts) or len(ctx) + max(map(len, conts)) > self.max_length:
                fallback += idx
                continue
            for i, r in zip(idx, self._score_group(list(ctx), conts)):
                out[i] = r
                if self.cache_hook is not None:
                    self.cache_hook.add_partial("loglikelihood", requests[i][0], r)
        if fallback:
            fb = super()._loglikelihood_tokens(
                [requests[i] for i in fallback], disable_tqdm=True, override_bs=override_bs
            )
            for i, r in zip(fallback, fb):
                out[i] = r
        return out
