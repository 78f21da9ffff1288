"""The miss path's short cuts (issue 13, gateway overhead) give the results of the general code they bypass."""

from __future__ import annotations

import copy
import json
import time

import httpx
import pytest

from costlab.serving import responses as R
from costlab.serving.auth import KeyInfo
from costlab.serving.ledger import day_month, new_id
from costlab.serving.upstream import StreamBroken, UpstreamClient


def _ctx(max_out: int = 3) -> R.Ctx:
    key = KeyInfo(key_id="k", tenant="t")
    return R.Ctx("rid", time.perf_counter(), 1e18, key, "m", None, [], {}, False, False, max_out, True)


def _chunk(**choice) -> dict:
    return {"id": "x", "object": "chat.completion.chunk", "choices": [{"index": 0, **choice}]}


CHUNKS = [
    _chunk(delta={"content": "a"}, finish_reason=None),
    _chunk(delta={"content": "b"}),
    _chunk(delta={"content": "c"}, finish_reason="stop"),
    _chunk(delta={"content": ""}, finish_reason=None),
    _chunk(delta={"role": "assistant", "content": "d"}),
    _chunk(delta={"content": "e"}, logprobs={"content": [{"token": "e", "logprob": -1.0}]}),
    _chunk(delta={"content": "f"}, logprobs=None),
    _chunk(delta={"refusal": "no"}),
    _chunk(delta={}, finish_reason="length"),
    {"choices": [{"index": 1, "delta": {"content": "other choice"}}]},
    {"choices": [{"index": 0, "delta": {"content": "g"}}], "usage": {"prompt_tokens": 3, "completion_tokens": 2}},
    {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2}},
    {"choices": [{"delta": {"content": "no index"}}]},
    {"id": "no choices"},
]


def _state(ctx: R.Ctx) -> tuple:
    return (ctx.content, ctx.refusal, ctx.completion_tokens, ctx.finish_reason, ctx.capped, ctx.upstream_usage)


@pytest.mark.parametrize("max_out", [1, 3, 100])
def test_take_choice_short_path_equals_the_general_path(max_out):
    fast, slow = _ctx(max_out), _ctx(max_out)
    for ch in CHUNKS:
        out_fast, out_slow = R.take_choice(fast, copy.deepcopy(ch)), R._take_choice(slow, copy.deepcopy(ch))
        assert out_fast == out_slow, ch
        assert _state(fast) == _state(slow), ch
    assert (fast.ttft is None) == (slow.ttft is None)


@pytest.mark.parametrize(
    "bad",
    [
        {"choices": "broken"},
        {"choices": ["not an object"]},
        {"choices": [{"index": 0, "delta": {"content": 5}}]},
        {"choices": [{"index": 0, "delta": "text"}]},
    ],
)
def test_take_choice_still_rejects_malformed_chunks(bad):
    with pytest.raises(StreamBroken):
        R.take_choice(_ctx(), bad)


def test_sse_event_decoding_matches_json_loads():
    u = UpstreamClient()
    good = {"id": "x", "choices": [{"index": 0, "delta": {"content": "héllo \\u4e2d"}}], "n": 1.5, "z": None}
    for line in (b"data: " + json.dumps(good).encode(), b"data:" + json.dumps(good, ensure_ascii=False).encode()):
        assert u._event(line, "m") == json.loads(line[5:])
    assert u._event(b"data: [DONE]", "m") is not None and u._event(b": comment", "m") is None
    for bad in (b"data: {this", b"data: ", b"data: {} {}", b'data: {"a": 1}x', b"data: \xff\xfe", b"data: [1]"):
        with pytest.raises(StreamBroken):
            u._event(bad, "m")
    assert u.bad_lines == 6


def test_day_month_changes_exactly_at_utc_midnight_and_ids_are_unique():
    midnight = 1767225600.0  # 2026-01-01T00:00:00Z
    assert day_month(midnight - 0.001) == ("2025-12-31", "2025-12")
    assert day_month(midnight) == ("2026-01-01", "2026-01")
    assert day_month(midnight - 0.001) == ("2025-12-31", "2025-12")  # the cache follows the day asked for
    assert day_month() == (time.strftime("%Y-%m-%d", time.gmtime()), time.strftime("%Y-%m", time.gmtime()))
    ids = {new_id() for _ in range(10000)}
    assert len(ids) == 10000 and all(len(i) == 24 and int(i, 16) >= 0 for i in ids)
    assert len(new_id(128)) == 32


def test_chat_route_other_methods_still_answered_by_fastapi(make_gateway, fake_state):
    _, url = make_gateway()
    r = httpx.get(url + "/v1/chat/completions")
    assert r.status_code == 405 and r.json()["error"]["type"] == "invalid_request_error"


def test_promised_ledger_row_is_waited_for_and_counted(tmp_path):
    from costlab.serving.ledger import Ledger

    led = Ledger(tmp_path / "l.sqlite")
    try:
        led.promise()  # a JSON response billed and on its way out (Gateway.settle(defer=True))
        assert led.unrecorded == 1 and led.flush(timeout=0.1) is False
        led.record({"id": "r1", "cost_usd": 1.0, "status": "ok"}, promised=True)
        assert led.flush() and led.unrecorded == 0
        assert led.query("SELECT id FROM ledger") == [("r1",)]
    finally:
        led.close()


@pytest.mark.parametrize("fail", [False, True])
def test_after_response_runs_its_work_once_however_sending_ends(fail):
    import asyncio

    from costlab.serving.streaming import AfterResponse

    ran = []

    async def send(message):
        if fail:
            raise OSError("connection reset")

    async def main():
        r = AfterResponse({"ok": True})
        r.after = lambda: ran.append(1)
        try:
            await r({"type": "http"}, None, send)
        except OSError:
            assert fail
        if not fail:
            await r({"type": "http"}, None, send)  # sent twice: the work still runs once

    asyncio.run(main())
    assert ran == [1]


def test_json_response_ledger_row_and_cache_store_after_send(make_gateway, fake_state):
    """The deferred part of settle still writes one row per response and stores the answer for the next caller."""
    gw, url = make_gateway()
    body = {"model": "auto", "messages": [{"role": "user", "content": "the deferred row"}], "temperature": 0}
    with httpx.Client(timeout=10) as c:
        first = c.post(url + "/v1/chat/completions", json=body)
        second = c.post(url + "/v1/chat/completions", json=body)
    assert first.headers["x-costlab-cached"] == "none" and second.headers["x-costlab-cached"] == "exact"
    assert gw.ledger.flush() and gw.ledger.unrecorded == 0
    rows = gw.ledger.query("SELECT id, status, cached FROM ledger ORDER BY ts")
    assert [(r[1], r[2]) for r in rows] == [("ok", "none"), ("ok", "exact")]
    assert rows[0][0] == first.headers["x-request-id"]


def test_new_id_does_not_repeat_when_the_process_seeds_random():
    """Ledger rows are INSERT OR IGNORE by id and reservations are keyed by id: an id that repeats after
    random.seed(...) (transformers.set_seed, numpy-style seeding in the same process) would drop billed rows
    silently. new_id must not draw from the global, seedable generator."""
    import random

    random.seed(0)
    a = [new_id(128) for _ in range(3)]
    random.seed(0)
    b = [new_id(128) for _ in range(3)]
    assert not set(a) & set(b)


def test_new_id_differs_in_a_forked_child():
    import os

    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: write its next id and leave without running pytest's teardown
        os.write(w, new_id(128).encode())
        os._exit(0)
    os.close(w)
    child = os.read(r, 64).decode()
    os.waitpid(pid, 0)
    assert len(child) == 32 and child != new_id(128)


def test_after_response_is_json_response_byte_for_byte():
    from fastapi.responses import JSONResponse

    from costlab.serving.streaming import AfterResponse

    body = {"id": "chatcmpl-1", "choices": [{"message": {"content": "héllo 中 \u2028"}}], "usage": {"cost": 1.5e-07}}
    hdr = {"x-costlab-model": "m", "x-costlab-cost-usd": "1.5e-07", "x-request-id": "chatcmpl-1"}
    a, b = AfterResponse(body, headers=hdr), JSONResponse(body, headers=hdr)
    assert a.body == b.body and a.raw_headers == b.raw_headers and a.status_code == b.status_code == 200
    with pytest.raises(ValueError):
        AfterResponse({"x": float("nan")}, headers={})
    with pytest.raises(ValueError):
        JSONResponse({"x": float("nan")})
