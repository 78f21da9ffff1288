"""Real OpenAI clients against the gateway (drop-in check, issue 12 #8): the `openai` SDK (sync, async, streaming,
tools), the `litellm` SDK pointed at the gateway, and langchain-openai's ChatOpenAI."""

from __future__ import annotations

import asyncio
import json
import os

import openai
import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # litellm: never fetch its price map at import

Q = [{"role": "user", "content": "What is the capital of Italy?"}]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "weather of a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
]


def test_openai_sdk_sync_async_stream_tools(make_gateway, fake_state):
    _, url = make_gateway()
    c = openai.OpenAI(base_url=url + "/v1", api_key="sk-x", max_retries=0, timeout=20)
    r = c.chat.completions.create(model="auto", messages=Q, temperature=0, seed=1, stop=["\n\n"])
    assert r.choices[0].message.content and r.usage.total_tokens > 0
    fake_state.mode = "tools"

    async def run():
        ac = openai.AsyncOpenAI(base_url=url + "/v1", api_key="sk-x", max_retries=0, timeout=20)
        res = await ac.chat.completions.create(
            model="auto", messages=[{"role": "user", "content": "Paris weather?"}], tools=TOOLS, tool_choice="auto"
        )
        s = await ac.chat.completions.create(
            model="auto", messages=[{"role": "user", "content": "Oslo weather?"}], tools=TOOLS, stream=True
        )
        deltas = [d async for ch in s if ch.choices for d in (ch.choices[0].delta.tool_calls or [])]
        await ac.close()
        return res, deltas

    res, deltas = asyncio.run(run())
    call = res.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Paris"}
    assert json.loads("".join(d.function.arguments or "" for d in deltas)) == {"city": "Paris"}
    # the tool result goes back through the gateway as the next turn
    fake_state.mode = "ok"
    follow = c.chat.completions.create(
        model="auto",
        messages=[
            {"role": "user", "content": "Paris weather?"},
            res.choices[0].message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": call.id, "content": "sunny 31C"},
        ],
    )
    assert follow.choices[0].message.content


def test_litellm_sdk_against_the_gateway(make_gateway, fake_state):
    litellm = pytest.importorskip("litellm", reason="litellm is the `litellm` extra (make install installs it)")
    _, url = make_gateway()
    kw = {"model": "openai/auto", "api_base": url + "/v1", "api_key": "sk-x", "num_retries": 0, "timeout": 20}
    r = litellm.completion(messages=Q, temperature=0, **kw)
    assert r.choices[0].message.content.startswith("What0")
    parts = [ch.choices[0].delta.content or "" for ch in litellm.completion(messages=Q, stream=True, **kw)]
    assert "".join(parts).split()[0] == "What0"
    fake_state.mode = "tools"
    r = litellm.completion(messages=[{"role": "user", "content": "Rome weather?"}], tools=TOOLS, **kw)
    tc = r.choices[0].message.tool_calls[0]
    assert tc.function.name == "get_weather" and json.loads(tc.function.arguments) == {"city": "Paris"}


def test_langchain_chatopenai_against_the_gateway(make_gateway, fake_state):
    lc = pytest.importorskip("langchain_openai", reason="langchain-openai is in the `dev` extra")
    _, url = make_gateway()
    llm = lc.ChatOpenAI(base_url=url + "/v1", api_key="sk-x", model="auto", temperature=0, max_retries=0, timeout=20)
    msg = llm.invoke("What is the capital of Italy?")
    assert msg.content.startswith("What0") and msg.response_metadata["model_name"] == "student-Q4_K_M"
    assert "".join(c.content for c in llm.stream("Name a colour?")).startswith("Name0")
    fake_state.mode = "tools"
    out = llm.bind_tools(TOOLS).invoke("Weather in Paris?")
    assert (
        out.tool_calls and out.tool_calls[0]["name"] == "get_weather" and out.tool_calls[0]["args"] == {"city": "Paris"}
    )
