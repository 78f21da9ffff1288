"""Bounded load test: ≥ 50 concurrent clients for ≥ 30 s against the gateway (loopback, fake upstream in its
own process), with a global budget sized to run out mid-test.

Reports: requests served, errors by status (the gateway's own 5xx must be zero), billed cost (ledger) vs budget,
overshoot vs the in-flight reservation bound (clients × the largest per-request reservation), and ledger rows vs
200 responses sent. Half the clients stream (SSE with include_usage), half take JSON; a quarter send an image
part (512x512 PNG data URL, 255 tokens by OpenAI's formula) and a quarter send tool schemas.

    .venv/bin/python benchmarks/gateway_load.py [--clients 64] [--seconds 35] [--run-out-at 15]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gateway_overhead import fake, gateway  # noqa: E402

ADMIN_KEY = "sk-bench-admin"
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": f"tool_{k}",
            "description": "look something up " * 20,
            "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
        },
    }
    for k in range(4)
]


def png_512() -> str:
    import base64
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", 512, 512, 8, 2, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return "data:image/png;base64," + base64.b64encode(png + bytes(3000)).decode()


IMG = png_512()


def body_for(i: int, n: int) -> dict:
    text = f"Question {i:03d}-{n:06d}: what is the answer?"
    body: dict = {"model": "auto", "temperature": 0, "max_tokens": 16, "messages": [{"role": "user", "content": text}]}
    if i % 4 == 1:
        body["messages"][0]["content"] = [
            {"type": "text", "text": text},
            {"type": "image_url", "image_url": {"url": IMG}},
        ]
    elif i % 4 == 3:
        body["tools"] = TOOLS
    return body


async def client_loop(i: int, url: str, stop_at: float, stats: dict, stream: bool) -> None:
    async with httpx.AsyncClient(timeout=30, headers={"authorization": f"Bearer {ADMIN_KEY}"}) as c:
        n = 0
        while time.time() < stop_at:
            n += 1
            body = body_for(i, n)
            t = time.perf_counter()
            try:
                if stream:
                    async with c.stream(
                        "POST", url, json={**body, "stream": True, "stream_options": {"include_usage": True}}
                    ) as r:
                        status = r.status_code
                        usage = None
                        if status == 200:
                            async for line in r.aiter_lines():
                                if line.startswith("data: {") and '"usage"' in line:
                                    u = json.loads(line[6:]).get("usage")
                                    usage = u or usage
                        else:
                            await r.aread()
                else:
                    r = await c.post(url, json=body)
                    status = r.status_code
                    usage = r.json().get("usage") if status == 200 else None
            except httpx.HTTPError as e:
                stats["status"][type(e).__name__] += 1
                continue
            stats["status"][status] += 1
            if status == 200:
                stats["lat"].append(time.perf_counter() - t)
                stats["ok_at"].append(time.time())
                if usage:
                    stats["cost_seen"] += usage["costlab"]["cost_usd"]
                    stats["max_reserved"] = max(stats["max_reserved"], usage["costlab"]["reserved_usd"])
                else:
                    stats["no_usage"] += 1
            elif status == 429:
                if stats["first_429_at"] is None:
                    stats["first_429_at"] = time.time()
                await asyncio.sleep(0.05)  # a polite client backs off; keeps the loop bounded


async def run_clients(url: str, clients: int, seconds: float) -> dict:
    stats = {
        "status": collections.Counter(),
        "lat": [],
        "ok_at": [],
        "cost_seen": 0.0,
        "max_reserved": 0.0,
        "no_usage": 0,
        "first_429_at": None,
    }
    start = time.time()
    await asyncio.gather(
        *[
            client_loop(i, url + "/v1/chat/completions", start + seconds, stats, stream=i % 2 == 0)
            for i in range(clients)
        ]
    )
    stats["elapsed"] = time.time() - start
    stats["start"] = start
    return stats


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=35.0)
    ap.add_argument("--run-out-at", type=float, default=15.0, help="target second at which the budget runs out")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="costlab_load_"))
    from costlab.serving.auth import hash_key

    keys = tmp / "keys.yaml"
    keys.write_text(json.dumps({"keys": [{"sha256": hash_key(ADMIN_KEY), "tenant": "bench", "admin": True}]}))
    auth = {"keys_file": str(keys)}
    procs = []
    try:
        up, up_url = fake(16, 0.01, 0.002)
        procs.append(up)
        # calibration: throughput without a budget, 4 s, same clients (separate gateway + state)
        gw, gw_url = gateway(tmp, "calib", up_url, {"exact_cache": {"enabled": False}, "auth": auth})
        procs.append(gw)
        cal = asyncio.run(run_clients(gw_url, args.clients, 4.0))
        rps = cal["status"][200] / cal["elapsed"]
        cost_per = cal["cost_seen"] / max(1, cal["status"][200] - cal["no_usage"])
        budget = cost_per * rps * args.run_out_at
        gw.terminate()
        gw.wait(10)
        procs.remove(gw)
        print(
            f"calibration: {rps:.0f} req/s, ${cost_per:.3e} per request → global daily budget ${budget:.6f} "
            f"(runs out near t={args.run_out_at:.0f} s)"
        )
        gw, gw_url = gateway(
            tmp,
            "load",
            up_url,
            {"exact_cache": {"enabled": False}, "budget": {"global": {"daily_usd": budget}, "on_exhausted": "reject"}},
        )
        procs.append(gw)
        st = asyncio.run(run_clients(gw_url, args.clients, args.seconds))
        spend = httpx.get(gw_url + "/v1/spend", timeout=30, headers={"authorization": f"Bearer {ADMIN_KEY}"}).json()
        billed, rows = spend["total"]["cost_usd"], spend["total"]["requests"]
        ok, r429 = st["status"][200], st["status"][429]
        other = {k: v for k, v in st["status"].items() if k not in (200, 429)}
        lat = np.array(st["lat"]) * 1000
        bound = args.clients * st["max_reserved"]
        print(f"load: {args.clients} concurrent clients (half streaming) for {st['elapsed']:.1f} s against {gw_url}")
        g5xx = sum(v for k, v in st["status"].items() if isinstance(k, int) and k >= 500)
        print(
            f"  requests served (200): {ok}   rejected for budget (429): {r429}   other errors: {other or 0}   "
            f"gateway 5xx: {g5xx}"
        )
        print(
            f"  served latency p50 {np.percentile(lat, 50):.1f} ms  p99 {np.percentile(lat, 99):.1f} ms; "
            f"{ok / st['elapsed']:.0f} served/s on average"
        )
        if st["first_429_at"]:
            t_out = st["first_429_at"] - st["start"]
            before = sum(1 for t in st["ok_at"] if t <= st["first_429_at"])
            print(
                f"  budget ran out at t = {t_out:.1f} s ({before} served before that: {before / t_out:.0f} req/s; "
                f"{ok - before} in-flight ones finished after)"
            )
        print(f"  budget ${budget:.8f}   billed (ledger) ${billed:.8f}   overshoot ${billed - budget:+.3e}")
        print(
            f"  in-flight reservation bound: {args.clients} clients x ${st['max_reserved']:.3e} = ${bound:.3e} → "
            f"overshoot {'<=' if billed - budget <= bound + 1e-15 else '>'} bound"
        )
        print(
            f"  ledger rows {rows} vs 200 responses sent {ok}: {'equal' if rows == ok else 'DIFFERENT'}; "
            f"cost reported to clients ${st['cost_seen']:.8f} vs ledger ${billed:.8f}"
        )
        b = spend.get("budgets") or {}
        print(f"  budget counters: {json.dumps(b.get('spent'))} reserved now {json.dumps(b.get('reserved'))}")
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)


if __name__ == "__main__":
    main()
