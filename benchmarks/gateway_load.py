"""Bounded load test: ≥ 50 concurrent clients for ≥ 30 s against the gateway (loopback, fake upstream in its
own process), with a global budget sized to run out mid-test.

Reports: requests served, errors by status (the gateway's own 5xx must be zero), billed cost (ledger) vs budget,
overshoot vs the in-flight reservation bound (clients × the largest per-request reservation), and ledger rows vs
200 responses sent. Half the clients stream (SSE with include_usage), half take JSON; a quarter send an image
part (512x512 PNG data URL, 255 tokens by OpenAI's formula) and a quarter send tool schemas.

The budget comes from a calibration run (steady-state req/s after a warm-up, mean cost per request) with a
floor; the load phase lasts --seconds, longer if the budget has not run out yet (at most 120 s), and 10 s past the
first 429 so in-flight requests settle.

    .venv/bin/python benchmarks/gateway_load.py [--clients 64] [--seconds 35] [--run-out-at 15] [--json PATH]
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


def kind_of(i: int) -> str:
    return {1: "image", 3: "tools"}.get(i % 4, "text")


async def client_loop(i: int, url: str, clock: dict, stats: dict, stream: bool) -> None:
    kind = kind_of(i)
    async with httpx.AsyncClient(timeout=60, headers={"authorization": f"Bearer {ADMIN_KEY}"}) as c:
        n = 0
        while True:
            now = time.time()
            if now >= clock["hard_stop"]:
                break
            if now >= clock["stop_at"] and not (clock["until_429"] and stats["first_429_at"] is None):
                break  # past the planned end, and the budget has run out (or we are not waiting for it)
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
                stats["served_by_kind"][kind] += 1
                if usage:
                    cost = usage["costlab"]["cost_usd"]
                    stats["costs"].append(cost)
                    stats["cost_seen"] += cost
                    res = usage["costlab"]["reserved_usd"]
                    stats["max_reserved"] = max(stats["max_reserved"], res)
                    stats["max_reserved_by_kind"][kind] = max(stats["max_reserved_by_kind"][kind], res)
                else:
                    stats["no_usage"] += 1
            elif status == 429:
                if stats["first_429_at"] is None:
                    stats["first_429_at"] = time.time()
                    # keep going a while after the budget runs out: in-flight requests settle, late ones are refused
                    clock["stop_at"] = min(clock["hard_stop"], max(clock["stop_at"], time.time() + clock["tail"]))
                await asyncio.sleep(0.05)  # a polite client backs off; keeps the loop bounded
            if stats["ok_target"] and len(stats["ok_at"]) >= stats["ok_target"] and time.time() >= clock["min_until"]:
                clock["hard_stop"] = 0.0  # calibration: enough responses over a long enough window


async def run_clients(
    url: str,
    clients: int,
    seconds: float,
    *,
    max_seconds: float,
    tail: float = 0.0,
    ok_target: int = 0,
    min_seconds: float = 0.0,
    until_429: bool = False,
) -> dict:
    """`clients` concurrent loops for `seconds`, or until `ok_target` 200s after at least `min_seconds`
    (calibration), or (`until_429`) until the budget runs out; once the first 429 arrives the run goes on for `tail`
    more seconds; never past `max_seconds`."""
    stats = {
        "status": collections.Counter(),
        "lat": [],
        "ok_at": [],
        "costs": [],
        "cost_seen": 0.0,
        "max_reserved": 0.0,
        "max_reserved_by_kind": collections.defaultdict(float),
        "served_by_kind": collections.Counter(),
        "no_usage": 0,
        "first_429_at": None,
        "ok_target": ok_target,
    }
    start = time.time()
    clock = {
        "stop_at": start + seconds,
        "hard_stop": start + max_seconds,
        "tail": tail,
        "min_until": start + min_seconds,
        "until_429": until_429,
    }
    await asyncio.gather(
        *[client_loop(i, url + "/v1/chat/completions", clock, stats, stream=i % 2 == 0) for i in range(clients)]
    )
    stats["elapsed"] = time.time() - start
    stats["start"] = start
    return stats


def calibrate(url: str, clients: int, n_ok: int, max_s: float) -> tuple[float, float, float, int]:
    """Served req/s at `clients` concurrency in the steady state: run until `n_ok` responses and >= 10 s (at most
    `max_s`), drop the first `clients` responses (warm-up: connections, classifier, first-touch), rate over the rest.
    Returns (req/s, mean cost per request, largest reservation, responses measured)."""
    cal = asyncio.run(run_clients(url, clients, max_s, max_seconds=max_s, ok_target=n_ok, min_seconds=10.0))
    ok_at = sorted(cal["ok_at"])
    if len(ok_at) < clients + 10:
        raise SystemExit(
            f"calibration failed: only {len(ok_at)} responses in {cal['elapsed']:.0f} s at {clients} clients "
            f"(statuses {dict(cal['status'])}); the gateway is too slow or failing — see its log"
        )
    steady = ok_at[clients:]
    rps = (len(steady) - 1) / max(1e-9, steady[-1] - steady[0])
    return rps, float(np.mean(cal["costs"])), cal["max_reserved"], len(steady)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=35.0, help="load phase length (at least)")
    ap.add_argument("--run-out-at", type=float, default=15.0, help="target second at which the budget runs out")
    ap.add_argument(
        "--calibrate-n", type=int, default=0, help="responses measured in calibration (default: max(300, 5 x clients))"
    )
    ap.add_argument("--json", type=Path, default=None, help="write the table rows + raw numbers as JSON")
    args = ap.parse_args()
    n_cal = args.calibrate_n or max(300, 5 * args.clients)
    tmp = Path(tempfile.mkdtemp(prefix="costlab_load_"))
    from costlab.serving.auth import hash_key

    keys = tmp / "keys.yaml"
    keys.write_text(json.dumps({"keys": [{"sha256": hash_key(ADMIN_KEY), "tenant": "bench", "admin": True}]}))
    auth = {"keys_file": str(keys)}
    procs = []
    try:
        up, up_url = fake(16, 0.01, 0.002)
        procs.append(up)
        # calibration: steady-state throughput without a budget, same clients and mix (separate gateway + state)
        gw, gw_url = gateway(tmp, "calib", up_url, {"exact_cache": {"enabled": False}, "auth": auth})
        procs.append(gw)
        t0 = time.time()
        rps, cost_per, max_res, n_meas = calibrate(gw_url, args.clients, n_cal, max_s=120.0)
        gw.terminate()
        gw.wait(10)
        procs.remove(gw)
        # budget from the measured rate, with a floor: room for 8 of the largest reservations at once and 100
        # requests' cost, so a slow box still serves a meaningful number of requests before the budget runs out
        by_rate = cost_per * rps * args.run_out_at
        budget = max(by_rate, 8 * max_res, 100 * cost_per)
        print(
            f"calibration: {rps:.1f} req/s steady at {args.clients} clients (n={n_meas} responses after "
            f"{args.clients} warm-up, {time.time() - t0:.0f} s), mean ${cost_per:.3e} per request, largest "
            f"reservation ${max_res:.3e}"
        )
        print(
            f"global daily budget ${budget:.8f} (rate x {args.run_out_at:.0f} s = ${by_rate:.8f}; floor "
            f"max(8 x largest reservation, 100 x mean cost)) → runs out near t={budget / (cost_per * rps):.0f} s"
        )
        gw, gw_url = gateway(
            tmp,
            "load",
            up_url,
            {
                "exact_cache": {"enabled": False},
                "auth": auth,
                "budget": {"global": {"daily_usd": budget}, "on_exhausted": "reject"},
            },
        )
        procs.append(gw)
        st = asyncio.run(
            run_clients(
                gw_url,
                args.clients,
                args.seconds,
                max_seconds=max(120.0, 3 * args.seconds),
                tail=10.0,
                until_429=True,
            )
        )
        spend = httpx.get(gw_url + "/v1/spend", timeout=30, headers={"authorization": f"Bearer {ADMIN_KEY}"}).json()
        billed, rows = spend["total"]["cost_usd"], spend["total"]["requests"]
        ok, r429 = st["status"][200], st["status"][429]
        other = {str(k): v for k, v in st["status"].items() if k not in (200, 429)}
        lat = np.array(st["lat"] or [float("nan")]) * 1000
        bound = args.clients * st["max_reserved"]
        g5xx = sum(v for k, v in st["status"].items() if isinstance(k, int) and k >= 500)
        ran_out = st["first_429_at"] is not None
        overshoot = billed - budget
        within = ran_out and overshoot <= bound + 1e-15
        b = spend.get("budgets") or {}
        reserved_left = sum((b.get("reserved") or {}).values()) if b else None
        print(
            f"load: {args.clients} concurrent clients (half streaming; a quarter each with an image part / tool "
            f"schemas) for {st['elapsed']:.1f} s against {gw_url}"
        )
        print(
            f"  requests served (200): {ok} (by kind {dict(st['served_by_kind'])})   rejected for budget (429): "
            f"{r429}   other errors: {other or 0}   gateway 5xx: {g5xx}"
        )
        print(
            f"  served latency p50 {np.percentile(lat, 50):.1f} ms  p99 {np.percentile(lat, 99):.1f} ms; "
            f"{ok / st['elapsed']:.1f} served/s on average"
        )
        if ran_out:
            t_out = st["first_429_at"] - st["start"]
            before = sum(1 for t in st["ok_at"] if t <= st["first_429_at"])
            print(
                f"  budget ran out at t = {t_out:.1f} s ({before} served before that: {before / t_out:.1f} req/s; "
                f"{ok - before} in-flight ones finished after)"
            )
        else:
            print("  budget did NOT run out during the run: the overshoot check was not exercised")
        print(f"  budget ${budget:.8f}   billed (ledger) ${billed:.8f}   overshoot ${overshoot:+.3e}")
        kinds = ", ".join(f"{k} ${v:.3e}" for k, v in sorted(st["max_reserved_by_kind"].items()))
        print(
            f"  in-flight reservation bound: {args.clients} clients x largest reservation ${st['max_reserved']:.3e} "
            f"({kinds}) = ${bound:.3e} → overshoot {'<=' if within else '>'} bound"
        )
        print(
            f"  ledger rows {rows} vs 200 responses sent {ok}: {'equal' if rows == ok else 'DIFFERENT'}; "
            f"cost reported to clients ${st['cost_seen']:.8f} vs ledger ${billed:.8f}"
        )
        print(f"  budget counters: spent {json.dumps(b.get('spent'))} reserved now {json.dumps(b.get('reserved'))}")
        if args.json:
            R = lambda metric, ours, goal, met: {  # noqa: E731
                "benchmark": "gateway_load",
                "metric": metric,
                "costlab": ours,
                "peer": None,
                "peer_name": "-",
                "ratio": None,
                "goal": goal,
                "met": met,
            }
            n = f"{args.clients} clients, {ok} served, {r429} refused"
            table = [
                R(f"gateway 5xx under load ({n})", g5xx, "0", g5xx == 0),
                R(
                    "budget overshoot / in-flight bound (text, image and tool requests)",
                    overshoot / bound if bound else None,
                    "budget runs out, overshoot <= bound (<= 1)",
                    within,
                ),
                R("ledger rows minus 200 responses", rows - ok, "0", rows == ok),
                R(
                    "reservations left after the run ($)",
                    reserved_left,
                    "0",
                    reserved_left is not None and abs(reserved_left) < 1e-12,
                ),
                R(f"served req/s at {args.clients} clients", ok / st["elapsed"], "(reported)", None),
                R("served latency p50 under load (ms)", float(np.percentile(lat, 50)), "(reported)", None),
            ]
            raw = {
                "calibration": {"rps": rps, "cost_per": cost_per, "max_reserved": max_res, "n": n_meas},
                "budget": budget,
                "billed": billed,
                "bound": bound,
                "status": {str(k): v for k, v in st["status"].items()},
                "served_by_kind": dict(st["served_by_kind"]),
                "max_reserved_by_kind": dict(st["max_reserved_by_kind"]),
                "ledger_rows": rows,
                "cost_seen": st["cost_seen"],
            }
            args.json.write_text(json.dumps({"rows": table, "raw": raw}, indent=1))
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)


if __name__ == "__main__":
    main()
