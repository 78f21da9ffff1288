"""costlab gateway vs LiteLLM's proxy, one run, same machine, same scripted loopback upstream, same requests.

Both forward to the same fake OpenAI-compatible upstream (costlab.serving.testing: 16 tokens, no delay, so any
difference is the proxy's own cost). Measured:
  1. miss path: gateway_overhead.miss_blocks (the same loop, requests, client and gateway configuration as
     benchmarks/gateway_overhead.py's JSON row): N pairs per proxy (direct JSON call, then the same request through
     the proxy) in 4 blocks taken in turn, every proxy idle before each block; p50, p99, the overhead over the
     paired direct calls and the paired median with a 95% bootstrap interval. Same features on both sides: an API key sent by the client (costlab
     keys file / LiteLLM master key), a global budget (costlab reservation / LiteLLM max_budget), the exact cache;
  2. cache hit: the same request twice, the second answered from each proxy's cache (costlab exact cache;
     LiteLLM `cache: true` with the in-memory cache): p50;
  3. throughput: 64 concurrent clients, a bounded number of requests, requests/s and non-2xx count;
  4. budget under concurrency: a global budget worth B requests, 64 concurrent requests: how many were served
     and billed (overshoot = served - B); LiteLLM's global `max_budget` (its SDK-level budget; per-key budgets
     need its Postgres DB, not available offline) vs costlab's reservation;
  5. memory: RSS of each proxy process after the run.

LiteLLM runs from the peers venv (.cache/venv-peers, `make bench-peers`); missing → one clear error.
    .venv/bin/python benchmarks/peers/bench_litellm_proxy.py [--n 200] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import psutil
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "benchmarks" / "peers"))
from common import PeerMissing, peer_python, report  # noqa: E402
from gateway_overhead import (  # noqa: E402  (the gateway benchmark's harness: same requests, same client loop)
    MISS_MODEL,
    fake,
    gateway,
    miss_blocks,
    miss_body,
    miss_settings,
    paired_median,
    post_time,
)

from costlab.paths import offline_env  # noqa: E402
from costlab.serving.testing import free_port  # noqa: E402

MODEL = MISS_MODEL  # routing fixture price: $1.0 / 1M in, $3.0 / 1M out
MASTER_KEY = "sk-" + os.urandom(16).hex()  # LiteLLM refuses to start without one (fails closed, as it should)
HEADERS: dict[str, dict] = {}  # base URL -> auth header (only LiteLLM needs one)


def start_litellm(tmp: Path, up_url: str, budget: float | None) -> tuple[subprocess.Popen, str]:
    py = peer_python("litellm")
    litellm_bin = str(Path(py).parent / "litellm")
    port = free_port()
    settings: dict = {"cache": True, "cache_params": {"type": "local"}, "telemetry": False}
    if budget is not None:
        settings.update({"max_budget": budget, "budget_duration": "30d"})
    cfg = {
        "model_list": [
            {
                "model_name": MODEL,
                "litellm_params": {
                    "model": f"openai/{MODEL}",
                    "api_base": up_url,
                    "api_key": "sk-fake",
                    "input_cost_per_token": 1.0e-6,
                    "output_cost_per_token": 3.0e-6,
                },
            }
        ],
        "litellm_settings": settings,
        "general_settings": {"master_key": MASTER_KEY},
    }
    p = tmp / f"litellm_{port}.yaml"
    p.write_text(yaml.safe_dump(cfg))
    env = {
        **offline_env(),  # includes LITELLM_LOCAL_MODEL_COST_MAP=True: no price-map fetch
        "LITELLM_LOG": "ERROR",
        "DISABLE_SCHEMA_UPDATE": "true",
    }
    log = open(tmp / f"litellm_{port}.log", "w")
    proc = subprocess.Popen(
        [litellm_bin, "--config", str(p), "--host", "127.0.0.1", "--port", str(port), "--num_workers", "1"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    t0 = time.time()
    while time.time() - t0 < 400:
        if proc.poll() is not None:
            raise RuntimeError(f"litellm proxy exited: {(tmp / f'litellm_{port}.log').read_text()[-1500:]}")
        try:
            if httpx.get(url + "/health/liveliness", timeout=1).status_code == 200:
                HEADERS[url] = {"Authorization": f"Bearer {MASTER_KEY}"}
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError(f"litellm proxy did not come up in 400 s: {(tmp / f'litellm_{port}.log').read_text()[-1500:]}")


def pct(xs: list[float]) -> tuple[float, float]:
    a = np.array(xs) * 1000
    return float(np.percentile(a, 50)), float(np.percentile(a, 99))


body = miss_body


async def load(url: str, n: int, clients: int, prefix: str, timeout: float = 60) -> tuple[float, dict[int, int]]:
    codes: dict[int, int] = {}
    q: asyncio.Queue = asyncio.Queue()
    for i in range(n):
        q.put_nowait(i)
    async with httpx.AsyncClient(timeout=timeout, limits=httpx.Limits(max_connections=clients)) as c:

        async def worker() -> None:
            while not q.empty():
                i = q.get_nowait()
                try:
                    h = next((v for k, v in HEADERS.items() if url.startswith(k)), {})
                    r = await c.post(url, json=body(f"{prefix}{i}"), headers=h)
                    codes[r.status_code] = codes.get(r.status_code, 0) + 1
                except httpx.HTTPError:
                    codes[-1] = codes.get(-1, 0) + 1

        t = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        return time.perf_counter() - t, codes


def rss_mb(proc: subprocess.Popen) -> float:
    p = psutil.Process(proc.pid)
    return sum(x.memory_info().rss for x in [p, *p.children(recursive=True)]) / 2**20


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--load-n", type=int, default=640, help="requests in the 64-client throughput test")
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args()
    try:
        peer_python("litellm")
    except PeerMissing as e:
        print(e, file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="costlab_peer_litellm_"))
    procs: list = []
    res: dict = {}
    try:
        up, up_url = fake(16)
        procs.append(up)
        # the same gateway configuration as gateway_overhead.py (API key, global budget, exact cache); LiteLLM with
        # its master key, a global max_budget and its in-memory cache: key check, budget and cache on on both sides
        settings, hdr = miss_settings(tmp)
        gw, gw_url = gateway(tmp, "miss", up_url, settings, timeout=300)
        procs.append(gw)
        HEADERS[gw_url] = hdr
        ll, ll_url = start_litellm(tmp, up_url, 1.0e6)
        procs.append(ll)
        chat = "/v1/chat/completions"
        proxies = {
            "costlab": (gw_url + chat, gw, hdr, False),
            "litellm": (ll_url + chat, ll, HEADERS[ll_url], False),
        }
        targets = {k: v[0] for k, v in proxies.items()}
        direct_url = up_url + "/chat/completions"
        with httpx.Client(timeout=60) as c:
            miss_blocks(c, direct_url, proxies, 20, "warm", blocks=1)  # warm-up
            res["load_avg_before"] = os.getloadavg()
            # the same loop as gateway_overhead.py: per proxy, pairs (direct call, then through the proxy), in 4
            # blocks taken in turn, every proxy idle before each block (LiteLLM's logging callbacks after it
            # answered never land in costlab's pairs, nor costlab's writer threads in LiteLLM's)
            lat = miss_blocks(c, direct_url, proxies, a.n)
            hit = {"costlab": [], "litellm": []}
            for i in range(max(20, a.n // 5)):
                for k in hit:
                    h = proxies[k][2]
                    post_time(c, targets[k], body(f"{k}-hit-{i}"), h)
                    hit[k].append(post_time(c, targets[k], body(f"{k}-hit-{i}"), h)[0])
        res["load_avg_after"] = os.getloadavg()
        for k in ("costlab", "litellm"):
            d50, d99 = pct(lat[k][0])
            p50, p99 = pct(lat[k][1])
            res[f"{k}_direct_p50_ms"], res[f"{k}_direct_p99_ms"] = d50, d99
            res[f"{k}_miss_p50_ms"], res[f"{k}_miss_p99_ms"] = p50, p99
            res[f"{k}_overhead_p50_ms"], res[f"{k}_overhead_p99_ms"] = p50 - d50, p99 - d99
            res[f"{k}_hit_p50_ms"] = pct(hit[k])[0]
            # each request through the proxy minus the direct call sent just before it: median, 95% bootstrap
            res[f"{k}_overhead_paired_median_ms"] = paired_median(lat[k][1], lat[k][0])
        for k in ("costlab", "litellm"):
            wall, codes = asyncio.run(load(targets[k], a.load_n, 64, f"{k}-load-"))
            ok = sum(v for c, v in codes.items() if 200 <= c < 300)
            res[f"{k}_rps_64"] = ok / wall
            res[f"{k}_non2xx_64"] = a.load_n - ok
            res[f"{k}_rss_mb"] = rss_mb(procs[1] if k == "costlab" else procs[2])
        for p in procs[1:]:
            p.terminate()
            p.wait(15)
        procs = procs[:1]
        # ---- budget under concurrency: budget worth B requests at the fixture price, 64 at once
        per_req = (
            20 * 1.0 + 16 * 3.0
        ) / 1e6  # ~20 prompt tokens + 16 completion tokens, $/request (LiteLLM bills this)
        B = 10
        budget = B * per_req
        gw, gw_url = gateway(
            tmp, "budget", up_url, {"budget.global.daily_usd": budget, "exact_cache.enabled": "false"}, timeout=300
        )
        procs.append(gw)
        ll, ll_url = start_litellm(tmp, up_url, budget)
        procs.append(ll)
        for k, u in (("costlab", gw_url + "/v1/chat/completions"), ("litellm", ll_url + "/v1/chat/completions")):
            _, codes = asyncio.run(load(u, 64, 64, f"{k}-budget-"))
            ok = sum(v for c, v in codes.items() if 200 <= c < 300)
            res[f"{k}_budget_served"] = ok
            res[f"{k}_budget_overshoot_requests"] = ok - B
            res[f"{k}_budget_codes"] = {str(c): v for c, v in codes.items()}
        res["budget_requests_allowed"] = B
    except PeerMissing as e:
        print(e, file=sys.stderr)
        return 2
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
    cm, lm = res["costlab_overhead_paired_median_ms"], res["litellm_overhead_paired_median_ms"]
    rows = [
        (
            # judged like gateway_overhead.py's row: the paired median's 95% interval, its upper bound <= 2 ms
            f"gateway miss-path overhead, JSON: paired median (ms) [{cm[1]:.2f}, {cm[2]:.2f}] 95% CI, n={a.n} "
            f"(LiteLLM [{lm[1]:.2f}, {lm[2]:.2f}]); p50 difference +{res['costlab_overhead_p50_ms']:.2f} vs "
            f"+{res['litellm_overhead_p50_ms']:.2f} ms",
            cm[0],
            lm[0],
            "<= LiteLLM and <= 2 ms (95% upper bound)",
            cm[2] <= 2.0 and cm[0] <= lm[0],
        ),
        (
            "gateway miss-path overhead p99 (ms)",
            res["costlab_overhead_p99_ms"],
            res["litellm_overhead_p99_ms"],
            "<= LiteLLM",
            res["costlab_overhead_p99_ms"] <= res["litellm_overhead_p99_ms"],
        ),
        (
            "gateway cache-hit p50 (ms)",
            res["costlab_hit_p50_ms"],
            res["litellm_hit_p50_ms"],
            "<= LiteLLM",
            res["costlab_hit_p50_ms"] <= res["litellm_hit_p50_ms"],
        ),
        (
            "gateway req/s at 64 clients",
            res["costlab_rps_64"],
            res["litellm_rps_64"],
            ">= LiteLLM",
            res["costlab_rps_64"] >= res["litellm_rps_64"],
        ),
        (
            "budget overshoot, requests beyond budget (64 concurrent)",
            res["costlab_budget_overshoot_requests"],
            res["litellm_budget_overshoot_requests"],
            "costlab 0 (in-flight bound)",
            res["costlab_budget_overshoot_requests"] <= 0,
        ),
        ("proxy RSS after load (MB)", res["costlab_rss_mb"], res["litellm_rss_mb"], "(reported)", None),
    ]
    report("litellm_proxy", rows, res, a.json, peer="LiteLLM proxy " + _version())
    for k in ("costlab", "litellm"):
        m, lo, hi = res[f"{k}_overhead_paired_median_ms"]
        print(f"{k} miss-path overhead, paired median +{m:.2f} ms [{lo:.2f}, {hi:.2f}] (95% bootstrap, n={a.n})")
    print(
        f"direct JSON p50 {res['costlab_direct_p50_ms']:.2f} ms (paired with costlab), "
        f"{res['litellm_direct_p50_ms']:.2f} ms (paired with LiteLLM); load average (1/5/15 min) "
        f"{'/'.join(f'{x:.1f}' for x in res['load_avg_before'])} -> {'/'.join(f'{x:.1f}' for x in res['load_avg_after'])} "
        f"on {os.cpu_count()} cores during the miss-path part"
    )
    return 0


def _version() -> str:
    out = subprocess.run(
        [peer_python("litellm"), "-c", "import importlib.metadata as m; print(m.version('litellm'))"],
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


if __name__ == "__main__":
    raise SystemExit(main())
