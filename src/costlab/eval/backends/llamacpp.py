"""llama.cpp backend: GGUF files through llama-cpp-python, in-process (quality via costlab.eval.llamacpp_lm)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator, Mapping

from pydantic import BaseModel, ConfigDict, Field

from costlab.errors import CostlabError
from costlab.eval.backends.base import EvalBackend


class LlamaCppBackend(EvalBackend):
    """One ``Llama(logits_all=True)`` for quality + fidelity; a fresh ``Llama(logits_all=False)`` for latency.

    llama-cpp-python's ``Llama`` decodes one sequence at a time, so this backend measures batch 1 only
    (``concurrency_methods`` is empty): a run with GGUF variants measures every variant at batch 1.
    """

    kind = "llama.cpp"
    concurrency_methods = ()

    class Params(BaseModel):
        """eval.backends.llama_cpp keys (typed; validated with the rest of the config)."""

        model_config = ConfigDict(extra="forbid")
        n_ctx: int = Field(ge=64)
        n_gpu_layers: int

    def __init__(self, n_ctx: int, n_gpu_layers: int):
        self.n_ctx, self.n_gpu_layers = n_ctx, n_gpu_layers
        self.llm = None
        self.path: Path | None = None
        self.threads, self.seed = 1, 0

    def requirements(self, variant: Mapping[str, Any]) -> list[tuple[str, str]]:
        return [("llama_cpp", "make install (builds llama-cpp-python) or pip install llama-cpp-python")]

    def _llama(self, n_ctx: int, logits_all: bool):
        from costlab.llamacpp import load_llama

        return load_llama(
            self.path,
            n_ctx=n_ctx,
            threads=self.threads,
            logits_all=logits_all,
            seed=self.seed,
            n_gpu_layers=self.n_gpu_layers,
        )

    def load(self, path: Path, variant: Mapping[str, Any], threads: int, seed: int) -> None:
        self.path, self.threads, self.seed = Path(path), threads, seed
        self.llm = self._llama(self.n_ctx, logits_all=True)

    def quality_lm(self):
        from costlab.eval.llamacpp_lm import LlamaCppLM

        return LlamaCppLM(llm=self.llm, model_path=str(self.path))

    def vocab_size(self) -> int:
        return int(self.llm.n_vocab())

    def sequence_logits(self, seqs: list[dict], batch_size: int) -> Iterator[Any]:
        import numpy as np
        import torch

        for s in seqs:
            ids, st = s["input_ids"], int(s["start"])
            L = len(ids)
            if L > self.llm.n_ctx():
                raise CostlabError(
                    f"fidelity sequence of {L} tokens > llama.cpp n_ctx {self.llm.n_ctx()}",
                    "raise eval.backends.llama_cpp.n_ctx or lower eval.fidelity.seq_len",
                )
            self.llm.reset()
            self.llm.eval(ids)
            yield torch.from_numpy(np.array(self.llm.scores[st - 1 : L - 1, :], dtype=np.float32))

    def latency_runner(self, n_prompts: int, prompt_tokens: int, new_tokens: int, concurrency: int):
        from costlab.eval import latency as lat

        if concurrency > 1:
            raise CostlabError(
                "the llama.cpp eval backend decodes one sequence at a time",
                "set eval.latency.concurrency: 1 (batch 1 for every variant)",
            )
        self.llm = None  # free the logits_all context first
        self.llm = self._llama(prompt_tokens + new_tokens + 16, logits_all=False)
        ids = self.llm.tokenize(lat.prompt_text().encode(), add_bos=False, special=False)
        return lat.llamacpp_runner(self.llm), lat.make_prompts(ids, n_prompts, prompt_tokens), "batch1"

    def close(self) -> None:
        self.llm = None
