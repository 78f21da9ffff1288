"""Benchmark: `costlab analyze` (DuckDB) on a generated 1M-row JSONL request log — wall time, rows/s, peak RSS.

Baselines, measured in the same run on the same file, alternating with costlab (``--repeats`` rounds; medians
and min-max printed):
- the goal's baseline: a plain single-process ``json.loads`` loop computing the same aggregates (cost from the
  same price table, by model / tenant / hour, cache hits, top-10 requests, repeated prompts, bad-row counts) — what
  a user would write instead; checked against costlab's report (cost per model must agree) before timing counts;
- the floor: a ``json.loads`` loop that only parses (what any JSONL analyzer must at least do), ratio printed too.
costlab runs twice per round: with DuckDB's default threads (one per CPU the process may use) and pinned to one
CPU (one thread, like the loop); both ratios are printed, with the load average around each round.
Goal: >= 5x the aggregating loop's rows/s. Memory flatness: the same analysis on 10x the rows (10M by default,
written next to the 1M file, deleted after); peak RSS should stay flat (DuckDB spills past its memory_limit).

    .venv/bin/python benchmarks/analyze_logs.py [--rows 1000000] [--big-rows 10000000] [--repeats 3]
        [--dir /tmp/costlab-analyze-bench] [--keep] [--json out.json]

Run it under `nice` on a shared box; the load average at start and end is printed (wall times on a loaded box
are noisy; the ratio is of runs interleaved on the same file).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
MODELS = ["gpt-4o"] * 3 + ["gpt-4o-mini"] * 6 + ["claude-haiku-3.5"] * 2 + ["claude-sonnet-4", "gpt-3.5-turbo"]


BAD_ROW = '{"model": "gpt-4o", "prompt_tokens": -1, "completion_tokens": 3}\n'


def bad_line_numbers(path: Path) -> list[int]:
    """Line numbers of the generator's bad rows in an existing log (a kept one)."""
    with path.open() as f:
        return [i for i, line in enumerate(f, 1) if line == BAD_ROW]


def generate(path: Path, rows: int, seed: int = 0) -> list[int]:
    """Write the log; return the line numbers of its bad rows (0.05%, negative input tokens)."""
    rnd = random.Random(seed)
    prompts = [f"Template {i}: summarize ticket #{{}} for customer {i % 97}" for i in range(2000)]
    t0 = 1748736000  # 2025-06-01T00:00Z; rows spread over 30 days
    step = 30 * 86400 / rows
    tmp = path.with_suffix(".tmp")
    bad: list[int] = []
    with tmp.open("w") as f:
        for i in range(rows):
            r = rnd.random()
            if r < 0.0005:  # a few bad rows, as in real logs
                f.write(BAD_ROW)
                bad.append(i + 1)
                continue
            pin = rnd.randint(50, 4000)
            row = {
                "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0 + int(i * step))),
                "model": rnd.choice(MODELS),
                "tenant": f"tenant-{rnd.randint(0, 49)}",
                "prompt_tokens": pin,
                "completion_tokens": rnd.randint(10, 800),
                "cached": r < 0.10,
                "cached_tokens": pin // 2 if r > 0.8 else 0,
                "latency_ms": round(rnd.uniform(80, 4000), 1),
                "prompt": rnd.choice(prompts).format(rnd.randint(0, 20) if r < 0.5 else i),
            }
            f.write(json.dumps(row) + "\n")
    tmp.replace(path)
    return bad


def check_top_lines(path: Path, top: list[dict]) -> None:
    """Each top request's ``file:line`` names a line holding that request (model, tenant, tokens)."""
    want = {int(t["line"].rsplit(":", 1)[1]): t for t in top}
    with path.open() as f:
        for i, line in enumerate(f, 1):
            if i in want:
                r, t = json.loads(line), want[i]
                got = (r["model"], r["tenant"], r["prompt_tokens"], r["completion_tokens"])
                assert got == (t["model"], t["tenant"], t["input_tokens"], t["output_tokens"]), (i, got, t)
            if i >= max(want, default=0):
                break


def run_child(cmd: list[str], cpus: set[int] | None = None) -> tuple[float, float, int, str, float]:
    """(wall s, peak RSS MB, returncode, stdout, CPU s = user + sys) of this child, via os.wait4's rusage.
    ``cpus``: pin the child to these CPUs (costlab's DuckDB then runs that many threads: it sizes its pool to the
    process's CPU affinity)."""
    pin = None if cpus is None else (lambda: os.sched_setaffinity(0, cpus))
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=ROOT, preexec_fn=pin)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if p.returncode != 0:
            sys.stderr.write(err.read().decode()[-2000:])
        return wall, ru.ru_maxrss / 1024.0, p.returncode, out.read().decode(), ru.ru_utime + ru.ru_stime


PARSE_ONLY = (
    "import json,sys\nn=0\nwith open(sys.argv[1]) as f:\n    for line in f:\n"
    "        if line.strip():\n            json.loads(line); n+=1\nprint(n)"
)
# what a user writes instead of costlab analyze: one json.loads per line, the same price table, the same aggregates
AGGREGATE_LOOP = r"""
import heapq, json, sys
from collections import Counter, defaultdict
from datetime import datetime, timezone
prices = json.loads(sys.argv[2])  # model -> [input, output, cached_input] USD per 1M tokens
by = {d: defaultdict(lambda: [0, 0, 0, 0, 0.0, 0.0]) for d in ("model", "tenant", "hour")}
bad, prompts, top, n = Counter(), Counter(), [], 0
with open(sys.argv[1], encoding="utf-8", errors="replace") as f:
    for i, line in enumerate(f, 1):
        if not line.strip():
            continue
        n += 1
        try:
            r = json.loads(line)
        except ValueError:
            bad["unreadable line"] += 1
            continue
        if not isinstance(r, dict):
            bad["unreadable line"] += 1
            continue
        m = r.get("model")
        tin = r.get("prompt_tokens", r.get("input_tokens"))
        tout = r.get("completion_tokens", r.get("output_tokens"))
        if not m:
            bad["missing model"] += 1
            continue
        if not isinstance(tin, int) or not isinstance(tout, int) or tin < 0 or tout < 0:
            bad["bad tokens"] += 1
            continue
        ctok = r.get("cached_tokens") or 0
        ts = r.get("ts")
        if isinstance(ts, str) and ts.endswith("Z"):
            hour = ts[:13]
        elif isinstance(ts, (int, float)):
            hour = datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H")
        else:
            hour = "(no ts)"
        hit = bool(r.get("cached"))
        cost = r.get("cost_usd")
        if cost is None:
            p = prices.get(m)
            if p is None:
                bad["unknown model without cost_usd"] += 1
                continue
            ci = p[2] if p[2] is not None else p[0]
            cost = 0.0 if hit else ((tin - ctok) * p[0] + ctok * ci + tout * p[1]) / 1e6
        lat = r.get("latency_ms") or 0.0
        for d, k in (("model", m), ("tenant", r.get("tenant", "(none)")), ("hour", hour)):
            b = by[d][k]
            b[0] += 1; b[1] += tin; b[2] += tout; b[3] += hit; b[4] += cost; b[5] += lat
        pr = r.get("prompt")
        if pr:
            prompts[pr] += 1
        if len(top) < 10:
            heapq.heappush(top, (cost, i))
        elif cost > top[0][0]:
            heapq.heapreplace(top, (cost, i))
print(json.dumps({"rows": n, "bad": bad, "cost_by_model": {k: v[4] for k, v in by["model"].items()},
                  "repeated_prompts": sum(1 for c in prompts.values() if c > 1), "top": max(top)}))
"""
ANALYZE = [PY, "-m", "costlab", "analyze", "--json", "--whatif", "gpt-4o-mini"]


def _prices() -> str:
    from costlab.cost.pricing import load_pricing

    p = load_pricing()
    out = {}
    for m in dict.fromkeys(MODELS):
        a = p.api_price(m)
        out[m] = [a.input, a.output, a.cached_input]
    return json.dumps(out)


def _med(xs: list[float]) -> float:
    return statistics.median(xs)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--big-rows", type=int, default=10_000_000, help="rows of the memory-flatness run (0: skip)")
    ap.add_argument(
        "--repeats", type=int, default=3, help="interleaved rounds of (parse loop, aggregate loop, analyze)"
    )
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "costlab-analyze-bench")
    ap.add_argument("--keep", action="store_true", help="keep the generated logs")
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args()
    d = a.dir
    d.mkdir(parents=True, exist_ok=True)
    big = d / f"requests_{a.rows}.jsonl"
    files = [(big, a.rows)] + ([(d / f"requests_{a.big_rows}.jsonl", a.big_rows)] if a.big_rows else [])
    print(f"load average at start: {os.getloadavg()}; CPUs for this process: {len(os.sched_getaffinity(0))}")
    if big.exists():
        bad_lines = bad_line_numbers(big)
    else:
        t = time.perf_counter()
        bad_lines = generate(big, a.rows)
        print(
            f"generated {a.rows:,} rows → {big} ({big.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t:.0f}s"
        )
    prices = _prices()
    base, floor, wall, rss, cpu = [], [], [], [], {"parse": [], "loop": [], "analyze": [], "analyze_1cpu": []}
    wall1, loads = [], []
    one_cpu = {min(os.sched_getaffinity(0))}
    rep, rep1, agg = None, None, None
    try:
        for r in range(a.repeats):
            load0 = os.getloadavg()[0]
            w0, _, rc0, _, c0 = run_child([PY, "-c", PARSE_ONLY, str(big)])
            w1, _, rc1, out1, c1 = run_child([PY, "-c", AGGREGATE_LOOP, str(big), prices])
            w2, m2, rc2, out2, c2 = run_child(ANALYZE + [str(big)])
            w3, _, rc3, out3, c3 = run_child(ANALYZE + [str(big)], cpus=one_cpu)  # like for like: one thread
            loads.append((load0, os.getloadavg()[0]))
            cpu["parse"].append(c0)
            cpu["loop"].append(c1)
            cpu["analyze"].append(c2)
            cpu["analyze_1cpu"].append(c3)
            if rc0 or rc1 or rc2 or rc3:
                print("a run failed", rc0, rc1, rc2, rc3)
                return 1
            floor.append(w0)
            base.append(w1)
            wall.append(w2)
            wall1.append(w3)
            rss.append(m2)
            rep, rep1, agg = json.loads(out2), json.loads(out3), json.loads(out1)
            print(
                f"round {r + 1} (load average {load0:.1f} -> {loads[-1][1]:.1f}): parse-only loop {w0:.1f}s "
                f"(CPU {c0:.1f}s), aggregate loop {w1:.1f}s (CPU {c1:.1f}s), costlab analyze "
                f"{rep['engine']['duckdb_threads']} threads {w2:.1f}s (CPU {c2:.1f}s, {m2:.0f} MB), "
                f"1 thread {w3:.1f}s (CPU {c3:.1f}s)",
                flush=True,
            )
        # the two compute the same thing: cost per model agrees, the bad rows are the generator's, by line
        for m, usd in agg["cost_by_model"].items():
            assert abs(rep["by_model"][m]["cost_usd"] - usd) <= 1e-6 * max(1.0, usd), (m, usd)
        ex = rep["bad_rows"]["negative input tokens"]
        assert ex["count"] == len(bad_lines) == agg["bad"]["bad tokens"], (ex["count"], len(bad_lines))
        want = [f"{big.name}:{n} (-1)" for n in bad_lines[: len(ex["examples"])]]
        assert ex["examples"] == want, (ex["examples"][:3], want[:3])
        check_top_lines(big, rep["top_requests"])  # past DuckDB's first buffer too: record order = file order
        assert rep1["top_requests"] == rep["top_requests"] and rep1["bad_rows"] == rep["bad_rows"]
        res = {
            "rows": a.rows,
            "repeats": a.repeats,
            "baseline": "json.loads loop computing the same aggregates",
            "baseline_s": _med(base),
            "baseline_s_range": [min(base), max(base)],
            "parse_only_s": _med(floor),
            "parse_only_s_range": [min(floor), max(floor)],
            "analyze_s": _med(wall),
            "analyze_s_range": [min(wall), max(wall)],
            "analyze_rss_mb": max(rss),
            "speedup": _med(base) / _med(wall),
            "speedup_range": [min(b / w for b, w in zip(base, wall)), max(b / w for b, w in zip(base, wall))],
            "speedup_vs_parse_only": _med(floor) / _med(wall),
            "loop_threads": 1,
            "analyze_1cpu_s": _med(wall1),
            "analyze_1cpu_s_range": [min(wall1), max(wall1)],
            "speedup_1cpu": _med(base) / _med(wall1),
            "speedup_1cpu_range": [min(b / w for b, w in zip(base, wall1)), max(b / w for b, w in zip(base, wall1))],
            "load_average_per_round": loads,
            "cpu_s_median": {k: _med(v) for k, v in cpu.items()},
            "duckdb_threads": rep["engine"]["duckdb_threads"],
            "rows_ok": rep["rows_ok"],
            "rows_bad": rep["rows_bad"],
            "bad_reasons": list(rep["bad_rows"]),
        }
        n = a.rows
        print(f"\n{n:,} rows, {a.repeats} interleaved rounds, medians [min-max]:")
        print(
            f"  json.loads loop, same aggregates: {_med(base):.1f}s [{min(base):.1f}-{max(base):.1f}] "
            f"({n / _med(base):,.0f} rows/s)"
        )
        print(f"  json.loads loop, parse only:      {_med(floor):.1f}s [{min(floor):.1f}-{max(floor):.1f}]")
        print(
            f"  costlab analyze (DuckDB, {res['duckdb_threads']} threads): {_med(wall):.2f}s "
            f"[{min(wall):.2f}-{max(wall):.2f}] ({n / _med(wall):,.0f} rows/s), peak RSS {max(rss):.0f} MB"
        )
        print(
            f"  costlab analyze (DuckDB, 1 thread, pinned to 1 CPU): {_med(wall1):.2f}s "
            f"[{min(wall1):.2f}-{max(wall1):.2f}] ({n / _med(wall1):,.0f} rows/s)"
        )
        print(
            f"speed-up vs the aggregating json.loads loop (1 thread): {res['speedup']:.2f}x with "
            f"{res['duckdb_threads']} DuckDB threads (per round {res['speedup_range'][0]:.2f}-"
            f"{res['speedup_range'][1]:.2f}; goal >= 5x: {'met' if res['speedup'] >= 5 else 'NOT met'}); "
            f"{res['speedup_1cpu']:.2f}x with 1 thread each (per round {res['speedup_1cpu_range'][0]:.2f}-"
            f"{res['speedup_1cpu_range'][1]:.2f})"
        )
        print(f"speed-up vs the parse-only loop: {res['speedup_vs_parse_only']:.2f}x")
        cm = res["cpu_s_median"]
        print(
            f"CPU seconds (user+sys, medians; less sensitive to a loaded box than wall time): aggregate loop "
            f"{cm['loop']:.1f}, parse-only loop {cm['parse']:.1f}, costlab analyze {cm['analyze']:.1f} "
            f"({cm['loop'] / cm['analyze']:.2f}x less CPU than the aggregate loop), pinned to 1 CPU "
            f"{cm['analyze_1cpu']:.1f}"
        )
        print(
            f"(report: {rep['rows_ok']:,} ok, {rep['rows_bad']:,} bad rows: {list(rep['bad_rows'])}; cost per "
            f"model equal to the loop's; bad-row examples at the generator's line numbers)"
        )
        if a.big_rows:
            p2 = files[1][0]
            if not p2.exists():
                t = time.perf_counter()
                with p2.open("wb") as out:  # copies of the 1M file: the same row mix, written fast
                    for _ in range(max(1, a.big_rows // a.rows)):
                        with big.open("rb") as f:
                            shutil.copyfileobj(f, out, 16 << 20)
                print(
                    f"wrote {a.big_rows:,} rows → {p2} ({p2.stat().st_size / 1e9:.1f} GB) "
                    f"in {time.perf_counter() - t:.1f}s",
                    flush=True,
                )
            bwall, brss, rc, out, _ = run_child(ANALYZE + [str(p2)])
            if rc:
                return 1
            brep = json.loads(out)
            assert brep["rows"] == a.rows * max(1, a.big_rows // a.rows), brep["rows"]
            res.update(
                {"big_rows": a.big_rows, "big_analyze_s": bwall, "big_rss_mb": brss, "rss_ratio": brss / max(rss)}
            )
            print(
                f"costlab analyze, {a.big_rows:,} rows: {bwall:.1f}s, peak RSS {brss:.0f} MB "
                f"({brss / max(rss):.2f}x the RSS at {a.rows:,} rows; flat = ~1x)"
            )
        print(f"load average at end: {os.getloadavg()}")
        if a.json:
            a.json.write_text(json.dumps(res, indent=1))
    finally:
        if not a.keep:
            for p, _ in files:
                p.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
