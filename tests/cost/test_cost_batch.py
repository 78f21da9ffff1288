"""Batch runner against a scripted Batch API server (real HTTP, official openai SDK): submit/poll/download/merge,
failed and missing rows, a SIGKILL mid-poll and resume, a crash between create and saving the id, and the
--local executor (bounded concurrency, resume)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from costlab.cost import batch as B
from costlab.errors import CostlabError


def _client(base_url):
    from openai import OpenAI

    return OpenAI(base_url=base_url, api_key="test-key", max_retries=0)


def _requests(tmp_path: Path, n: int = 6) -> Path:
    reqs = B.build_requests(
        [{"id": f"q{i}", "prompt": f"question {i}"} for i in range(n)], "gpt-4o-mini", max_tokens=16
    )
    return B.write_requests(reqs, tmp_path / "batch.jsonl")


def _runner(client, req, out, **kw):
    return B.BatchRunner(
        client, req, out, poll_initial_s=0.01, poll_max_s=0.05, progress=False, log=lambda s: None, **kw
    )


def test_build_and_validate(tmp_path):
    p = _requests(tmp_path, 3)
    lines = [json.loads(x) for x in p.read_text().splitlines()]
    assert lines[0] == {
        "custom_id": "q0",
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "question 0"}], "max_tokens": 16},
    }
    with pytest.raises(CostlabError, match=r"duplicate custom_id\(s\): 'a' x2"):
        B.build_requests([{"id": "a", "prompt": "x"}, {"id": "a", "prompt": "y"}, {"id": "b", "prompt": "z"}], "m")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        json.dumps({"custom_id": "1", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "m"}})
        + "\n"
        + json.dumps({"custom_id": "2"})
        + "\n"
    )
    with pytest.raises(CostlabError, match=r"bad.jsonl:2: missing \['method', 'url', 'body'\]"):
        B.read_requests(bad)
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(CostlabError, match="no requests"):
        B.read_requests(tmp_path / "empty.jsonl")


def test_full_run_merges_by_custom_id_and_reports_failed_and_missing(tmp_path, batch_server):
    srv, url = batch_server
    srv.script.fail_ids = {"q1"}
    srv.script.drop_ids = {"q4"}
    req = _requests(tmp_path)
    s = _runner(_client(url), req, tmp_path / "out").run()
    assert (s["ok"], s["error"], s["missing"]) == (4, 1, 1)
    assert s["batch_status"] == "completed"
    res = [json.loads(x) for x in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    assert [r["custom_id"] for r in res] == [f"q{i}" for i in range(6)]  # input order, though output was reversed
    assert res[0]["status"] == "ok" and res[0]["content"] == "echo: question 0"
    assert res[1]["status"] == "error" and res[1]["error"]["message"] == "scripted failure"
    assert res[4]["status"] == "missing"
    failed = [json.loads(x)["custom_id"] for x in (tmp_path / "out" / "failed.jsonl").read_text().splitlines()]
    assert failed == ["q1", "q4"]  # ready to resubmit: the original request lines
    assert srv.calls["upload"] == 1 and srv.calls["create"] == 1 and srv.calls["retrieve"] >= 3
    # rerunning a finished dir does not resubmit or re-download
    before = dict(srv.calls)
    _runner(_client(url), req, tmp_path / "out").run()
    assert srv.calls == before


def test_sigkill_while_polling_then_resume(tmp_path, batch_server):
    srv, url = batch_server
    srv.script.hold = True
    req = _requests(tmp_path, 4)
    out = tmp_path / "out"
    env = {**os.environ, "OPENAI_API_KEY": "test-key"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "costlab.cli",
            "batch",
            "run",
            str(req),
            "--out",
            str(out),
            "--base-url",
            url,
            "--poll-initial",
            "0.05",
            "--poll-max",
            "0.1",
            "--no-progress",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    state = out / "state.json"
    deadline = time.time() + 60
    while time.time() < deadline:
        if state.exists() and json.loads(state.read_text()).get("status") == "in_progress":
            break
        assert proc.poll() is None, proc.stdout.read().decode()
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("runner never reached in_progress")
    proc.send_signal(signal.SIGKILL)  # a hard crash: no cleanup runs
    proc.wait(timeout=10)
    st = json.loads(state.read_text())
    assert st["batch_id"] == "batch_1" and st["input_file_id"] == "file-1"
    assert not (out / "results.jsonl").exists()
    srv.script.hold = False
    s = _runner(_client(url), req, out).run()
    assert s["ok"] == 4 and s["batch_id"] == "batch_1"
    assert srv.calls["upload"] == 1 and srv.calls["create"] == 1  # resumed, not resubmitted


def test_crash_between_create_and_saving_the_id(tmp_path, batch_server):
    srv, url = batch_server
    req = _requests(tmp_path, 3)
    client = _client(url)
    real_create = client.batches.create

    def create_then_die(**kw):
        real_create(**kw)
        raise KeyboardInterrupt("simulated crash after the server created the batch")

    client.batches.create = create_then_die
    with pytest.raises(KeyboardInterrupt):
        _runner(client, req, tmp_path / "out").run()
    assert json.loads((tmp_path / "out" / "state.json").read_text())["status"] == "creating"
    s = _runner(_client(url), req, tmp_path / "out").run()
    assert s["ok"] == 3 and srv.calls["create"] == 1 and srv.calls["list"] == 1


def test_state_of_another_input_is_refused(tmp_path, batch_server):
    srv, url = batch_server
    req = _requests(tmp_path, 2)
    _runner(_client(url), req, tmp_path / "out").run()
    _requests(tmp_path, 3)  # overwrite the input
    with pytest.raises(CostlabError, match="belongs to a different input"):
        _runner(_client(url), req, tmp_path / "out").run()


def test_merge_reports_unexpected_and_duplicate_result_ids(tmp_path):
    req = _requests(tmp_path, 2)
    outp = tmp_path / "o.jsonl"
    ok = {"response": {"status_code": 200, "body": {"choices": [{"message": {"content": "x"}}]}}, "error": None}
    outp.write_text("".join(json.dumps({"custom_id": c, **ok}) + "\n" for c in ("q0", "q0", "zz")))
    s = B.merge_results(req, outp, None, tmp_path / "m")
    assert (s["ok"], s["missing"]) == (1, 1) and s["unexpected_custom_ids"] == ["zz"]
    assert s["duplicate_result_ids"] == ["q0"] and s["failed_ids"] == ["q1"]


def test_merge_names_file_and_line_of_a_bad_result_line(tmp_path):
    """A result line that is not JSON, or not a JSON object, is an error naming file:line and the fix (a non-object
    line used to crash merge with AttributeError)."""
    req = _requests(tmp_path, 2)
    outp = tmp_path / "o.jsonl"
    ok = {"custom_id": "q0", "response": {"status_code": 200, "body": {}}, "error": None}
    for bad in ("{not json", "[1, 2]"):
        outp.write_text(json.dumps(ok) + "\n" + bad + "\n")
        with pytest.raises(CostlabError, match=r"o\.jsonl:2: (malformed JSON|expected a JSON object)") as e:
            B.merge_results(req, outp, None, tmp_path / "m")
        assert "re-download" in (e.value.fix or "")


def test_local_run_bounded_concurrency_and_resume(tmp_path, batch_server):
    srv, url = batch_server
    srv.script.chat_delay_s = 0.1
    srv.script.fail_ids = {"question 3"}  # HTTP 500 for that prompt, after retries → error row
    req = _requests(tmp_path, 8)
    out = tmp_path / "local"
    # a previous run that crashed after 2 rows, mid-write of a third
    out.mkdir()
    done = [
        {
            "id": "x",
            "custom_id": f"q{i}",
            "error": None,
            "response": {"status_code": 200, "body": {"choices": [{"message": {"content": "earlier"}}]}},
        }
        for i in (0, 1)
    ]
    (out / "output.jsonl").write_text("".join(json.dumps(d) + "\n" for d in done) + '{"custom_id": "q2", "resp')
    s = B.run_local(req, url, out, concurrency=2, retries=1, progress=False)
    assert srv.max_in_flight == 2  # bounded, and actually concurrent
    # q0/q1 were done before the crash; q2's torn line is redone; q3 fails twice (1 retry)
    assert sorted(srv.chat_ids) == sorted([f"question {i}" for i in range(2, 8) if i != 3] + ["question 3"] * 2)
    assert (s["ok"], s["error"], s["missing"]) == (7, 1, 0)
    res = {json.loads(x)["custom_id"]: json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()}
    assert res["q0"]["content"] == "earlier" and res["q5"]["content"] == "echo: question 5"
    assert res["q3"]["status"] == "error" and res["q3"]["error"]["status_code"] == 500
    lines = (out / "output.jsonl").read_text().splitlines()
    assert len(lines) == 8 and all(json.loads(x)["custom_id"] for x in lines)  # same format as the Batch API's


def test_local_run_unreachable_server_is_reported_not_dropped(tmp_path):
    req = _requests(tmp_path, 2)
    s = B.run_local(req, "http://127.0.0.1:9/v1", tmp_path / "o", concurrency=1, retries=0, timeout_s=2, progress=False)
    assert s["error"] == 2
    res = [json.loads(x) for x in (tmp_path / "o" / "results.jsonl").read_text().splitlines()]
    assert res[0]["error"]["code"] == "ConnectError"
