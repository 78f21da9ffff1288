"""Regression tests for issue 12, findings 1-9 (each reproduces the reported failure; see docs/serving.md).

Faults are real errors from SQLite and the OS (a read-only ledger DB = SQLITE_READONLY, /dev/full = ENOSPC on
every append), never mocks of the gateway's own code.
"""

from __future__ import annotations

import base64
import json
import struct
import threading
import time
import zlib

import httpx
import openai
import pytest

from costlab.serving.auth import hash_key
from costlab.serving.classify import LearnedClassifier
from costlab.serving.embed import HashEmbedder

Q = [{"role": "user", "content": "What is the capital of Peru?"}]
CHAT = "/v1/chat/completions"


def client(url, key="sk-x"):
    return openai.OpenAI(base_url=url + "/v1", api_key=key, max_retries=0, timeout=20)


def _err(r: httpx.Response) -> dict:
    e = r.json()["error"]
    assert set(e) == {"message", "type", "param", "code"}
    return e


def _wait(cond, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def png_data_url(w: int, h: int, pad: int) -> str:
    """A PNG header claiming w x h followed by ``pad`` bytes of (incompressible) data: ~``pad`` bytes of base64."""
    import os

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    png = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    png += os.urandom(pad)
    return "data:image/png;base64," + base64.b64encode(png).decode()


# ------------------------------------------------------------------------------------------ 1. ledger writer


def _break_db(gw):
    """The ledger DB turns read-only (SQLite's own SQLITE_READONLY on every write, as on a read-only mount)."""
    gw.ledger.db.execute("PRAGMA query_only=ON")


def _heal_db(gw):
    gw.ledger.db.execute("PRAGMA query_only=OFF")


def test_ledger_writer_survives_db_and_fallback_failures(make_gateway, fake_state):
    gw, url = make_gateway()
    good_fallback = gw.ledger.fallback
    _break_db(gw)
    gw.ledger.fallback = type(good_fallback)("/dev/full")  # every append: ENOSPC
    c = client(url)
    for i in range(5):
        c.chat.completions.create(model="auto", messages=[{"role": "user", "content": f"q{i} what?"}], temperature=0)
    assert _wait(lambda: httpx.get(url + "/health").status_code == 503, 5), "health must fail while nothing is durable"
    # the fault clears: every billed request is recorded, the writer is alive
    _heal_db(gw)
    gw.ledger.fallback = good_fallback
    assert _wait(lambda: gw.ledger.count() == 5, 10), gw.ledger.count()
    assert _wait(lambda: httpx.get(url + "/health").status_code == 200, 5)
    c.chat.completions.create(model="auto", messages=[{"role": "user", "content": "after recovery?"}], temperature=0)
    assert _wait(lambda: gw.ledger.count() == 6, 10)


def test_ledger_failure_fails_closed_when_budgets_are_set(make_gateway, fake_state):
    gw, url = make_gateway(budget={"global": {"daily_usd": 1.0}})
    _break_db(gw)
    gw.ledger.fallback = type(gw.ledger.fallback)("/dev/full")
    client(url).chat.completions.create(model="auto", messages=Q, temperature=0)  # this one cannot be written
    assert _wait(lambda: httpx.get(url + "/health").status_code == 503, 5)
    r = httpx.post(url + CHAT, json={"model": "auto", "messages": [{"role": "user", "content": "new paid?"}]})
    assert r.status_code == 503 and _err(r)["code"] == "ledger_unavailable"


def test_ledger_failure_serves_with_alert_when_configured(make_gateway, fake_state, caplog):
    gw, url = make_gateway(budget={"global": {"daily_usd": 1.0}}, ledger={"on_write_failure": "serve"})
    _break_db(gw)
    gw.ledger.fallback = type(gw.ledger.fallback)("/dev/full")
    client(url).chat.completions.create(model="auto", messages=Q, temperature=0)
    assert _wait(lambda: httpx.get(url + "/health").status_code == 503, 5)
    r = httpx.post(url + CHAT, json={"model": "auto", "messages": [{"role": "user", "content": "new paid?"}]})
    assert r.status_code == 200
    assert "LEDGER CANNOT WRITE" in caplog.text


def test_spend_survives_restart_exactly_after_fallback(make_gateway, fake_state, tmp_path):
    over = {"state_dir": str(tmp_path / "persist"), "budget": {"global": {"daily_usd": 1.0}}}
    gw, url = make_gateway(**over)
    c = client(url)
    c.chat.completions.create(model="auto", messages=Q, temperature=0)
    assert gw.ledger.flush()
    _break_db(gw)  # the next rows go to the fallback JSONL
    for i in range(3):
        c.chat.completions.create(model="auto", messages=[{"role": "user", "content": f"n{i}?"}], temperature=0)
    assert _wait(lambda: gw.ledger.fallback_rows == 3, 5)
    spent = {k: v for k, v in gw.budgets.state()["spent"].items() if k.startswith("global/daily")}
    gw2, _ = make_gateway(**over)  # restart on the same state dir
    spent2 = {k: v for k, v in gw2.budgets.state()["spent"].items() if k.startswith("global/daily")}
    assert spent2 == pytest.approx(spent) and list(spent.values())[0] > 0
    assert gw2.ledger.count() == 4  # the fallback rows were imported into the DB


# ------------------------------------------------------------------------------------------ 2. auth

KEYS = [
    {"sha256": hash_key("sk-good"), "tenant": "acme", "budget": {"daily_usd": 1.0}},
    {"sha256": hash_key("sk-notenant")},
    {"sha256": hash_key("sk-admin"), "tenant": "ops", "admin": True},
]


def test_keys_configured_rejects_anonymous_and_bad_schemes(make_gateway, fake_state):
    _, url = make_gateway(auth={"keys": KEYS})
    for headers in (
        {},
        {"authorization": "Basic c2stZ29vZA=="},
        {"authorization": "Bearer"},
        {"authorization": "sk-good"},
    ):
        r = httpx.post(url + CHAT, json={"model": "auto", "messages": Q}, headers=headers)
        assert r.status_code == 401, headers
        assert httpx.get(url + "/v1/spend", headers=headers).status_code == 401
    assert (
        httpx.post(
            url + CHAT, json={"model": "auto", "messages": Q}, headers={"authorization": "Bearer sk-good"}
        ).status_code
        == 200
    )


def test_allow_anonymous_gets_own_tenant_budget_and_no_admin(make_gateway, fake_state):
    gw, url = make_gateway(
        auth={"keys": KEYS, "allow_anonymous": True, "anonymous_budget": {"daily_usd": 1e-9, "monthly_usd": None}}
    )
    client(url, "sk-good").chat.completions.create(model="auto", messages=Q, temperature=0)
    sp = httpx.get(url + "/v1/spend").json()  # anonymous
    assert set(sp["by_tenant"]) <= {"anonymous"} and sp["budgets"] is None
    assert "acme" not in json.dumps(sp) and hash_key("sk-good")[:12] not in json.dumps(sp)
    r = httpx.post(url + CHAT, json={"model": "auto", "messages": [{"role": "user", "content": "x?"}]})
    assert r.status_code == 429  # the anonymous budget (1e-9 USD) applies


def test_key_without_tenant_does_not_share_anonymous_tenant_or_cache(make_gateway, fake_state):
    gw, url = make_gateway(auth={"keys": KEYS, "allow_anonymous": True})
    r1 = client(url, "sk-notenant").chat.completions.with_raw_response.create(model="auto", messages=Q, temperature=0)
    assert r1.headers["x-costlab-cached"] == "none"
    r2 = httpx.post(url + CHAT, json={"model": "auto", "messages": Q, "temperature": 0})
    assert r2.status_code == 200 and r2.headers["x-costlab-cached"] == "none"
    gw.ledger.flush()
    tenants = [t for (t,) in gw.ledger.query("SELECT tenant FROM ledger")]
    assert len(set(tenants)) == 2 and "anonymous" in tenants


# ------------------------------------------------------------------------------------------ 3. limits


def test_keyword_classifier_is_linear_time():
    """8x the text (4 KB -> 32 KB) must cost ~8x the time; a quadratic pattern costs 64x (the old rules took
    9 s on 16 KB of digits). The bound (24x) sits far from both. Timed in CPU seconds of this process
    (time.process_time: waiting for a core on a loaded box does not count), small and big taken in turn, best
    of 7 each: wall-clock best-of-5 read 48x once under load (4x/16x with a bound of 8 flipped at 8.3x)."""
    from costlab.serving.classify import KeywordClassifier

    clf = KeywordClassifier()

    def once(text: str) -> float:
        t0 = time.process_time()
        clf.predict([text])
        dt = time.process_time() - t0
        assert dt < 3.0, (text[:8], dt)
        return dt

    for unit in ("1", "if ", "1 ", "? "):
        small, big = unit * (4000 // len(unit)), unit * (32000 // len(unit))
        ts, tb = float("inf"), float("inf")
        for _ in range(7):
            ts, tb = min(ts, once(small)), min(tb, once(big))
        ratio = tb / max(ts, 1e-6)
        assert ratio < 24, (unit, ratio)


def test_adversarial_prompt_does_not_hold_the_event_loop(make_gateway, fake_state):
    _, url = make_gateway()
    slow: list[float] = []
    done = threading.Event()

    def poll():
        while not done.is_set():
            t = time.perf_counter()
            httpx.get(url + "/health", timeout=30)
            slow.append(time.perf_counter() - t)

    th = threading.Thread(target=poll)
    th.start()
    time.sleep(0.2)
    try:
        r = httpx.post(
            url + CHAT,
            timeout=60,
            json={"model": "auto", "messages": [{"role": "user", "content": "1" * 24000}], "max_tokens": 4},
        )
    finally:
        done.set()
        th.join()
    assert r.status_code == 200
    assert max(slow) < 1.0, max(slow)


class _HangingClassifier(LearnedClassifier):
    """A learned classifier that hangs (a stuck model, a starved thread): what the gateway must not wait for."""

    def __init__(self, seconds: float):
        super().__init__(None, HashEmbedder())
        self.seconds, self.calls = seconds, 0

    def predict(self, texts, vectors=None):
        self.calls += 1
        time.sleep(self.seconds)
        return ["code"]


def test_learned_classifier_is_time_bounded_and_falls_back_to_keywords(make_gateway, fake_state):
    """issue 12 #3 remainder: the learned classifier ran in a thread with no time bound, so a hung model held every
    auto-routed request (and, once the default executor was full, everything else that used it)."""
    gw, url = make_gateway(auth={"metrics_public": True})
    hang = _HangingClassifier(4.0)
    gw.router.classifier = hang  # as loaded for router.classifier=learned
    t = time.perf_counter()
    r = httpx.post(url + CHAT, timeout=30, json={"model": "auto", "messages": Q, "max_tokens": 4})
    took = time.perf_counter() - t
    assert r.status_code == 200 and hang.calls == 1
    assert took < 2.5, took  # the default router.classifier_timeout_s (1 s), not the classifier's 4 s
    assert r.headers["x-costlab-task-class"] == "qa"  # the keyword rules' class for this prompt, not "code"
    m = httpx.get(url + "/metrics").text
    assert 'costlab_classifier_fallbacks_total{reason="timeout"} 1.0' in m
    # a pinned model never consults the classifier
    r = httpx.post(url + CHAT, timeout=30, json={"model": "student-Q4_K_M", "messages": Q, "max_tokens": 4})
    assert r.status_code == 200 and hang.calls == 1
    # while the timed-out job still runs, the next auto request does not queue behind it
    t = time.perf_counter()
    r = httpx.post(url + CHAT, timeout=30, json={"model": "auto", "messages": Q, "max_tokens": 4})
    assert r.status_code == 200 and time.perf_counter() - t < 0.9 and hang.calls == 1
    assert 'costlab_classifier_fallbacks_total{reason="busy"} 1.0' in httpx.get(url + "/metrics").text


class _BrokenClassifier(_HangingClassifier):
    def predict(self, texts, vectors=None):
        raise RuntimeError("model file truncated")


def test_learned_classifier_error_falls_back_to_keywords(make_gateway, fake_state):
    gw, url = make_gateway(auth={"metrics_public": True})
    gw.router.classifier = _BrokenClassifier(0.0)
    r = httpx.post(url + CHAT, timeout=30, json={"model": "auto", "messages": Q, "max_tokens": 4})
    assert r.status_code == 200 and r.headers["x-costlab-task-class"] == "qa"
    assert 'costlab_classifier_fallbacks_total{reason="error"} 1.0' in httpx.get(url + "/metrics").text


def test_body_size_message_count_and_depth_limits(make_gateway, fake_state):
    gw, url = make_gateway()
    n0 = fake_state.requests
    big = {"model": "auto", "messages": [{"role": "user", "content": "a" * (10_500_000)}]}
    r = httpx.post(url + CHAT, json=big, timeout=30)
    assert r.status_code == 413 and _err(r)["code"] == "request_too_large"
    many = {"model": "auto", "messages": [{"role": "user", "content": "hi"}] * 5000}
    r = httpx.post(url + CHAT, json=many)
    assert r.status_code == 400 and _err(r)["param"] == "messages"
    assert fake_state.requests == n0
    gw.ledger.flush()
    assert gw.ledger.count() == 0  # nothing billed


# ------------------------------------------------------------------------------------------ 4. budget accounting


def test_image_part_is_reserved_and_billing_is_capped(make_gateway, fake_state):
    keys = [{"sha256": hash_key("sk-img"), "tenant": "img", "budget": {"daily_usd": 3e-3}}]
    gw, url = make_gateway(auth={"keys": keys})
    content = [
        {"type": "text", "text": "Describe this image."},
        {"type": "image_url", "image_url": {"url": png_data_url(1024, 1024, 150_000)}},
    ]
    r = client(url, "sk-img").chat.completions.create(
        model="teacher-fp32", max_tokens=12, temperature=0, messages=[{"role": "user", "content": content}]
    )
    cl = r.usage.costlab
    # OpenAI's tile formula: 1024x1024 high detail -> 768x768 -> 4 tiles -> 85 + 4*170 = 765 tokens
    assert cl["reserved_usd"] >= (765 * 1.0 + 12 * 3.0) / 1e6
    assert cl["cost_usd"] <= cl["reserved_usd"] * (1 + 1e-9)
    gw.ledger.flush()
    assert gw.ledger.query("SELECT SUM(cost_usd) FROM ledger")[0][0] <= 3e-3


def test_tool_schemas_are_reserved(make_gateway, fake_state):
    gw, url = make_gateway(budget={"global": {"daily_usd": 10.0}})
    tools = [
        {
            "type": "function",
            "function": {
                "name": f"f{i}",
                "description": "word " * 400,
                "parameters": {"type": "object", "properties": {}},
            },
        }
        for i in range(5)
    ]
    r = client(url).chat.completions.create(model="teacher-fp32", max_tokens=4, messages=Q, tools=tools)
    # 5 x 2000 chars of schema: well over 1000 tokens at $1/1M input
    assert r.usage.costlab["reserved_usd"] > 1000 / 1e6


@pytest.mark.parametrize(
    "override,capped",
    [
        ({"prompt_tokens": 10_000_000}, "capped"),
        ({"completion_tokens": -50}, "reserved"),
        ({"prompt_tokens": "lots"}, "reserved"),
    ],
)
def test_implausible_upstream_usage(make_gateway, fake_state, caplog, override, capped):
    gw, url = make_gateway(budget={"global": {"daily_usd": 10.0}})
    fake_state.usage_override = override
    r = httpx.post(url + CHAT, json={"model": "teacher-fp32", "messages": Q, "max_tokens": 12})
    assert r.status_code == 200
    u = r.json()["usage"]
    assert 0 <= u["prompt_tokens"] <= 2048 and 0 <= u["completion_tokens"] <= 12
    assert 0 < u["costlab"]["cost_usd"] <= u["costlab"]["reserved_usd"] * (1 + 1e-9)
    gw.ledger.flush()
    assert gw.ledger.query("SELECT billing FROM ledger")[0][0] == capped
    assert all(abs(v) < 1e-12 for v in gw.budgets.state()["reserved"].values())
    assert "upstream usage" in caplog.text


# ------------------------------------------------------------------------------------------ 5. cache keys


def _sem_gw(make_gateway):
    return make_gateway(semantic_cache={"enabled": True, "threshold": 0.9})


def test_semantic_cache_ignores_nothing_that_changes_the_answer(make_gateway, fake_state):
    _, url = _sem_gw(make_gateway)

    def ask(messages, **kw):
        r = httpx.post(url + CHAT, json={"model": "auto", "messages": messages, "temperature": 0, **kw})
        assert r.status_code == 200, r.text
        return r.headers["x-costlab-cached"]

    img = lambda u: [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is in this picture?"},  # noqa: E731
                {"type": "image_url", "image_url": {"url": u}},
            ],
        }
    ]
    assert ask(img("data:image/png;base64,AAAA")) == "none"
    assert ask(img("data:image/png;base64,BBBB")) == "none"
    call = {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "weather", "arguments": "{}"}}],
    }
    tool = lambda t: [
        {"role": "user", "content": "Weather in Lima?"},
        call,  # noqa: E731
        {"role": "tool", "tool_call_id": "c1", "content": t},
    ]
    assert ask(tool("sunny 31C")) == "none"
    assert ask(tool("snow -4C")) == "none"
    pre = lambda p: [{"role": "user", "content": "Translate 'good night'."}, {"role": "assistant", "content": p}]  # noqa: E731
    assert ask(pre("In French:")) == "none"
    assert ask(pre("In Japanese:")) == "none"
    # params and tools are part of both keys
    assert ask(Q, top_k=5) == "none"
    assert ask(Q, top_k=6) == "none"
    t1 = [{"type": "function", "function": {"name": "a", "parameters": {"type": "object", "properties": {}}}}]
    t2 = [{"type": "function", "function": {"name": "b", "parameters": {"type": "object", "properties": {}}}}]
    assert ask(Q, tools=t1) == "none"
    assert ask(Q, tools=t2) == "none"
    # positive control: plain text last user turn still hits (exact, then semantic for the same words)
    assert ask([{"role": "user", "content": "Capital city of Chile?"}]) == "none"
    assert ask([{"role": "user", "content": "Capital city of Chile?"}]) == "exact"
    assert ask([{"role": "user", "content": "capital CITY of chile?"}]) == "semantic"


# ------------------------------------------------------------------------------------------ 6. bad input

BAD = [
    ('{"model":"auto","messages":[{"role":"user","content":"hi"}],"temperature":NaN}', "temperature"),
    ('{"model":"auto","messages":[{"role":"user","content":"hi"}],"top_p":Infinity}', "top_p"),
    ('{"model":"auto","messages":[{"role":"user","content":"hi"}],"stream_options":"yes"}', "stream_options"),
    ('{"model":"auto","messages":[{"role":"user","content":[{"type":"text","text":5}]}]}', "messages[0].content"),
    ('{"model":"auto","messages":[{"role":"user","content":"\\ud800"}]}', "messages[0].content"),
    ('{"model":"auto","messages":[{"role":"user","content":"hi"}],"metadata":' + "[" * 5000 + "]" * 5000 + "}", None),
    ('{"model":"auto","messages":[{"role":"user","content":"hi"}],"temperature":-5}', "temperature"),
    ('{"model":"auto","messages":[{"role":"user","content":5}]}', "messages[0].content"),
    ('{"model":"auto","messages":[{"role":"user","content":null}]}', "messages[0].content"),
    ('{"model":"auto","messages":[{"role":"user","content":"hi"}],"stream":"no"}', "stream"),
    ('{"model":"auto","messages":[{"role":"hacker","content":"hi"}]}', "messages[0].role"),
]


def test_bad_input_is_a_400_naming_the_field_and_keeps_the_connection(make_gateway, fake_state):
    _, url = make_gateway()
    n0 = fake_state.requests
    with httpx.Client(timeout=20) as h:
        for raw, param in BAD:
            r = h.post(url + CHAT, content=raw.encode(), headers={"content-type": "application/json"})
            assert r.status_code == 400, (raw[:80], r.status_code, r.text[:300])
            e = _err(r)
            if param is not None:
                assert (e["param"] or "").startswith(param), (raw[:80], e)
            assert param is None or param.split("[")[0] in e["message"], e
        r = h.post(url + CHAT, json={"model": "auto", "messages": Q, "temperature": 0})
        assert r.status_code == 200
        assert len(h._transport._pool.connections) == 1  # one keep-alive connection served them all
    assert fake_state.requests == n0 + 1


# ------------------------------------------------------------------------------------------ 7. upstream garbage


def _stream_ends_cleanly(url: str, status: int) -> None:
    """A failure before the first byte is an HTTP error in OpenAI's shape; after it, an in-band error event
    followed by [DONE]. Never a stream that just stops."""
    with httpx.stream("POST", url + CHAT, json={"model": "auto", "messages": Q, "stream": True}, timeout=10) as s:
        if s.status_code != 200:
            s.read()
            assert s.status_code == status and _err(s)["type"] == "upstream_error"
            return
        lines = [ln for ln in s.iter_lines() if ln.startswith("data:")]
    assert lines[-1] == "data: [DONE]" and any('"error"' in ln for ln in lines), lines


@pytest.mark.parametrize("mode", ["garbage", "undecodable"])
def test_upstream_garbage_is_a_clean_502_and_sse_ends(make_gateway, fake_state, mode):
    gw, url = make_gateway(upstream={"retries": 0})
    fake_state.mode = mode
    r = httpx.post(url + CHAT, json={"model": "auto", "messages": Q})
    assert r.status_code == 502 and _err(r)["type"] == "upstream_error"
    _stream_ends_cleanly(url, 502)
    gw.ledger.flush()
    assert [st for (st,) in gw.ledger.query("SELECT status FROM ledger")] == ["upstream_error", "upstream_error"]


def test_overall_deadline_with_keepalive_comments(make_gateway, fake_state):
    _, url = make_gateway(limits={"request_timeout_s": 0.5})
    fake_state.mode = "keepalive"
    fake_state.timeout_s = 4.0
    t = time.perf_counter()
    r = httpx.post(url + CHAT, json={"model": "auto", "messages": Q}, timeout=10)
    assert r.status_code == 504 and time.perf_counter() - t < 2.5
    t = time.perf_counter()
    _stream_ends_cleanly(url, 504)
    assert time.perf_counter() - t < 2.5


# ------------------------------------------------------------------------------------------ 8. pass-through

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "weather of a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]


def test_tool_calls_pass_through_json_and_stream(make_gateway, fake_state):
    _, url = make_gateway()
    fake_state.mode = "tools"
    c = client(url)
    r = c.chat.completions.create(
        model="auto", messages=[{"role": "user", "content": "Weather in Paris?"}], tools=TOOLS
    )
    tc = r.choices[0].message.tool_calls
    assert r.choices[0].finish_reason == "tool_calls" and tc and tc[0].function.name == "get_weather"
    assert json.loads(tc[0].function.arguments) == {"city": "Paris"} and tc[0].id == "call_fake1"
    assert fake_state.last_body["tools"] == TOOLS
    chunks = list(
        c.chat.completions.create(
            model="auto", messages=[{"role": "user", "content": "Weather in Rome?"}], tools=TOOLS, stream=True
        )
    )
    args = "".join(
        d.function.arguments or "" for ch in chunks if ch.choices for d in (ch.choices[0].delta.tool_calls or [])
    )
    names = [
        d.function.name
        for ch in chunks
        if ch.choices
        for d in (ch.choices[0].delta.tool_calls or [])
        if d.function.name
    ]
    assert names == ["get_weather"] and json.loads(args) == {"city": "Paris"}


def test_logprobs_response_format_and_unknown_params_forwarded(make_gateway, fake_state):
    _, url = make_gateway()
    fake_state.mode = "logprobs"
    c = client(url)
    r = c.chat.completions.create(
        model="auto",
        messages=Q,
        logprobs=True,
        top_logprobs=0,
        response_format={"type": "json_object"},
        parallel_tool_calls=False,
        user="u1",
        reasoning_effort="low",
        extra_body={"top_k": 5, "min_p": 0.1, "repeat_penalty": 1.1, "grammar": 'root ::= "a"'},
    )
    lp = r.choices[0].logprobs
    assert lp is not None and len(lp.content) == 12 and lp.content[0].logprob == -0.25
    body = fake_state.last_body
    for k, v in {
        "top_k": 5,
        "min_p": 0.1,
        "repeat_penalty": 1.1,
        "grammar": 'root ::= "a"',
        "user": "u1",
        "reasoning_effort": "low",
        "parallel_tool_calls": False,
        "response_format": {"type": "json_object"},
        "logprobs": True,
    }.items():
        assert body.get(k) == v, k


def test_unknown_params_allow_list(make_gateway, fake_state):
    _, url = make_gateway(request={"forward_unknown": ["top_k"]})
    client(url).chat.completions.create(model="auto", messages=Q, extra_body={"top_k": 5, "mirostat": 2})
    assert fake_state.last_body.get("top_k") == 5 and "mirostat" not in fake_state.last_body


# ------------------------------------------------------------------------------------------ 9. disclosure


def test_502_bodies_do_not_leak_upstream_internals(make_gateway, fake_state):
    from costlab.serving.testing import free_port

    _, url = make_gateway(upstream={"retries": 0})
    fake_state.mode = "500_leaky"
    r = httpx.post(url + CHAT, json={"model": "auto", "messages": Q})
    assert r.status_code == 502 and "10.0.0.5" not in r.text and "db pool" not in r.text and "127.0.0.1" not in r.text
    port = free_port()
    _, url2 = make_gateway(endpoint=f"http://127.0.0.1:{port}/v1", upstream={"retries": 0})
    r = httpx.post(url2 + CHAT, json={"model": "auto", "messages": Q})
    assert r.status_code == 502 and str(port) not in r.text and "127.0.0.1" not in r.text


def test_metrics_and_health_details_need_an_admin_key(make_gateway, fake_state):
    gw, url = make_gateway(auth={"keys": KEYS})
    assert httpx.get(url + "/metrics").status_code == 401
    assert httpx.get(url + "/metrics", headers={"authorization": "Bearer sk-good"}).status_code == 403
    assert httpx.get(url + "/metrics", headers={"authorization": "Bearer sk-admin"}).status_code == 200
    h = httpx.get(url + "/health")
    assert h.status_code == 200 and set(h.json()) == {"status"}
    d = httpx.get(url + "/health", headers={"authorization": "Bearer sk-admin"}).json()
    assert "ledger" in d and str(gw.s.tables_dir) not in json.dumps(d) and "tables" not in d
