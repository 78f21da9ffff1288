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
