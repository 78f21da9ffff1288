"""The gateway driven by the official openai SDK (sync, async, streaming) against the scripted upstream."""

from __future__ import annotations

import asyncio

import httpx
import openai
import pytest

Q = [{"role": "user", "content": "What is the capital of France?"}]


def client(url: str, key: str = "sk-test") -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/v1", api_key=key, max_retries=0, timeout=20)


def test_sync_auto_route_headers_usage_and_exact_cache(make_gateway, fake_state):
    gw, url = make_gateway()
    c = client(url)
    raw = c.chat.completions.with_raw_response.create(model="auto", messages=Q, temperature=0)
    comp = raw.parse()
    assert raw.headers["x-costlab-model"] == "student-Q4_K_M"  # qa + cost priority in the fixture table
    assert raw.headers["x-costlab-cached"] == "none"
    assert raw.headers["x-costlab-task-class"] == "qa"
    cost = float(raw.headers["x-costlab-cost-usd"])
    u = comp.usage
    # 12 tokens out from the fake upstream; prompt tokens reported by the upstream's final usage chunk
    assert (
        u.completion_tokens == 12
        and u.prompt_tokens == fake_state.last_body["messages"][0]["content"].__len__() // 4 + 1
    )
    assert cost == pytest.approx((u.prompt_tokens * 0.02 + 12 * 0.08) / 1e6)
    assert u.costlab["cost_usd"] == pytest.approx(cost) and u.costlab["model"] == "student-Q4_K_M"
    assert comp.model == "student-Q4_K_M" and comp.choices[0].message.content.startswith("What0 ")
    n_up = fake_state.requests
    raw2 = c.chat.completions.with_raw_response.create(model="auto", messages=Q, temperature=0)
    assert raw2.headers["x-costlab-cached"] == "exact" and float(raw2.headers["x-costlab-cost-usd"]) == 0.0
    assert raw2.parse().choices[0].message.content == comp.choices[0].message.content
    assert fake_state.requests == n_up  # served from cache: upstream not called
    # the ledger has both rows, the cached one at zero cost
    gw.ledger.flush()
    rows = gw.ledger.query("SELECT cached, cost_usd, model FROM ledger ORDER BY ts")
    assert [r[0] for r in rows] == ["none", "exact"] and rows[1][1] == 0.0


def test_priority_header_and_alias_and_direct_model(make_gateway, fake_state):
    _, url = make_gateway()
    c = client(url)
    r = c.chat.completions.with_raw_response.create(
        model="auto", messages=Q, temperature=0, extra_headers={"x-costlab-priority": "quality"}
    )
    assert r.headers["x-costlab-model"] == "teacher-fp32"
    r = c.chat.completions.with_raw_response.create(model="auto-speed", messages=Q, temperature=0)
    assert r.headers["x-costlab-model"] == "student-Q2_K"
    r = c.chat.completions.with_raw_response.create(
        model="auto", messages=Q, temperature=0.7, extra_body={"costlab": {"priority": "speed"}}
    )
    assert r.headers["x-costlab-model"] == "student-Q2_K"
    r = c.chat.completions.with_raw_response.create(
        model="student-Q2_K", messages=[{"role": "user", "content": "write python code"}]
    )
    assert r.headers["x-costlab-model"] == "student-Q2_K"  # a named model is served as asked, not routed
    assert fake_state.last_body["model"] == "student-Q2_K"
    with pytest.raises(openai.BadRequestError) as e:
        c.chat.completions.create(model="auto", messages=Q, extra_headers={"x-costlab-priority": "cheapest"})
    assert e.value.body["code"] == "invalid_priority"


def test_temperature_above_zero_is_not_cached_unless_configured(make_gateway, fake_state):
    _, url = make_gateway()
    c = client(url)
    for _ in range(2):
        r = c.chat.completions.with_raw_response.create(model="auto", messages=Q, temperature=0.8)
        assert r.headers["x-costlab-cached"] == "none"
    _, url2 = make_gateway(exact_cache={"cache_sampled": True})
    c2 = client(url2)
    c2.chat.completions.create(model="auto", messages=Q, temperature=0.8)
    r = c2.chat.completions.with_raw_response.create(model="auto", messages=Q, temperature=0.8)
    assert r.headers["x-costlab-cached"] == "exact"


def test_streaming_sdk_with_usage_chunk(make_gateway, fake_state):
    _, url = make_gateway()
    c = client(url)
    with c.chat.completions.with_streaming_response.create(
        model="auto", messages=Q, temperature=0, stream=True, stream_options={"include_usage": True}
    ) as resp:
        assert resp.headers["x-costlab-model"] == "student-Q4_K_M"
        reserved = float(resp.headers["x-costlab-cost-usd-reserved"])  # the upper bound, budget or not
        chunks = list(resp.parse())
    text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    assert text.split() == [f"{w}{i}" for i, w in zip(range(12), ["What", "is", "the", "capital", "of", "France?"] * 2)]
    assert chunks[-1].usage.completion_tokens == 12 and 0 < chunks[-1].usage.costlab["cost_usd"] <= reserved
    finishes = [ch.choices[0].finish_reason for ch in chunks if ch.choices and ch.choices[0].finish_reason]
    assert finishes == ["stop"]
    # cached replay as a stream
    chunks2 = list(c.chat.completions.create(model="auto", messages=Q, temperature=0, stream=True))
    assert "".join(ch.choices[0].delta.content or "" for ch in chunks2 if ch.choices) == text


def test_async_sdk_concurrent(make_gateway, fake_state):
    gw, url = make_gateway()

    async def main():
        c = openai.AsyncOpenAI(base_url=url + "/v1", api_key="k", max_retries=0)
        rs = await asyncio.gather(
            *[
                c.chat.completions.create(
                    model="auto", messages=[{"role": "user", "content": f"What is {i} plus one?"}], temperature=0
                )
                for i in range(8)
            ]
        )
        s = await c.chat.completions.create(model="auto", messages=Q, stream=True, temperature=0)
        parts = [ch.choices[0].delta.content async for ch in s if ch.choices and ch.choices[0].delta.content]
        await c.close()
        return rs, parts

    rs, parts = asyncio.run(main())
    assert len({r.choices[0].message.content for r in rs}) == 8
    assert len(parts) == 12
    gw.ledger.flush()
    assert gw.ledger.count() == 9


def test_max_output_tokens_enforced_when_upstream_ignores_it(make_gateway, fake_state):
    gw, url = make_gateway()
    fake_state.mode = "ignore_max"
    fake_state.n_tokens = 40
    c = client(url)
    r = c.chat.completions.create(model="auto", messages=Q, temperature=0, max_tokens=5)
    assert r.usage.completion_tokens == 5 and r.choices[0].finish_reason == "length"
    assert len(r.choices[0].message.content.split()) == 5
    chunks = list(
        c.chat.completions.create(
            model="auto",
            messages=[{"role": "user", "content": "who are you"}],
            temperature=0,
            max_tokens=3,
            stream=True,
        )
    )
    assert sum(1 for ch in chunks if ch.choices and ch.choices[0].delta.content) == 3
    assert chunks[-1].choices[0].finish_reason == "length"
    # default cap applies when the client sends no max_tokens
    _, url2 = make_gateway(stream={"default_max_output_tokens": 7})
    r = client(url2).chat.completions.create(model="auto", messages=[{"role": "user", "content": "hi there"}])
    assert r.usage.completion_tokens == 7


def test_client_disconnect_cancels_upstream_and_bills_partial(make_gateway, fake_state):
    gw, url = make_gateway()
    fake_state.n_tokens = 200
    fake_state.token_delay_s = 0.02
    before_cancel = fake_state.cancelled
    got = 0
    with httpx.Client(timeout=10) as h:
        with h.stream(
            "POST",
            url + "/v1/chat/completions",
            json={"model": "auto", "messages": Q, "stream": True, "temperature": 0, "max_tokens": 200},
        ) as r:
            for line in r.iter_lines():
                if '"content":"' in line and '"content":""' not in line:
                    got += 1
                if got >= 5:
                    break  # leave the with-block: connection closed mid-stream
    import time

    end = time.time() + 5
    while time.time() < end and fake_state.cancelled == before_cancel:
        time.sleep(0.05)
    assert fake_state.cancelled == before_cancel + 1  # upstream stream was torn down
    gw.ledger.flush()
    end = time.time() + 5
    rows = []
    while time.time() < end and not rows:
        gw.ledger.flush()
        rows = gw.ledger.query("SELECT status, completion_tokens, cost_usd FROM ledger")
        time.sleep(0.05)
    status, ct, cost = rows[0]
    assert status == "client_disconnected"
    assert 5 <= ct < 200 and cost > 0  # billed only what was generated
    assert len(gw.exact.inner) == 0  # a cut stream is never cached
    assert gw.ledger.query("SELECT COUNT(*) FROM ledger")[0][0] == 1


def test_models_metrics_spend(make_gateway, fake_state):
    gw, url = make_gateway(auth={"metrics_public": True})  # a loopback-only gateway without keys
    c = client(url)
    ids = [m.id for m in c.models.list().data]
    assert {"auto", "auto-cost", "student-Q4_K_M", "teacher-fp32"} <= set(ids)
    c.chat.completions.create(model="auto", messages=Q, temperature=0)
    c.chat.completions.create(model="auto", messages=Q, temperature=0)
    m = httpx.get(url + "/metrics").text
    assert 'costlab_requests_total{cached="exact",model="student-Q4_K_M",status="ok"} 1.0' in m
    assert 'costlab_requests_total{cached="none",model="student-Q4_K_M",status="ok"} 1.0' in m
    assert "costlab_ttft_seconds_bucket" in m and "costlab_cost_usd_total" in m
    sp = httpx.get(url + "/v1/spend").json()
    assert sp["total"]["requests"] == 2 and sp["total"]["cached_responses"] == 1
    assert set(sp["by_model"]) == {"student-Q4_K_M"} and sp["by_model"]["student-Q4_K_M"]["cost_usd"] > 0
    assert len(sp["by_day"]) == 1


def test_compression_applied_before_upstream(make_gateway, fake_state):
    _, url = make_gateway()
    client(url).chat.completions.create(
        model="auto",
        temperature=0,
        messages=[
            {"role": "system", "content": "You   are   terse.\n\n\n\nAnswer briefly."},
            {"role": "user", "content": "What   is    2 + 2?"},
        ],
    )
    sent = fake_state.last_body["messages"]
    assert "   " not in sent[0]["content"] and "   " not in sent[1]["content"]


def test_json_client_disconnect_also_stops_upstream(make_gateway, fake_state):
    gw, url = make_gateway()
    fake_state.n_tokens = 300
    fake_state.token_delay_s = 0.01
    c0 = fake_state.cancelled
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            url + "/v1/chat/completions",
            timeout=0.5,
            json={"model": "auto", "messages": Q, "temperature": 0, "max_tokens": 300},
        )
    import time

    end = time.time() + 10
    rows = []
    while time.time() < end and not rows:
        gw.ledger.flush()
        rows = gw.ledger.query("SELECT status, completion_tokens FROM ledger")
        time.sleep(0.05)
    assert rows[0][0] == "client_disconnected" and 0 < rows[0][1] < 300
    assert fake_state.cancelled == c0 + 1


def test_writes_in_one_loop_tick_leave_in_one_send():
    """uvicorn writes a response's head and body separately; the gateway's transport sends them as one."""
    import asyncio

    from costlab.serving.app import _CoalescingTransport

    class Real:
        def __init__(self):
            self.sent, self.closed = [], False

        def write(self, data):
            self.sent.append(data)

        def is_closing(self):
            return self.closed

        def close(self):
            self.closed = True

        def get_extra_info(self, name):
            return ("127.0.0.1", 1) if name == "peername" else None

    async def go():
        real = Real()
        t = _CoalescingTransport(real, asyncio.get_running_loop())
        t.write(b"HTTP/1.1 200 OK\r\n\r\n")
        t.write(b"{}")
        assert real.sent == []  # nothing sent inside the tick
        await asyncio.sleep(0)
        assert real.sent == [b"HTTP/1.1 200 OK\r\n\r\n{}"]
        t.write(b"data: 1\n\n")
        await asyncio.sleep(0)
        t.write(b"data: 2\n\n")
        t.close()  # pending bytes go out before the close
        assert real.sent[1:] == [b"data: 1\n\n", b"data: 2\n\n"] and real.closed
        assert t.get_extra_info("peername") == ("127.0.0.1", 1)

    asyncio.run(go())
