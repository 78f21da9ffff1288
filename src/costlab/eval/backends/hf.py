"""HF backend: every checkpoint transformers loads (hf, bnb, GPTQ/AWQ via gptqmodel / compressed-tensors)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field

from costlab.eval.backends.base import EvalBackend

# extra modules transformers needs to load a quantized checkpoint, by (format, the quantize stage's backend)
FORMAT_MODULES = {
    ("bnb", None): ("bitsandbytes", "pip install -e '.[quant]'"),
    ("gptq", "gptqmodel"): (
        "gptqmodel",
        "pip install -c constraints.txt gptqmodel==7.6.0 (docs/facts.md), or "
        "measure it on the machine/venv that built it",
    ),
    ("awq", "gptqmodel"): ("gptqmodel", "pip install -c constraints.txt gptqmodel==7.6.0, or measure it on a GPU box"),
    ("gptq", None): ("compressed_tensors", "pip install compressed-tensors"),
    ("awq", None): ("compressed_tensors", "pip install compressed-tensors"),
}


class HFBackend(EvalBackend):
    """transformers model + lm-eval's HFLM (batched log-likelihood and generation)."""

    kind = "hf"
    concurrency_methods = ("batched_forward",)

    class Params(BaseModel):
        """eval.backends.hf keys (typed; validated with the rest of the config)."""

        model_config = ConfigDict(extra="forbid")
        device: str
        dtype: Literal["float32", "bfloat16", "float16"]
        batch_size: int = Field(ge=1)
        max_length: int = Field(ge=16)
        shared_context: bool

    def __init__(self, device: str, dtype: str, batch_size: int, max_length: int, shared_context: bool):
        self.device, self.dtype = device, dtype
        self.batch_size, self.max_length, self.shared_context = batch_size, max_length, shared_context
        self.model = self._tok = None

    def requirements(self, variant: Mapping[str, Any]) -> list[tuple[str, str]]:
        need = [("transformers", "pip install -e '.[all]'")]
        fmt, be = variant.get("format"), variant.get("backend")
        extra = FORMAT_MODULES.get((fmt, be)) or FORMAT_MODULES.get((fmt, None))
        return need + ([extra] if extra else [])

    def load(self, path: Path, variant: Mapping[str, Any], threads: int, seed: int) -> None:
        from costlab.models import load_causal_lm, load_tokenizer

        # bnb checkpoints are placed by bitsandbytes
        self.model = load_causal_lm(
            str(path), dtype=self.dtype, device=None if variant.get("format") == "bnb" else self.device
        )
        self._tok = load_tokenizer(str(path))

    @property
    def tokenizer(self):
        return self._tok

    def quality_lm(self):
        from lm_eval.models.huggingface import HFLM

        from costlab.eval.hf_lm import SharedPrefixHFLM

        cls = SharedPrefixHFLM if self.shared_context else HFLM
        return cls(pretrained=self.model, tokenizer=self._tok, batch_size=self.batch_size, max_length=self.max_length)

    def vocab_size(self) -> int:
        return int(self.model.get_output_embeddings().weight.shape[0])

    def sequence_logits(self, seqs: list[dict], batch_size: int) -> Iterator[Any]:
        import torch

        from costlab.fidelity import batch_logits

        self.model.eval()
        for i in range(0, len(seqs), batch_size):
            batch = seqs[i : i + batch_size]
            # no_grad around the forward only, never around a yield: a generator suspended (or abandoned, e.g. by
            # zip) inside the context would leave grad mode off for whoever runs next, and its late __exit__ on
            # garbage collection turns it off again at a random moment — later training then has no grad_fn
            with torch.no_grad():
                logits = batch_logits(self.model, batch)
            for j, s in enumerate(batch):
                L, st = len(s["input_ids"]), int(s["start"])
                yield logits[j, st - 1 : L - 1]

    def latency_runner(self, n_prompts: int, prompt_tokens: int, new_tokens: int, concurrency: int):
        from costlab.eval import latency as lat

        ids = self._tok(lat.prompt_text(), add_special_tokens=False)["input_ids"]
        method = "batched_forward" if concurrency > 1 else "batch1"
        return lat.hf_runner(self.model), lat.make_prompts(ids, n_prompts, prompt_tokens), method

    def gpu_peak_mb(self) -> float | None:
        import torch

        return torch.cuda.max_memory_allocated() / 1e6 if torch.cuda.is_available() else None

    def close(self) -> None:
        self.model = self._tok = None
