"""A third eval backend, added the way a new runtime would be: this module + one entry under eval.backends.

It "serves" a variant with a fixed rule (no model): log-likelihood prefers the shortest option, generation
answers a fixed word, logits are seeded noise over the reference's vocabulary, latency is a fixed schedule.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator, Mapping

from lm_eval.api.model import LM
from pydantic import BaseModel, ConfigDict

from costlab.eval.backends.base import EvalBackend


class _RuleLM(LM):
    def __init__(self, answer: str):
        super().__init__()
        self.answer = answer

    def loglikelihood(self, requests, disable_tqdm: bool = False):
        return [(-float(len(r.args[1])), False) for r in requests]

    def loglikelihood_rolling(self, requests, disable_tqdm: bool = False):
        return [-float(len(r.args[0])) for r in requests]

    def generate_until(self, requests, disable_tqdm: bool = False):
        return [self.answer for _ in requests]

    def apply_chat_template(self, chat_history, add_generation_prompt: bool = True) -> str:
        return "\n".join(m["content"] for m in chat_history)

    @property
    def tokenizer_name(self) -> str:
        return "fake"


class FakeBackend(EvalBackend):
    kind = "fake"

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")
        vocab: int
        answer: str

    def __init__(self, vocab: int, answer: str):
        self.vocab, self.answer = vocab, answer
        self.loaded: Path | None = None

    def load(self, path: Path, variant: Mapping[str, Any], threads: int, seed: int) -> None:
        if not Path(path).is_file():
            raise FileNotFoundError(path)
        self.loaded, self.seed = Path(path), seed

    def quality_lm(self):
        return _RuleLM(self.answer)

    def vocab_size(self) -> int:
        return self.vocab

    def sequence_logits(self, seqs: list[dict], batch_size: int) -> Iterator[Any]:
        import torch

        g = torch.Generator().manual_seed(self.seed)
        for s in seqs:
            yield torch.randn(len(s["input_ids"]) - int(s["start"]), self.vocab, generator=g)

    def latency_runner(self, n_prompts: int, prompt_tokens: int, new_tokens: int, concurrency: int):
        def run(prompts, n):
            return 0.010, [0.002] * (n - 1)

        return run, [[1] * prompt_tokens for _ in range(n_prompts)], "batch1"
