"""Redis backend against a real redis-server started here on a free loopback port."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time

import openai
import pytest

from costlab.serving.budgets import Limit, RedisBudgets
from costlab.serving.cache import RedisExactCache, redis_client
from costlab.serving.testing import free_port

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server binary not installed"),
]

Q = [{"role": "user", "content": "What is the speed of light?"}]


class RedisProc:
    def __init__(self, tmp):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(tmp),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.client = redis_client(self.url)
        end = time.time() + 10
        while True:
            try:
                self.client.ping()
                break
            except Exception:
                if time.time() > end:
                    raise
                time.sleep(0.05)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


@pytest.fixture
def redis_proc(tmp_path):
    r = RedisProc(tmp_path)
    yield r
    r.stop()


def test_redis_exact_cache_ttl_and_lru(redis_proc):
    c = RedisExactCache(redis_proc.client, "t:", max_entries=2)
    c.put("a", {"v": 1}, 60)
    c.put("b", {"v": 2}, 60)
    assert c.get("a") == {"v": 1}
    c.put("c", {"v": 3}, 60)  # b is least recently used
    assert c.get("b") is None and c.get("a") and c.get("c") and len(c) == 2
    c.put("short", {"v": 4}, 1)
    time.sleep(1.2)
    assert c.get("short") is None


def test_redis_budgets_atomic_across_clients(redis_proc):
    lim = [Limit("global", "daily:2026-01-01", 1.0), Limit("key:k1", "daily:2026-01-01", 0.5)]
    ok = []

    def replica():
        b = RedisBudgets(redis_client(redis_proc.url))
        for _ in range(40):
            r, _ = b.reserve(lim, 0.01)
            if r is not None:
                ok.append(1)
                b.settle(r, 0.01)

    ts = [threading.Thread(target=replica) for _ in range(4)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    st = RedisBudgets(redis_proc.client).state()
    assert len(ok) == 50  # the key's 0.5 limit binds first
    assert st["spent"]["key:k1/daily:2026-01-01"] == pytest.approx(0.5)
    assert st["reserved"]["key:k1/daily:2026-01-01"] == pytest.approx(0.0)


def test_two_replicas_share_cache_and_budget(make_gateway, fake_state, redis_proc):
    common = {"backend": "redis", "redis_prefix": "rep:", "redis_url": redis_proc.url}
    gw1, url1 = make_gateway(**common)  # each replica opens its own connection from redis_url
    gw2, url2 = make_gateway(**common)
    c1 = openai.OpenAI(base_url=url1 + "/v1", api_key="k", max_retries=0)
    c2 = openai.OpenAI(base_url=url2 + "/v1", api_key="k", max_retries=0)
    c1.chat.completions.create(model="auto", messages=Q, temperature=0)
    r = c2.chat.completions.with_raw_response.create(model="auto", messages=Q, temperature=0)
    assert r.headers["x-costlab-cached"] == "exact"  # cached by replica 1, served by replica 2
    assert gw1.exact.inner.backend == "redis" and len(gw2.exact.inner) == 1


def test_redis_budget_enforced_across_replicas_and_redis_going_away(make_gateway, fake_state, redis_proc, caplog):
    def mk():
        return redis_client(redis_proc.url, 0.3)

    budget = {"global": {"daily_usd": 4e-6}}
    gw1, url1 = make_gateway(redis_client=mk(), backend="redis", budget=budget)
    gw2, url2 = make_gateway(redis_client=mk(), backend="redis", budget=budget)
    cs = [openai.OpenAI(base_url=u + "/v1", api_key="k", max_retries=0) for u in (url1, url2)]
    served, rejected = 0, 0
    for i in range(8):
        try:
            cs[i % 2].chat.completions.create(
                model="auto", max_tokens=12, messages=[{"role": "user", "content": f"What is {i} squared?"}]
            )
            served += 1
        except openai.RateLimitError:
            rejected += 1
    assert served >= 1 and rejected >= 1 and served + rejected == 8
    gw1.ledger.flush()
    gw2.ledger.flush()
    billed = sum(g.ledger.query("SELECT COALESCE(SUM(cost_usd),0) FROM ledger")[0][0] for g in (gw1, gw2))
    assert billed <= 4e-6 * (1 + 1e-9)
    # Redis goes away: cache → pass-through, budget → fail-open, requests still served and billed locally
    redis_proc.stop()
    n_before = gw1.ledger.count()
    r = cs[0].chat.completions.with_raw_response.create(model="auto", messages=Q, temperature=0, max_tokens=12)
    assert r.status_code == 200 and r.headers["x-costlab-cached"] == "none"
    gw1.ledger.flush()
    assert gw1.ledger.count() == n_before + 1
    assert gw1.exact.errors >= 1 and gw1.budgets.errors >= 1
    assert "serving without cache" in caplog.text and "fail_open" in caplog.text
