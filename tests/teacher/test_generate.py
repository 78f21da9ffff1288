import json

import numpy as np
import pytest

from costlab.errors import CostlabError
from costlab.io import read_jsonl
from costlab.pipeline import open_run, run_stage
from costlab.teacher import codec
from costlab.teacher import generate as gen


def test_codec_roundtrip_and_compact_ids():
    a = np.array([[1, 65535], [7, 0]])
    assert codec.id_dtype(49152) == "uint16" and codec.id_dtype(151936) == "int32"
    e = codec.encode(a, "uint16")
    assert np.array_equal(codec.decode(e), a) and e["dtype"] == "uint16"
    lp = np.array([-0.1, -2.5], dtype=np.float32)
    assert np.allclose(codec.decode(codec.encode(lp, "float16")), lp, atol=1e-3)


def test_generate_stage_rows_and_topk(compose, tiny_run_overrides):
    cfg = compose(tiny_run_overrides)
    run_dir = open_run(cfg)
    m = run_stage(cfg, run_dir, "generate_teacher")
    assert m["train"]["generated"] == 6 and m["heldout"]["generated"] == 3
    rows = read_jsonl(run_dir / "teacher_data" / "train.jsonl")
    assert [r["id"] for r in rows] == [f"t{i}" for i in range(6)]
    for r in rows:
        ids, lp = codec.decode(r["topk"]["ids"]), codec.decode(r["topk"]["logprobs"])
        resp = codec.decode(r["response_ids"])
        assert ids.shape == lp.shape == (r["n_tokens"], 5)
        assert 1 <= r["n_tokens"] <= 8
        assert np.all(np.diff(lp, axis=1) <= 1e-3)  # sorted, most likely first
        assert np.all(lp <= 0)
        assert ids[:, 0].tolist() == resp.tolist()  # greedy: the generated token is the teacher's top-1
    # provenance + stage marker next to the data
    prov = json.loads((run_dir / "teacher_data" / "provenance.json").read_text())
    assert prov["seed"] == cfg.seed and prov["versions"]["torch"] and prov["config"]["teacher"]["name"] == "tiny-llama"
    # same config again: skipped, nothing regenerated
    assert (
        run_stage(cfg, run_dir, "generate_teacher")
        == json.loads((run_dir / "teacher_data" / "stage.json").read_text())["metrics"]
    )


def test_generation_resumes_after_interrupt_without_losing_rows(compose, tiny_run_overrides, monkeypatch):
    cfg = compose(tiny_run_overrides)
    run_dir = open_run(cfg)
    real = gen.HFBackend.generate
    calls = []

    def flaky(self, prompts):
        calls.append([p["id"] for p in prompts])
        if len(calls) == 2:
            raise KeyboardInterrupt  # Ctrl-C during the second batch
        return real(self, prompts)

    monkeypatch.setattr(gen.HFBackend, "generate", flaky)
    with pytest.raises(KeyboardInterrupt):
        run_stage(cfg, run_dir, "generate_teacher")
    out = run_dir / "teacher_data" / "train.jsonl"
    first = out.read_text()
    assert [r["id"] for r in read_jsonl(out)] == ["t0", "t1"]
    with out.open("a") as f:
        f.write('{"id": "t2", "resp')  # and a torn line from the crash
    calls.clear()
    monkeypatch.setattr(gen.HFBackend, "generate", real)
    run_stage(cfg, run_dir, "generate_teacher")
    rows = read_jsonl(out)
    assert [r["id"] for r in rows] == [f"t{i}" for i in range(6)]  # no duplicates, no loss
    assert out.read_text().startswith(first)  # finished rows untouched


def test_prompt_longer_than_context_is_a_clear_error(compose, tiny_run_overrides, tmp_path):
    long = tmp_path / "long.jsonl"
    long.write_text(json.dumps({"id": "x", "prompt": "word " * 400}) + "\n")
    cfg = compose(tiny_run_overrides + [f"data.train_file={long}"])
    with pytest.raises(CostlabError, match=r"prompt 'x' has \d+ tokens .* teacher.max_context=256"):
        run_stage(cfg, open_run(cfg), "generate_teacher")


def test_bad_prompt_files(compose, tiny_run_overrides, tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(CostlabError, match="no prompts"):
        run_stage(compose(tiny_run_overrides + [f"data.train_file={empty}"]), tmp_path, "generate_teacher")
    dup = tmp_path / "dup.jsonl"
    dup.write_text('{"id": "a", "prompt": "x"}\n{"id": "a", "prompt": "y"}\n')
    with pytest.raises(CostlabError, match="duplicate id"):
        run_stage(compose(tiny_run_overrides + [f"data.train_file={dup}"]), tmp_path, "generate_teacher")
    nomsg = tmp_path / "nomsg.jsonl"
    nomsg.write_text('{"id": "a", "text": "x"}\n')
    with pytest.raises(CostlabError, match="neither 'messages' nor"):
        run_stage(compose(tiny_run_overrides + [f"data.train_file={nomsg}"]), tmp_path, "generate_teacher")


def test_openai_backend_stores_top_logprobs(tmp_path):
    """The OpenAI-compatible path, against a scripted endpoint (httpx MockTransport, no network)."""
    import httpx
    from openai import OpenAI

    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.update(body)
        content = [
            {
                "token": t,
                "logprob": -0.1 * i,
                "bytes": None,
                "top_logprobs": [
                    {"token": t, "logprob": -0.1 * i, "bytes": None},
                    {"token": "x", "logprob": -3.0, "bytes": None},
                ],
            }
            for i, t in enumerate(["Par", "is"])
        ]
        return httpx.Response(
            200,
            json={
                "id": "c1",
                "object": "chat.completion",
                "created": 0,
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": "Paris"},
                        "logprobs": {"content": content},
                    }
                ],
                "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
            },
        )

    g = gen.GenParams(max_new_tokens=16, do_sample=False, temperature=1.0, top_k_logprobs=2, logprob_temperature=1.0)
    b = gen.OpenAIBackend(g, base_url="http://teacher.test/v1", api_key="k", model="teacher-x", concurrency=2)
    b.client = OpenAI(
        base_url="http://teacher.test/v1", api_key="k", http_client=httpx.Client(transport=httpx.MockTransport(handler))
    )
    stats = gen.generate_file(
        b,
        [{"id": "q1", "task_class": "qa", "messages": [{"role": "user", "content": "Capital?"}]}],
        tmp_path / "t.jsonl",
        desc="t",
    )
    row = read_jsonl(tmp_path / "t.jsonl")[0]
    assert seen["logprobs"] is True and seen["top_logprobs"] == 2 and seen["max_tokens"] == 16
    assert row["response"] == "Paris" and row["n_tokens"] == 2 and stats["new_tokens"] == 2
    assert row["topk"]["tokens"] == [["Par", "x"], ["is", "x"]]
    assert np.allclose(codec.decode(row["topk"]["logprobs"]), [[0, -3], [-0.1, -3]], atol=1e-3)
    with pytest.raises(CostlabError, match="logprob_temperature must be 1.0"):
        gen.OpenAIBackend(gen.GenParams(16, False, 1.0, 2, 2.0), base_url=None, api_key="k", model="m")


def _scripted_backend(handler, concurrency):
    import httpx
    from openai import OpenAI

    g = gen.GenParams(max_new_tokens=4, do_sample=False, temperature=1.0, top_k_logprobs=2, logprob_temperature=1.0)
    b = gen.OpenAIBackend(
        g,
        base_url="http://teacher.test/v1",
        api_key="k",
        model="teacher-x",
        concurrency=concurrency,
        max_retries=0,
        request_logprobs=False,
    )
    b.client = OpenAI(
        base_url="http://teacher.test/v1",
        api_key="k",
        max_retries=0,
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
    )
    return b


def _completion(body, text, finish):
    import httpx

    return httpx.Response(
        200,
        json={
            "id": "c",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [{"index": 0, "finish_reason": finish, "message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 4 if finish == "length" else 2, "total_tokens": 9},
        },
    )


def _prompts(n):
    return [
        {"id": f"q{i:02d}", "task_class": "qa", "messages": [{"role": "user", "content": f"question {i}"}]}
        for i in range(n)
    ]


def test_openai_pool_is_concurrent_bounded_and_exact(tmp_path):
    """Requests overlap (up to the bound, never more); every id is written exactly once, complete, and the finished
    file is in prompt order although responses arrive out of order. Truncated answers are flagged."""
    import random
    import threading
    import time

    lock, state = threading.Lock(), {"now": 0, "max": 0}

    def handler(request):
        body = json.loads(request.content)
        i = int(body["messages"][0]["content"].split()[-1])
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        time.sleep(random.Random(i).uniform(0.01, 0.08))  # out-of-order completion
        with lock:
            state["now"] -= 1
        return _completion(body, f"answer {i}", "length" if i % 3 == 0 else "stop")

    b = _scripted_backend(handler, concurrency=4)
    prompts = _prompts(20)
    stats = gen.generate_file(b, prompts, tmp_path / "t.jsonl", desc="t")
    rows = read_jsonl(tmp_path / "t.jsonl")
    assert [r["id"] for r in rows] == [p["id"] for p in prompts]
    assert 1 < state["max"] <= 4  # concurrent, and bounded by the pool
    assert [r["truncated"] for r in rows] == [i % 3 == 0 for i in range(20)]
    assert stats["generated"] == 20 and stats["truncated"] == 7


def test_openai_pool_failure_keeps_paid_rows_and_resumes_exactly(tmp_path):
    import httpx

    fail = {"q07"}

    def handler(request):
        body = json.loads(request.content)
        i = int(body["messages"][0]["content"].split()[-1])
        if f"q{i:02d}" in fail:
            return httpx.Response(500, json={"error": {"message": "boom"}})
        return _completion(body, f"answer {i}", "stop")

    out = tmp_path / "t.jsonl"
    prompts = _prompts(12)
    with pytest.raises(CostlabError, match=r"(?s)prompt 'q07' failed .*re-run: only the missing prompts"):
        gen.generate_file(_scripted_backend(handler, concurrency=3), prompts, out, desc="t")
    first = read_jsonl(out)
    assert "q07" not in {r["id"] for r in first} and len(first) >= 7  # rows received before the failure are kept
    assert len({r["id"] for r in first}) == len(first)
    fail.clear()
    asked = []
    real = gen.OpenAIBackend.complete_one

    def spy(self, p):
        asked.append(p["id"])
        return real(self, p)

    b = _scripted_backend(handler, concurrency=3)
    b.complete_one = spy.__get__(b)
    st = gen.generate_file(b, prompts, out, desc="t")
    assert sorted(asked) == sorted(set(p["id"] for p in prompts) - {r["id"] for r in first})  # only what was missing
    assert st["skipped_done"] == len(first)
    assert [r["id"] for r in read_jsonl(out)] == [p["id"] for p in prompts]


def test_openai_concurrency_must_be_positive():
    with pytest.raises(CostlabError, match="concurrency"):
        gen.OpenAIBackend(gen.GenParams(4, False, 1.0, 2, 1.0), base_url=None, api_key="k", model="m", concurrency=0)
