"""The OpenAI backend against a real local OpenAI-compatible server (llama-cpp-python's, serving the embedded
SmolLM2) that truncates: finish_reason "length" rows keep no EOS and are kept-and-flagged or dropped; concurrency > 1
with a bounded pool keeps the resumable JSONL exact, also across a SIGKILL."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

pytestmark = [pytest.mark.llama_cpp, pytest.mark.integration]

from costlab.distill.data import build_examples  # noqa: E402
from costlab.io import read_jsonl  # noqa: E402
from costlab.paths import PROJECT_ROOT, offline_env  # noqa: E402
from costlab.pipeline import open_run, run_stage  # noqa: E402
from costlab.serving.testing import llama_server  # noqa: E402

SHORT = ["Reply with one word: yes or no. Is water wet?", "Answer with a single number: 2 + 2 ="]
LONG = [
    "Write a short story about a lighthouse keeper.",
    "Explain how rain forms, in detail.",
    "List ten animals that live in the ocean and describe each.",
    "Describe the history of bread.",
    "Write a poem about autumn leaves.",
    "Explain what a compiler does, step by step.",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    pytest.importorskip("llama_cpp.server", reason="llama-cpp-python[server] not installed (make install)")
    log = tmp_path_factory.mktemp("server") / "server.log"
    with llama_server("--logits_all", "true", "--model_alias", "smollm2", log_path=str(log)) as url:
        yield url


def _prompt_file(path, texts, prefix="p"):
    with path.open("w") as f:
        for i, t in enumerate(texts):
            f.write(
                json.dumps({"id": f"{prefix}{i:02d}", "task_class": "qa", "messages": [{"role": "user", "content": t}]})
                + "\n"
            )
    return path


def test_truncating_server_rows_have_no_eos_and_follow_the_policy(
    server, compose, tiny_run_overrides, tmp_path, tokenizer
):
    train = _prompt_file(tmp_path / "train.jsonl", SHORT + LONG)
    held = _prompt_file(tmp_path / "held.jsonl", ["Say hi."], prefix="h")
    ov = [o for o in tiny_run_overrides if not o.startswith("teacher_data.backend.batch_size")] + [
        "teacher_data=openai",
        f"teacher_data.backend.base_url={server}",
        "teacher_data.backend.concurrency=3",
        "teacher_data.backend.model=smollm2",
        "teacher_data.max_new_tokens=6",
        "teacher_data.top_k_logprobs=2",
        f"data.train_file={train}",
        f"data.heldout_file={held}",
    ]
    cfg = compose(ov)
    run_dir = open_run(cfg)
    m = run_stage(cfg, run_dir, "generate_teacher")
    rows = read_jsonl(run_dir / "teacher_data" / "train.jsonl")
    assert [r["id"] for r in rows] == [f"p{i:02d}" for i in range(len(SHORT + LONG))]  # each once, prompt order
    assert all(r["truncated"] == (r["finish_reason"] == "length") for r in rows)
    trunc = [r for r in rows if r["truncated"]]
    done = [r for r in rows if not r["truncated"]]
    assert len(trunc) >= len(LONG) and done, [(r["id"], r["finish_reason"], r["response"]) for r in rows]
    assert all(r["n_tokens"] == 6 for r in trunc) and m["train"]["truncated"] == len(trunc)
    assert all(r["topk"]["k"] == 2 for r in rows)  # the server's top_logprobs came back
    eos = tokenizer.eos_token_id
    kept = {e["id"]: e for e in build_examples(rows, tokenizer, 128, with_topk=False, truncated_rows="keep")}
    assert all(kept[r["id"]]["labels"][-1] != eos for r in trunc)  # cut off: no EOS to learn
    assert all(kept[r["id"]]["labels"][-1] == eos for r in done)  # stopped by itself: EOS
    # the train stage applies the configured policy (sequence-level KD on the API rows)
    cfg2 = compose(
        ov
        + [
            "teacher_data.truncated_rows=drop",
            "distill=seq_kd",
            "distill.trainer.max_steps=1",
            "distill.healing.general_max_tokens=32",
            "~distill.healing.mc_tasks.reasoning",
            "~distill.healing.mc_tasks.translation",
            "run_id=drop",
        ]
    )
    rd2 = open_run(cfg2)
    (rd2 / "teacher_data").mkdir(parents=True, exist_ok=True)
    for f in ("train.jsonl", "heldout.jsonl"):
        (rd2 / "teacher_data" / f).write_bytes((run_dir / "teacher_data" / f).read_bytes())
    tm = run_stage(cfg2, rd2, "train_student")
    assert tm["teacher_rows_truncated"] == len(trunc) and tm["train_examples"] == len(done)
    assert tm["truncated_examples_kept"] == 0


def test_concurrent_generation_survives_sigkill_and_resumes_exactly(server, tmp_path):
    prompts = [
        {"id": f"q{i:02d}", "task_class": "qa", "messages": [{"role": "user", "content": t}]}
        for i, t in enumerate((LONG + SHORT) * 2)
    ]
    pfile = tmp_path / "prompts.json"
    pfile.write_text(json.dumps(prompts))
    out = tmp_path / "t.jsonl"
    child = f"""
import json, sys
sys.path.insert(0, {str(PROJECT_ROOT)!r})
from costlab.teacher import generate as gen
g = gen.GenParams(max_new_tokens=24, do_sample=False, temperature=1.0, top_k_logprobs=2, logprob_temperature=1.0)
b = gen.OpenAIBackend(g, base_url={server!r}, api_key="k", model="smollm2", concurrency=3)
gen.generate_file(b, json.load(open({str(pfile)!r})), __import__("pathlib").Path({str(out)!r}), desc="t")
"""
    proc = subprocess.Popen(
        [sys.executable, "-c", child], env=offline_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    t0 = time.time()
    while time.time() - t0 < 180:
        if out.exists() and out.read_text().count("\n") >= 3:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)  # mid-run: other requests are in flight
    proc.wait()
    first = [json.loads(line) for line in out.read_text().splitlines() if line.strip().endswith("}")]
    assert 3 <= len(first) < len(prompts)
    from costlab.teacher import generate as gen

    g = gen.GenParams(max_new_tokens=24, do_sample=False, temperature=1.0, top_k_logprobs=2, logprob_temperature=1.0)
    b = gen.OpenAIBackend(g, base_url=server, api_key="k", model="smollm2", concurrency=3)
    asked = []
    real = b.complete_one
    b.complete_one = lambda p: (asked.append(p["id"]), real(p))[1]
    st = gen.generate_file(b, prompts, out, desc="t")
    rows = read_jsonl(out)
    assert [r["id"] for r in rows] == [p["id"] for p in prompts]  # each id exactly once, prompt order
    assert set(asked) == {p["id"] for p in prompts} - {r["id"] for r in first}  # only the missing ones re-requested
    assert st["skipped_done"] == len(first)
    by_id = {r["id"]: r for r in rows}
    assert all(by_id[r["id"]] == r for r in first)  # rows written before the kill are kept as they were
