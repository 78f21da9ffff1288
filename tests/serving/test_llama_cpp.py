"""The gateway in front of a REAL llama-cpp-python server on the embedded SmolLM2 GGUF, driven by the
openai SDK (sync, async, streaming)."""

from __future__ import annotations

import asyncio
import importlib.util
import time

import httpx
import openai
import pytest

from costlab.serving import testing

pytestmark = [
    pytest.mark.integration,
    pytest.mark.llama_cpp,
    pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None, reason="llama-cpp-python not installed"),
]

Q = [{"role": "user", "content": "What is the capital of France?"}]


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    log = tmp_path_factory.mktemp("llama") / "server.log"
    # --interrupt_requests False: by default a new request cuts the one in flight (it then ends empty)
    with testing.llama_server("--interrupt_requests", "False", log_path=str(log)) as url:
        yield url, log


def test_sdk_sync_async_stream_through_gateway(make_gateway, llama_server):
    llama_server, _ = llama_server
    gw, url = make_gateway(endpoint=llama_server, upstream={"read_timeout_s": 120})
    c = openai.OpenAI(base_url=url + "/v1", api_key="k", max_retries=0, timeout=120)
    raw = c.chat.completions.with_raw_response.create(model="auto", messages=Q, temperature=0, max_tokens=16)
    r = raw.parse()
    # greedy decoding: the gateway returns exactly what the upstream generates for the same request
    direct = httpx.post(
        llama_server + "/chat/completions",
        timeout=120,
        json={"model": "student-Q4_K_M", "messages": Q, "temperature": 0, "max_tokens": 16},
    ).json()
    assert r.choices[0].message.content == direct["choices"][0]["message"]["content"] != ""
    assert raw.headers["x-costlab-model"] == "student-Q4_K_M" and float(raw.headers["x-costlab-cost-usd"]) > 0
    assert 0 < r.usage.completion_tokens <= 16 and r.usage.costlab["ttft_ms"] > 0
    # exact cache on the second identical call
    raw2 = c.chat.completions.with_raw_response.create(model="auto", messages=Q, temperature=0, max_tokens=16)
    assert (
        raw2.headers["x-costlab-cached"] == "exact"
        and raw2.parse().choices[0].message.content == r.choices[0].message.content
    )
    # streaming, with the output cap enforced by the gateway
    chunks = list(
        c.chat.completions.create(
            model="auto",
            temperature=0,
            max_tokens=6,
            stream=True,
            stream_options={"include_usage": True},
            messages=[{"role": "user", "content": "Tell me a long story about a dragon."}],
        )
    )
    n = sum(1 for ch in chunks if ch.choices and ch.choices[0].delta.content)
    assert 1 <= n <= 6 and chunks[-1].usage.completion_tokens == n
    assert chunks[-1].usage.costlab["cost_usd"] > 0

    async def run_async():
        ac = openai.AsyncOpenAI(base_url=url + "/v1", api_key="k", max_retries=0, timeout=120)
        rs = await asyncio.gather(
            *[
                ac.chat.completions.create(
                    model="auto",
                    temperature=0,
                    max_tokens=8,
                    messages=[{"role": "user", "content": f"Name a colour. ({i})"}],
                )
                for i in range(2)
            ]
        )
        await ac.close()
        return rs

    rs = asyncio.run(run_async())
    assert all(x.choices[0].message.content for x in rs), [
        (x.choices[0].message.content, x.choices[0].finish_reason, x.usage) for x in rs
    ]
    gw.ledger.flush()
    sp = httpx.get(url + "/v1/spend").json()
    assert sp["total"]["requests"] == 5 and sp["total"]["cached_responses"] == 1


def test_client_disconnect_stops_llama_cpp_generation(make_gateway, llama_server):
    llama_server, log = llama_server
    n_disc = log.read_text().count("Disconnected from client")
    gw, url = make_gateway(endpoint=llama_server, upstream={"read_timeout_s": 120})
    got = 0
    with httpx.Client(timeout=120) as h:
        with h.stream(
            "POST",
            url + "/v1/chat/completions",
            json={
                "model": "auto",
                "stream": True,
                "temperature": 0,
                "max_tokens": 400,
                "messages": [{"role": "user", "content": "Write a very long essay about the history of Rome."}],
            },
        ) as r:
            for line in r.iter_lines():
                if '"content":"' in line and '"content":""' not in line:
                    got += 1
                if got >= 4:
                    break
    end = time.time() + 20
    rows = []
    while time.time() < end and not rows:
        gw.ledger.flush()
        rows = gw.ledger.query("SELECT status, completion_tokens FROM ledger")
        time.sleep(0.1)
    assert rows and rows[0][0] == "client_disconnected" and 4 <= rows[0][1] < 400
    # llama_cpp.server saw the gateway close the upstream stream (and stops generating on that)
    end = time.time() + 10
    while time.time() < end and log.read_text().count("Disconnected from client") == n_disc:
        time.sleep(0.1)
    assert log.read_text().count("Disconnected from client") == n_disc + 1
    # the upstream is free again: a short request completes
    t = time.time()
    r = openai.OpenAI(base_url=url + "/v1", api_key="k", max_retries=0, timeout=120).chat.completions.create(
        model="auto", messages=[{"role": "user", "content": "Say hi."}], max_tokens=4, temperature=0
    )
    assert r.choices[0].message.content is not None and time.time() - t < 30
