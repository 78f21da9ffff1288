"""A scripted OpenAI Batch API (+ chat completions) server on 127.0.0.1 for the batch runner tests.

Real HTTP (FastAPI + uvicorn in a thread): the runner talks to it through the official `openai` SDK.
The script: which custom_ids fail (error file), which are silently missing from the output, how many polls a
batch stays in progress, and a `hold` flag that keeps it in progress until the test releases it.
"""

from __future__ import annotations

import asyncio
import email.parser
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI, Request  # module level: handlers' string annotations resolve against these globals
from fastapi.responses import JSONResponse, Response


@dataclass
class Script:
    fail_ids: set[str] = field(default_factory=set)  # → error file (Batch) / HTTP 500 (chat)
    drop_ids: set[str] = field(default_factory=set)  # → absent from every file
    polls_in_progress: int = 2  # retrieves answered "in_progress" before "completed"
    hold: bool = False  # stay in_progress while True
    chat_delay_s: float = 0.05


class ScriptedServer:
    def __init__(self, script: Script):
        self.script = script
        self.files: dict[str, dict[str, Any]] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.calls: dict[str, int] = {"upload": 0, "create": 0, "retrieve": 0, "list": 0, "content": 0, "chat": 0}
        self.chat_ids: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0
        app = FastAPI()
        self.app = app

        @app.post("/v1/files")
        async def upload(request: Request):
            self.calls["upload"] += 1
            raw = await request.body()
            msg = email.parser.BytesParser().parsebytes(
                b"Content-Type: " + request.headers["content-type"].encode() + b"\r\n\r\n" + raw
            )
            parts = {p.get_param("name", header="content-disposition"): p for p in msg.get_payload()}
            data = parts["file"].get_payload(decode=True)
            purpose = parts["purpose"].get_payload(decode=True).decode()
            fid = f"file-{len(self.files) + 1}"
            self.files[fid] = {
                "data": data,
                "purpose": purpose,
                "filename": parts["file"].get_param("filename", header="content-disposition"),
            }
            return self._file_obj(fid)

        @app.get("/v1/files/{fid}/content")
        async def content(fid: str):
            self.calls["content"] += 1
            if fid not in self.files:
                return JSONResponse({"error": {"message": "no such file"}}, status_code=404)
            return Response(self.files[fid]["data"], media_type="application/octet-stream")

        @app.post("/v1/batches")
        async def create(request: Request):
            self.calls["create"] += 1
            body = await request.json()
            bid = f"batch_{len(self.batches) + 1}"
            n = sum(1 for ln in self.files[body["input_file_id"]]["data"].splitlines() if ln.strip())
            self.batches[bid] = {
                "id": bid,
                "object": "batch",
                "endpoint": body["endpoint"],
                "errors": None,
                "input_file_id": body["input_file_id"],
                "completion_window": body["completion_window"],
                "status": "validating",
                "output_file_id": None,
                "error_file_id": None,
                "created_at": int(time.time()),
                "metadata": body.get("metadata"),
                "_polls": 0,
                "request_counts": {"total": n, "completed": 0, "failed": 0},
            }
            return self._pub(bid)

        @app.get("/v1/batches")
        async def list_batches():
            self.calls["list"] += 1
            return {"object": "list", "data": [self._pub(b) for b in self.batches], "has_more": False}

        @app.get("/v1/batches/{bid}")
        async def retrieve(bid: str):
            self.calls["retrieve"] += 1
            b = self.batches[bid]
            if b["status"] in ("validating", "in_progress"):
                b["_polls"] += 1
                if self.script.hold or b["_polls"] <= self.script.polls_in_progress:
                    b["status"] = "in_progress"
                else:
                    self._complete(b)
            return self._pub(bid)

        @app.post("/v1/chat/completions")
        async def chat(request: Request):
            self.calls["chat"] += 1
            body = await request.json()
            cid = body.get("metadata", {}).get("cid") if isinstance(body.get("metadata"), dict) else None
            text = body["messages"][-1]["content"]
            self.chat_ids.append(text)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                await asyncio.sleep(self.script.chat_delay_s)
            finally:
                self.in_flight -= 1
            if any(f in text for f in self.script.fail_ids) or cid in self.script.fail_ids:
                return JSONResponse({"error": {"message": "scripted failure", "type": "server_error"}}, status_code=500)
            return self._completion(body["model"], text)

    # ---- helpers
    @staticmethod
    def _completion(model: str, text: str) -> dict[str, Any]:
        return {
            "id": "chatcmpl-x",
            "object": "chat.completion",
            "created": 0,
            "model": model,
            "choices": [
                {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": f"echo: {text}"}}
            ],
            "usage": {
                "prompt_tokens": len(text.split()),
                "completion_tokens": 2,
                "total_tokens": len(text.split()) + 2,
            },
        }

    def _file_obj(self, fid: str) -> dict[str, Any]:
        f = self.files[fid]
        return {
            "id": fid,
            "object": "file",
            "bytes": len(f["data"]),
            "created_at": 0,
            "filename": f["filename"],
            "purpose": f["purpose"],
            "status": "processed",
        }

    def _pub(self, bid: str) -> dict[str, Any]:
        return {k: v for k, v in self.batches[bid].items() if not k.startswith("_")}

    def _complete(self, b: dict[str, Any]) -> None:
        out, errs = [], []
        for ln in self.files[b["input_file_id"]]["data"].decode().splitlines():
            if not ln.strip():
                continue
            r = json.loads(ln)
            cid = r["custom_id"]
            if cid in self.script.drop_ids:
                continue
            if cid in self.script.fail_ids:
                errs.append(
                    {
                        "id": f"batch_req_{cid}",
                        "custom_id": cid,
                        "response": None,
                        "error": {"code": "server_error", "message": "scripted failure"},
                    }
                )
                continue
            out.append(
                {
                    "id": f"batch_req_{cid}",
                    "custom_id": cid,
                    "response": {
                        "status_code": 200,
                        "request_id": f"req_{cid}",
                        "body": self._completion(r["body"]["model"], r["body"]["messages"][-1]["content"]),
                    },
                    "error": None,
                }
            )
        # results come back in arbitrary order
        out.reverse()

        def add(rows: list[dict[str, Any]]) -> str | None:
            if not rows:
                return None
            fid = f"file-{len(self.files) + 1}"
            self.files[fid] = {
                "data": "".join(json.dumps(x) + "\n" for x in rows).encode(),
                "purpose": "batch_output",
                "filename": f"{fid}.jsonl",
            }
            return fid

        b["output_file_id"] = add(out)
        b["error_file_id"] = add(errs)
        b["request_counts"] = {"total": b["request_counts"]["total"], "completed": len(out), "failed": len(errs)}
        b["status"] = "completed"


def _serve(app) -> tuple[Any, threading.Thread, int]:
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    th = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    th.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.02)
    assert server.started, "scripted server did not start"
    return server, th, port


@pytest.fixture
def batch_server():
    """(server, base_url): a fresh scripted server; tweak ``server.script`` before use."""
    srv = ScriptedServer(Script())
    uv, th, port = _serve(srv.app)
    yield srv, f"http://127.0.0.1:{port}/v1"
    uv.should_exit = True
    th.join(timeout=5)
