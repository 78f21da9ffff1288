"""`costlab batch run --local` against a real llama-cpp-python OpenAI-compatible server on the embedded SmolLM2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.llama_cpp]


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    pytest.importorskip("llama_cpp")
    pytest.importorskip("llama_cpp.server")
    from costlab.serving.testing import llama_server as start

    log = tmp_path_factory.mktemp("llama") / "server.log"
    with start("--model_alias", "smollm2", "--chat_format", "chatml", n_ctx=512, log_path=str(log)) as url:
        yield url


def test_local_batch_on_real_llama_cpp_server(tmp_path, llama_server):
    from costlab.cost.batch import build_requests, run_local, write_requests

    qs = ["What is the capital of France?", "Name a color.", "Say hello.", "What is 2 + 2?"]
    req = write_requests(
        build_requests(
            [{"id": f"q{i}", "prompt": q} for i, q in enumerate(qs)], "smollm2", max_tokens=12, temperature=0.0
        ),
        tmp_path / "batch.jsonl",
    )
    t0 = time.time()
    s = run_local(req, llama_server, tmp_path / "out", concurrency=2, progress=False)
    wall = time.time() - t0
    assert (s["ok"], s["error"], s["missing"]) == (4, 0, 0), s
    res = [json.loads(x) for x in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    assert [r["custom_id"] for r in res] == ["q0", "q1", "q2", "q3"]
    for r in res:
        assert isinstance(r["content"], str) and r["content"].strip()
        assert 0 < r["usage"]["completion_tokens"] <= 12
    assert "paris" in res[0]["content"].lower()
    print(f"\n4 requests via llama_cpp.server in {wall:.1f}s; q0 → {res[0]['content']!r}")
    # rerun: everything is already done, nothing is sent again
    s2 = run_local(req, llama_server, tmp_path / "out", concurrency=2, progress=False)
    assert s2["ok"] == 4
    # the CLI does the same with --local
    env = {**os.environ}
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "costlab.cli",
            "batch",
            "run",
            str(req),
            "--local",
            llama_server,
            "-o",
            str(tmp_path / "cli"),
            "--no-progress",
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout[r.stdout.index("{") :])["ok"] == 4
