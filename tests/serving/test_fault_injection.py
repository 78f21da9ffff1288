"""Fault injection (issue 12): one gateway on the Redis backend with a budget, driven through four faults in a row.
While each lasts, /health reflects it; after recovery, every billed response (a 200, or a 502 that billed what
was generated) has its ledger row with the cost the client was told, and spend rebuilt from the ledger matches.

Faults are real errors from SQLite / the OS / the network, not mocks of the gateway:
  disk full       the fallback JSONL is /dev/full (ENOSPC on every append) and the ledger DB refuses writes
                  (SQLite query_only: the same sqlite3.OperationalError path as SQLITE_FULL)
  read-only state the ledger DB refuses writes and the fallback path lies under a regular file (NotADirectoryError)
  Redis down      the redis-server process is stopped (budgets fail open, cache passes through, rows still billed)
  upstream garbage the upstream sends a malformed chunk mid-stream / undecodable lines
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import httpx
import pytest

from .test_redis import RedisProc

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server binary not installed"),
]
CHAT = "/v1/chat/completions"


def _wait(cond, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def test_faults_lose_no_billed_response(make_gateway, fake_state, tmp_path):
    redis = RedisProc(tmp_path)
    try:
        gw, url = make_gateway(
            backend="redis",
            redis_url=redis.url,
            redis_prefix="fi:",
            budget={"global": {"daily_usd": 1.0}},
            ledger={"retry_s": 0.1},
            upstream={"retries": 0},
        )
        billed: dict[str, float] = {}  # x-request-id -> cost the client was told
        statuses: list[int] = []
        n = [0]

        def ask(stream: bool = False) -> int:
            n[0] += 1
            body = {
                "model": "auto",
                "messages": [{"role": "user", "content": f"fault question {n[0]}?"}],
                "max_tokens": 8,
            }
            if stream:
                body.update(stream=True, stream_options={"include_usage": True})
                with httpx.stream("POST", url + CHAT, json=body, timeout=20) as r:
                    lines = [ln for ln in r.iter_lines() if ln.startswith("data: {")]
                    code, rid = r.status_code, r.headers.get("x-request-id")
                import json

                usage = [json.loads(ln[6:])["usage"] for ln in lines if '"usage"' in ln]
                if code == 200 and usage:
                    billed[rid] = usage[-1]["costlab"]["cost_usd"]
            else:
                r = httpx.post(url + CHAT, json=body, timeout=20)
                code = r.status_code
                if code == 200:
                    billed[r.headers["x-request-id"]] = r.json()["usage"]["costlab"]["cost_usd"]
            statuses.append(code)
            return code

        def health() -> tuple[int, str]:
            h = httpx.get(url + "/health")
            return h.status_code, h.json()["status"]

        assert ask() == 200 and health() == (200, "ok")
        good_fallback = gw.ledger.fallback

        # --- disk full: DB refuses writes, fallback appends hit ENOSPC
        gw.ledger.db.execute("PRAGMA query_only=ON")
        gw.ledger.fallback = Path("/dev/full")
        assert ask() == 200  # served before the writer noticed; its row is held in memory
        assert _wait(lambda: health() == (503, "failing"))
        assert ask() == 503  # fail closed (a budget is set): no new paid request while nothing is durable
        gw.ledger.db.execute("PRAGMA query_only=OFF")
        gw.ledger.fallback = good_fallback
        assert _wait(lambda: health() == (200, "ok"))

        # --- read-only state: DB refuses writes, fallback directory cannot exist (a file is in the way)
        blocker = tmp_path / "not_a_dir"
        blocker.write_text("x")
        gw.ledger.db.execute("PRAGMA query_only=ON")
        gw.ledger.fallback = blocker / "ledger.fallback.jsonl"
        ask(stream=True)
        assert _wait(lambda: health() == (503, "failing"))
        gw.ledger.db.execute("PRAGMA query_only=OFF")
        gw.ledger.fallback = good_fallback
        assert _wait(lambda: health() == (200, "ok"))

        # --- DB fails but the fallback file works: degraded, still served, rows durable in the JSONL
        gw.ledger.db.execute("PRAGMA query_only=ON")
        assert ask() == 200
        assert _wait(lambda: health() == (200, "degraded"))
        gw.ledger.db.execute("PRAGMA query_only=OFF")
        assert ask() == 200  # the next DB write succeeds and imports the fallback rows
        assert _wait(lambda: health() == (200, "ok"))

        # --- Redis down: budgets fail open, cache passes through, billed in the local ledger
        redis.stop()
        assert ask() == 200
        assert health() == (200, "degraded")
        assert ask(stream=True) == 200

        # --- upstream garbage: 502 / in-band error, billed only what was generated
        fake_state.mode = "garbage"
        assert ask() == 502
        ask(stream=True)
        assert "upstream" in httpx.get(url + "/health").text or health()[1] == "degraded"
        fake_state.mode = "undecodable"
        assert ask() == 502
        fake_state.mode = "ok"

        # --- recovery: every billed response is in the ledger with the cost the client saw
        assert gw.ledger.flush(10)
        rows = {rid: (cost, status) for rid, cost, status in gw.ledger.query("SELECT id, cost_usd, status FROM ledger")}
        missing = [rid for rid in billed if rid not in rows]
        assert not missing, missing
        for rid, cost in billed.items():
            assert rows[rid][0] == pytest.approx(cost), rid
        assert len(rows) == sum(1 for s in statuses if s in (200, 502))  # 503s were refused before any work
        # spend rebuilt from the ledger (a restart) equals what the gateway billed
        total = gw.ledger.query("SELECT SUM(cost_usd) FROM ledger")[0][0]
        gw2, _ = make_gateway(state_dir=gw.s.state_dir, budget={"global": {"daily_usd": 1.0}})
        spent = [v for k, v in gw2.budgets.state()["spent"].items() if k.startswith("global/daily")]
        assert spent == [pytest.approx(total)]
    finally:
        redis.stop()
