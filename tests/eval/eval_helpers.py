"""Hand-made runs for the eval/tables/report tests: tiny random HF models with a word-level tokenizer built
here (no download), variant.json files in the quantize stage's schema, and the eval config."""

from __future__ import annotations

import json
from pathlib import Path

from omegaconf import OmegaConf

from costlab.config import PROJECT_ROOT

CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def _vocab_text() -> str:
    parts = []
    for f in sorted((PROJECT_ROOT / "data" / "eval").glob("*.jsonl")):
        parts.append(f.read_text(encoding="utf-8"))
    return "\n".join(parts)


def tiny_tokenizer():
    import re

    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    words = sorted(set(re.findall(r"\w+|[^\w\s]", _vocab_text())))
    special = ["<unk>", "<|im_start|>", "<|im_end|>", "\n"]
    vocab = {t: i for i, t in enumerate(special + [w for w in words if w not in special])}
    tk = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tk.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Split("\n", behavior="isolated"), pre_tokenizers.Whitespace()]
    )
    tk.decoder = decoders.WordPiece(prefix="##")  # joins with spaces
    tok = PreTrainedTokenizerFast(
        tokenizer_object=tk,
        unk_token="<unk>",
        eos_token="<|im_end|>",
        pad_token="<|im_end|>",
        additional_special_tokens=["<|im_start|>"],
    )
    tok.chat_template = CHATML
    return tok


def tiny_model_dir(path: Path, seed: int, tok=None, layers: int = 2, hidden: int = 32) -> Path:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = tok or tiny_tokenizer()
    torch.manual_seed(seed)
    cfg = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
        bos_token_id=tok.eos_token_id,
        tie_word_embeddings=True,
    )
    model = LlamaForCausalLM(cfg).eval()
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


def write_variant(
    run_dir: Path,
    name: str,
    base: str,
    fmt: str,
    path: str | None,
    backend: str,
    status: str = "ok",
    error: str | None = None,
    quant: str | None = None,
) -> None:
    d = run_dir / "variants" / name
    d.mkdir(parents=True, exist_ok=True)
    (d / "variant.json").write_text(
        json.dumps(
            {
                "name": name,
                "base": base,
                "format": fmt,
                "quant": quant,
                "path": path,
                "backend": backend,
                "status": status,
                "error": error,
                "size_mb": 1.0,
                "bits_per_weight": 32.0,
                "n_params": 1000,
                "build_seconds": 0.1,
                "sanity": {},
            }
        )
    )


MC_ITEMS = [
    ("What is 2 + 3 ?", ["5", "6", "4", "7"], 0),
    ("Which city is the capital of France ?", ["Rome", "Paris", "Berlin", "Madrid"], 1),
    ("What color is the sky ?", ["green", "red", "blue", "black"], 2),
    ("How many legs does a cat have ?", ["2", "3", "6", "4"], 3),
    ("What is 10 - 4 ?", ["6", "5", "7", "4"], 0),
    ("Which animal barks ?", ["cat", "dog", "cow", "fish"], 1),
    ("What is 3 times 3 ?", ["6", "8", "9", "12"], 2),
    ("Which is a fruit ?", ["stone", "chair", "road", "apple"], 3),
]
GEN_ITEMS = [
    ("What is the capital of Italy ?", ["Rome"]),
    ("What is 2 + 2 ?", ["4", "four"]),
    ("Which animal says moo ?", ["cow"]),
    ("What color is grass ?", ["green"]),
]
TEST_CLASSES = {"reasoning": "costlab_tmc", "qa": "costlab_tgen"}


def write_tasks(tasks_dir: Path) -> Path:
    """Two small lm-eval tasks (8 four-way MC items, 4 generation items) so the stage tests do not depend on the
    shipped eval data (which its own tests cover)."""
    tasks_dir.mkdir(parents=True, exist_ok=True)
    mc = tasks_dir / "mc.jsonl"
    mc.write_text(
        "".join(
            json.dumps({"id": f"mc-{i}", "question": q, "choices": c, "gold": g}) + "\n"
            for i, (q, c, g) in enumerate(MC_ITEMS)
        )
    )
    gen = tasks_dir / "gen.jsonl"
    gen.write_text(
        "".join(
            json.dumps({"id": f"gen-{i}", "question": q, "answers": a}) + "\n" for i, (q, a) in enumerate(GEN_ITEMS)
        )
    )
    (tasks_dir / "costlab_tmc.yaml").write_text(
        f"task: costlab_tmc\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: {mc}\ntest_split: test\n"
        'output_type: multiple_choice\ndoc_to_text: "{{question}}\\nAnswer:"\ndoc_to_choice: "{{choices}}"\n'
        "doc_to_target: gold\nmetric_list:\n  - metric: acc\n    aggregation: mean\n    higher_is_better: true\n"
        "metadata:\n  version: 1.0\n"
    )
    (tasks_dir / "costlab_tgen.yaml").write_text(
        f"task: costlab_tgen\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: {gen}\ntest_split: test\n"
        'output_type: generate_until\ndoc_to_text: "{{question}}"\ndoc_to_target: "{{answers[0]}}"\n'
        'generation_kwargs:\n  until: ["\\n"]\n  max_gen_toks: 3\n  do_sample: false\n'
        "process_results: !function costlab.eval.scoring.qa_process_results\n"
        "metric_list:\n  - metric: acc\n    aggregation: mean\n    higher_is_better: true\nmetadata:\n  version: 1.0\n"
    )
    return tasks_dir


def make_run(run_dir: Path) -> Path:
    """teacher-hf + student-hf (tiny random HF models) + one failed GGUF variant + a fidelity text file + two small
    eval tasks under <run>/tasks."""
    tok = tiny_tokenizer()
    tiny_model_dir(run_dir / "variants" / "teacher-hf" / "model", seed=1, tok=tok)
    tiny_model_dir(run_dir / "variants" / "student-hf" / "model", seed=2, tok=tok, layers=1)
    write_variant(run_dir, "teacher-hf", "teacher", "hf", "variants/teacher-hf/model", "hf")
    write_variant(run_dir, "student-hf", "student", "hf", "variants/student-hf/model", "hf")
    write_variant(
        run_dir,
        "student-Q2_K",
        "student",
        "gguf",
        None,
        "llama.cpp",
        status="failed",
        error="llama_model_quantize returned 1",
        quant="Q2_K",
    )
    (run_dir / "fidelity.txt").write_text(_vocab_text()[:3000], encoding="utf-8")
    write_tasks(run_dir / "tasks")
    return run_dir


def eval_cfg(run_dir: Path, **over) -> OmegaConf:
    """Root config + eval group, shrunk for tests (the two test tasks: 3 MC items, 2 generation items; 2 latency
    reps, few tokens)."""
    from tests.conftest import compose_config

    overrides = [
        f"paths.runs_dir={run_dir.parent}",
        f"run_id={run_dir.name}",
        "exp_name=.",
        "+eval=default",
        "eval.isolate=false",
        "eval.quality.limit=3",
        "eval.quality.class_limits={qa: 2}",
        f"eval.quality.tasks_dir={run_dir / 'tasks'}",
        "eval.stats.n_boot=200",
        "eval.latency.reps=2",
        "eval.latency.new_tokens=4",
        "eval.latency.prompt_tokens=16",
        "eval.latency.concurrency=2",
        f"eval.fidelity.source={run_dir / 'fidelity.txt'}",
        "eval.fidelity.max_tokens=256",
        "eval.fidelity.seq_len=64",
        "eval.threads=1",
        "eval.report.wandb.enabled=false",
    ]
    overrides = [o for o in overrides if o.split("=", 1)[0] not in over]  # caller's value wins
    overrides += [f"{k}={v}" for k, v in over.items()]
    cfg = compose_config(overrides)
    cfg.paths.run_dir = str(run_dir)
    if "eval.quality.tasks" not in over:  # assignment replaces the mapping (an override would merge into it)
        cfg.eval.quality.tasks = dict(TEST_CLASSES)
    return cfg
