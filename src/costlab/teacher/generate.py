"""Teacher data: prompts → teacher responses with per-token top-k log-probs, resumable.

Output rows (``teacher_data/<split>.jsonl``)::

  {"id", "task_class", "messages", "response", "finish_reason", "truncated", "n_tokens",
   "prompt_ids": <codec int32>, "response_ids": <codec int32>,            # local backend: exact token ids
   "topk": {"k", "temperature", "ids": <codec uint16 [n, k]>, "logprobs": <codec float16 [n, k]>},
   "backend", "model"}

The API backend stores ``topk.tokens`` (token strings, as endpoints return them) instead of ids.
``truncated`` is true when the teacher was cut off at ``max_new_tokens`` (finish_reason "length"): such rows carry
no EOS, and ``teacher_data.truncated_rows`` decides whether training keeps or drops them (costlab.distill.data).

API requests go through a bounded pool (``backend.concurrency`` in flight at most); each finished row is appended
at once (flushed + fsynced, one writer thread), so a kill loses only requests still in flight. When every prompt
is done the file is rewritten atomically in prompt order, so downstream data order does not depend on which
request finished first.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import DictConfig
from tqdm.auto import tqdm

from costlab.data.prompts import load_prompts
from costlab.errors import CostlabError
from costlab.io import ResumableJsonl, atomic_write_text
from costlab.teacher import codec

SPLITS = ("train", "heldout")


@dataclass
class GenParams:
    max_new_tokens: int
    do_sample: bool
    temperature: float
    top_k_logprobs: int
    logprob_temperature: float


class HFBackend:
    """Local transformers model: batched ``generate`` with raw logits → top-k log-probs at ``logprob_temperature``."""

    name = "hf"

    def __init__(self, gen: GenParams, model, tokenizer, model_name: str, batch_size: int = 8, max_context: int = 2048):
        self.gen, self.model, self.tok, self.model_name = gen, model, tokenizer, model_name
        self.batch_size, self.max_context = batch_size, max_context

    def prompt_ids(self, prompt: dict) -> list[int]:
        return list(
            self.tok.apply_chat_template(
                prompt["messages"], add_generation_prompt=True, tokenize=True, return_dict=True
            )["input_ids"]
        )

    def check_lengths(self, prompts: list[dict], path: str) -> None:
        for p in prompts:
            n = len(self.prompt_ids(p))
            if n + self.gen.max_new_tokens > self.max_context:
                raise CostlabError(
                    f"{path}: prompt {p['id']!r} has {n} tokens + teacher_data.max_new_tokens="
                    f"{self.gen.max_new_tokens} > teacher.max_context={self.max_context}",
                    "shorten the prompt, lower max_new_tokens, or raise teacher.max_context if the model allows it",
                )

    def generate(self, prompts: list[dict]) -> list[dict]:
        import torch

        g, tok = self.gen, self.tok
        ids = [self.prompt_ids(p) for p in prompts]
        L = max(map(len, ids))
        pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        inp = torch.full((len(ids), L), pad, dtype=torch.long)
        att = torch.zeros((len(ids), L), dtype=torch.long)
        for i, x in enumerate(ids):  # left padding for generation
            inp[i, L - len(x) :] = torch.tensor(x)
            att[i, L - len(x) :] = 1
        dev = next(self.model.parameters()).device
        kw: dict[str, Any] = dict(
            max_new_tokens=g.max_new_tokens,
            do_sample=g.do_sample,
            pad_token_id=pad,
            output_logits=True,
            return_dict_in_generate=True,
        )
        if g.do_sample:
            kw["temperature"] = g.temperature
        else:
            kw.update(temperature=None, top_p=None, top_k=None)
        with torch.no_grad():
            out = self.model.generate(input_ids=inp.to(dev), attention_mask=att.to(dev), **kw)
        seqs = out.sequences[:, L:].cpu()
        logits = torch.stack(out.logits, dim=1).float().cpu()  # [B, steps, V] raw (unprocessed) logits
        logp = torch.log_softmax(logits / g.logprob_temperature, dim=-1)
        top_lp, top_id = logp.topk(g.top_k_logprobs, dim=-1)
        eos = set([tok.eos_token_id] if isinstance(tok.eos_token_id, int) else tok.eos_token_id or [])
        gen_cfg_eos = self.model.generation_config.eos_token_id
        eos |= set([gen_cfg_eos] if isinstance(gen_cfg_eos, int) else gen_cfg_eos or [])
        idt = codec.id_dtype(logits.shape[-1])
        rows = []
        for i, p in enumerate(prompts):
            resp = seqs[i].tolist()
            n, finish = len(resp), "length"
            for j, t in enumerate(resp):
                if t in eos:
                    n, finish = j + 1, "stop"  # keep the EOS token: the student must learn to stop
                    break
            rows.append(
                {
                    "id": p["id"],
                    "task_class": p["task_class"],
                    "messages": p["messages"],
                    "response": tok.decode(resp[:n], skip_special_tokens=True),
                    "finish_reason": finish,
                    "truncated": finish == "length",
                    "n_tokens": n,
                    "prompt_ids": codec.encode(np.array(ids[i]), "int32"),
                    "response_ids": codec.encode(np.array(resp[:n]), "int32"),
                    "topk": {
                        "k": g.top_k_logprobs,
                        "temperature": g.logprob_temperature,
                        "ids": codec.encode(top_id[i, :n].numpy(), idt),
                        "logprobs": codec.encode(top_lp[i, :n].numpy(), "float16"),
                    },
                    "backend": self.name,
                    "model": self.model_name,
                    **({"reference": p["reference"]} if "reference" in p else {}),
                }
            )
        return rows


class OpenAIBackend:
    """Any OpenAI-compatible chat endpoint (llama.cpp server, vLLM, OpenAI) via the official SDK.

    Uses ``logprobs``/``top_logprobs`` where the endpoint supports them (OpenAI caps top_logprobs at 20). Endpoints
    return token *strings*, so rows carry ``topk.tokens`` rather than ids: usable for sequence-level KD and analysis;
    offline top-k logit KD needs the local backend (token ids of the student's vocabulary).
    """

    name = "openai"

    def __init__(
        self,
        gen: GenParams,
        base_url: str | None,
        model: str,
        api_key: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        concurrency: int = 8,
        timeout_s: float = 120.0,
        max_retries: int = 3,
        request_logprobs: bool = True,
    ):
        from openai import OpenAI

        from costlab.paths import secret

        # the key comes from the variable the config names, at this moment: never through the config, so the
        # run's config.yaml never holds it (api_key is for callers that hold a key themselves)
        api_key = api_key or secret(api_key_env) or "sk-no-key"

        if gen.logprob_temperature != 1.0 and request_logprobs:
            raise CostlabError(
                "teacher_data.logprob_temperature must be 1.0 with the openai backend",
                "endpoints return log-probs at temperature 1; set it to 1.0 (and distill.loss.temperature to match for top-k KD)",
            )
        if int(concurrency) < 1:
            raise CostlabError(f"teacher_data.backend.concurrency={concurrency}", "use 1 or more requests in flight")
        self.gen, self.model_name, self.concurrency = gen, model, int(concurrency)
        self.request_logprobs = request_logprobs
        self.base_url = base_url
        self.client = OpenAI(base_url=base_url, api_key=api_key, timeout=timeout_s, max_retries=max_retries)

    def check_lengths(self, prompts: list[dict], path: str) -> None:  # the endpoint enforces its own context
        return None

    def complete_one(self, p: dict) -> dict:
        """One prompt → one row (one request; the SDK retries transient errors). Thread-safe."""
        g = self.gen
        kw: dict[str, Any] = dict(
            model=self.model_name,
            messages=p["messages"],
            max_tokens=g.max_new_tokens,
            temperature=g.temperature if g.do_sample else 0.0,
        )
        if self.request_logprobs:
            kw.update(logprobs=True, top_logprobs=g.top_k_logprobs)
        r = self.client.chat.completions.create(**kw)
        ch = r.choices[0]
        row = {
            "id": p["id"],
            "task_class": p["task_class"],
            "messages": p["messages"],
            "response": ch.message.content or "",
            "finish_reason": ch.finish_reason,
            "truncated": ch.finish_reason == "length",
            "n_tokens": (r.usage.completion_tokens if r.usage else None),
            "backend": self.name,
            "model": self.model_name,
            **({"reference": p["reference"]} if "reference" in p else {}),
        }
        content = getattr(ch.logprobs, "content", None) if ch.logprobs else None
        if content:
            toks = [[t.token for t in c.top_logprobs] for c in content]
            lps = [[t.logprob for t in c.top_logprobs] for c in content]
            k = min(len(x) for x in lps) if lps else 0
            row["topk"] = {
                "k": k,
                "temperature": 1.0,
                "tokens": [t[:k] for t in toks],
                "logprobs": codec.encode(np.array([x[:k] for x in lps], dtype=np.float32), "float16"),
            }
        return row


def _pooled(backend, todo: list[dict], store: ResumableJsonl, on_row) -> None:
    """Keep at most ``backend.concurrency`` requests in flight; append each row as soon as it arrives.

    A request that still fails after the SDK's retries stops the run with the prompt id; rows already received
    (including ones that completed meanwhile) are written first, so a re-run redoes only what is missing.
    """
    it = iter(todo)
    inflight: dict[cf.Future, dict] = {}
    ex = cf.ThreadPoolExecutor(backend.concurrency, thread_name_prefix="teacher")

    def submit() -> None:
        p = next(it, None)
        if p is not None:
            inflight[ex.submit(backend.complete_one, p)] = p

    try:
        for _ in range(backend.concurrency):
            submit()
        while inflight:
            done, _ = cf.wait(list(inflight), return_when=cf.FIRST_COMPLETED)
            for f in done:
                p = inflight.pop(f)
                try:
                    row = f.result()
                except Exception as e:  # noqa: BLE001 - reported with the prompt id below
                    for g in [g for g in inflight if g.done() and not g.cancelled() and g.exception() is None]:
                        on_row(g.result())  # already paid for: keep it
                        inflight.pop(g)
                    raise CostlabError(
                        f"teacher request for prompt {p['id']!r} failed at {getattr(backend, 'base_url', '?')} "
                        f"({type(e).__name__}: {e})",
                        f"{len(store.done)} rows are saved in {store.path}; fix the endpoint and re-run: only the "
                        "missing prompts are requested",
                    ) from e
                on_row(row)
                submit()
    finally:
        ex.shutdown(wait=False, cancel_futures=True)


def _put_in_prompt_order(out_path: Path, prompts: list[dict]) -> list[dict]:
    """A complete file whose rows are not in prompt order (concurrent requests finish in any order) is rewritten
    atomically in prompt order. Returns the rows."""
    from costlab.io import read_jsonl

    rows = read_jsonl(out_path, allow_empty=True)
    want = [str(p["id"]) for p in prompts]
    if [str(r["id"]) for r in rows] != want:
        by_id = {str(r["id"]): r for r in rows}
        rows = [by_id[i] for i in want]
        atomic_write_text(out_path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return rows


def generate_file(backend, prompts: list[dict], out_path: Path, desc: str) -> dict:
    """Append teacher rows for prompts not yet in ``out_path``; returns counts. Safe to kill at any point."""
    from costlab.distill.data import is_truncated

    t0 = time.time()
    tokens = 0
    with ResumableJsonl(out_path) as store:
        if store.repaired_bytes:
            print(f"[costlab] {out_path}: dropped a torn last line ({store.repaired_bytes} bytes); it will be redone")
        todo = [p for p in prompts if p["id"] not in store.done]
        skipped = len(prompts) - len(todo)
        with tqdm(total=len(prompts), initial=skipped, desc=desc, unit="prompt") as bar:

            def on_row(row: dict) -> None:
                nonlocal tokens
                store.append(row)
                tokens += row.get("n_tokens") or 0
                bar.update(1)

            if hasattr(backend, "complete_one"):  # API: bounded pool of concurrent requests
                _pooled(backend, todo, store, on_row)
            else:  # local model: batched generate
                for i in range(0, len(todo), backend.batch_size):
                    for row in backend.generate(todo[i : i + backend.batch_size]):
                        on_row(row)
    rows = _put_in_prompt_order(out_path, prompts)
    dt = time.time() - t0
    return {
        "rows": len(prompts),
        "generated": len(todo),
        "skipped_done": skipped,
        "new_tokens": tokens,
        "truncated": sum(map(is_truncated, rows)),
        "seconds": round(dt, 1),
        "tok_per_s": round(tokens / dt, 2) if dt > 0 and tokens else None,
    }


def _split_file(cfg: DictConfig, split: str) -> tuple[str, int | None]:
    return str(cfg.data[f"{split}_file"]), cfg.data.get(f"max_{split}")


def build_backend(cfg: DictConfig):
    from hydra.utils import instantiate

    td = cfg.teacher_data
    gen = GenParams(
        int(td.max_new_tokens),
        bool(td.do_sample),
        float(td.temperature),
        int(td.top_k_logprobs),
        float(td.logprob_temperature),
    )
    factory = instantiate(td.backend)  # a functools.partial (backend configs set _partial_: true)
    if factory.func is HFBackend:
        from costlab.models import load_model_and_tokenizer

        model, tok, path = load_model_and_tokenizer(cfg.teacher, cfg.paths.cache_dir)
        return factory(
            gen=gen,
            model=model,
            tokenizer=tok,
            model_name=str(cfg.teacher.name),
            max_context=int(cfg.teacher.max_context),
        )
    return factory(gen=gen)


def run_stage(cfg: DictConfig, run_dir: Path, out_dir: Path) -> dict:
    prompts = {s: load_prompts(*_split_file(cfg, s)) for s in SPLITS}
    overlap = {p["id"] for p in prompts["train"]} & {p["id"] for p in prompts["heldout"]}
    if overlap:
        raise CostlabError(
            f"{len(overlap)} prompt ids are in both train and heldout (e.g. {sorted(overlap)[:3]})",
            "the held-out split must be disjoint from training data",
        )
    backend = build_backend(cfg)
    for s in SPLITS:
        backend.check_lengths(prompts[s], _split_file(cfg, s)[0])
    metrics = {}
    for s in SPLITS:
        metrics[s] = generate_file(backend, prompts[s], out_dir / f"{s}.jsonl", desc=f"teacher {s}")
    return metrics
