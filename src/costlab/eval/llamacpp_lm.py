"""An lm-eval model class that runs a GGUF file in-process through llama-cpp-python.

Same tasks, same prompts (chat template from the GGUF's own metadata), same tokenization split as lm-eval's
``hf`` model (TemplateLM: context and context+continuation encoded, no BOS added), greedy generation — so a
GGUF variant and an HF variant answer exactly the same requests.

loglikelihood: ``Llama(logits_all=True).eval(tokens)`` then log-softmax over ``scores``; the KV cache of a
shared prefix (the context of a multiple-choice question) is reused between options.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from lm_eval.api.model import TemplateLM
from tqdm.auto import tqdm

from costlab.errors import CostlabError
from costlab.llamacpp import load_llama


def _log_softmax(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float64)
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


class LlamaCppLM(TemplateLM):
    """lm-eval LM over ``llama_cpp.Llama``. Pass an existing ``llm`` (created with ``logits_all=True``) or a path."""

    def __init__(
        self,
        model_path: str | None = None,
        llm: Any = None,
        n_ctx: int = 1024,
        n_threads: int = 1,
        seed: int = 0,
        max_gen_toks: int = 256,
    ) -> None:
        super().__init__()
        if llm is None:
            if model_path is None or not Path(model_path).is_file():
                raise CostlabError(f"GGUF file not found: {model_path}", "check the variant path")
            llm = load_llama(model_path, n_ctx=n_ctx, threads=n_threads, logits_all=True, seed=seed)
        if not getattr(llm, "_logits_all", True):
            raise CostlabError("LlamaCppLM needs a Llama created with logits_all=True")
        self.llm = llm
        self.model_path = str(model_path or getattr(llm, "model_path", "gguf"))
        self._max_gen_toks = max_gen_toks
        self._eot = int(llm.token_eos())
        self._formatter = None

    # ------------------------------------------------------------------ tokenization / chat template
    @property
    def eot_token_id(self) -> int:
        return self._eot

    @property
    def max_length(self) -> int:
        return int(self.llm.n_ctx())

    @property
    def tokenizer_name(self) -> str:
        return self.model_path

    def tok_encode(self, string: str, add_special_tokens: bool | None = None, **kwargs) -> list[int]:
        # lm-eval's hf model adds no BOS unless asked (add_bos_token=False); special tokens in the text
        # (<|im_start|> from the chat template) are parsed as such, as HF tokenizers do.
        return list(self.llm.tokenize(string.encode("utf-8"), add_bos=bool(add_special_tokens), special=True))

    def tok_decode(self, tokens: list[int]) -> str:
        return self.llm.detokenize(tokens).decode("utf-8", errors="replace")

    def chat_template(self, chat_template: bool | str = False) -> str | None:
        return self.llm.metadata.get("tokenizer.chat_template") if chat_template else None

    def apply_chat_template(self, chat_history: list[dict[str, str]], add_generation_prompt: bool = True) -> str:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        template = self.llm.metadata.get("tokenizer.chat_template")
        if not template:
            raise CostlabError(
                f"{self.model_path}: the GGUF has no tokenizer.chat_template",
                "set eval.quality.apply_chat_template=false (for every variant, to stay comparable)",
            )
        special = lambda t: self.llm.detokenize([t], special=True).decode("utf-8", errors="replace")  # noqa: E731
        fmt = Jinja2ChatFormatter(
            template,
            eos_token=special(self.llm.token_eos()),
            bos_token=special(self.llm.token_bos()),
            add_generation_prompt=add_generation_prompt,
        )
        return fmt(messages=chat_history).prompt

    # ------------------------------------------------------------------ scoring
    def _eval_with_prefix(self, tokens: list[int]) -> None:
        """Evaluate ``tokens`` reusing the KV cache of the longest common prefix with what is loaded."""
        llm = self.llm
        n_old = llm.n_tokens
        prefix = 0
        if n_old:
            old = llm.input_ids[:n_old]
            lim = min(n_old, len(tokens))
            while prefix < lim and old[prefix] == tokens[prefix]:
                prefix += 1
        prefix = min(prefix, len(tokens) - 1)  # always decode ≥1 token so the last logits are fresh
        if prefix == 0:
            llm.reset()
        else:
            llm.n_tokens = prefix
        llm.eval(tokens[prefix:])

    def _loglikelihood_tokens(self, requests, disable_tqdm: bool = False, **kwargs) -> list[tuple[float, bool]]:
        out = []
        n_ctx = self.max_length
        for req, context_enc, continuation_enc in tqdm(requests, disable=disable_tqdm, desc="llama.cpp loglikelihood"):
            whole = (list(context_enc) + list(continuation_enc))[-n_ctx:]
            n_cont = len(continuation_enc)
            if n_cont == 0 or len(whole) < 2:
                out.append((0.0, True))
                continue
            self._eval_with_prefix(whole)
            L = len(whole)
            logits = np.array(self.llm.scores[L - n_cont - 1 : L - 1, :], dtype=np.float32)
            logp = _log_softmax(logits)
            tgt = np.asarray(whole[L - n_cont :])
            ll = float(logp[np.arange(n_cont), tgt].sum())
            greedy = bool((logp.argmax(-1) == tgt).all())
            out.append((ll, greedy))
            if self.cache_hook is not None:
                self.cache_hook.add_partial("loglikelihood", req, (ll, greedy))
        return out

    def loglikelihood_rolling(self, requests, disable_tqdm: bool = False) -> list[float]:
        from lm_eval import utils

        out = []
        for (string,) in tqdm([r.args for r in requests], disable=disable_tqdm, desc="llama.cpp rolling"):
            windows = list(
                map(
                    utils.make_disjoint_window,
                    utils.get_rolling_token_windows(
                        token_list=self.tok_encode(string),
                        prefix_token=self.prefix_token_id,
                        max_seq_len=self.max_length,
                        context_len=1,
                    ),
                )
            )
            total = 0.0
            for ctx, cont in windows:
                total += self._loglikelihood_tokens([(None, ctx, cont)], disable_tqdm=True)[0][0]
            out.append(total)
        return out

    def generate_until(self, requests, disable_tqdm: bool = False) -> list[str]:
        out = []
        for context, gen_kwargs in tqdm([r.args for r in requests], disable=disable_tqdm, desc="llama.cpp generate"):
            kw = dict(gen_kwargs or {})
            until = kw.pop("until", None) or []
            if isinstance(until, str):
                until = [until]
            max_new = int(kw.pop("max_gen_toks", self._max_gen_toks))
            if kw.get("do_sample") or float(kw.get("temperature", 0.0) or 0.0) > 0:
                raise CostlabError(
                    "LlamaCppLM generates greedily only (quality must be reproducible)",
                    "remove do_sample/temperature from the task's generation_kwargs",
                )
            ctx = self.tok_encode(context)[-(self.max_length - max_new) :]
            self.llm.reset()  # no prefix reuse across requests: each answer depends only on its own prompt
            res = self.llm.create_completion(
                prompt=ctx, max_tokens=max_new, temperature=0.0, top_k=1, repeat_penalty=1.0, stop=until or None, seed=0
            )
            text = res["choices"][0]["text"]
            for u in until:  # llama.cpp already stops at these; keep lm-eval's exact cut semantics
                if u and u in text:
                    text = text.split(u)[0]
            out.append(text)
            if self.cache_hook is not None:
                self.cache_hook.add_partial("generate_until", (context, gen_kwargs), text)
        return out
