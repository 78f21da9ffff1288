"""Benchmark: `costlab analyze` (DuckDB) on a generated 1M-row JSONL request log — wall time, rows/s, peak RSS.

Baseline, measured in the same run on the same file: a plain `json.loads` loop (the least any JSONL analyzer
must do). Goal: >= 5x the baseline's rows/s. Memory flatness: the same analysis on 10x the rows (10M, generated
here, deleted after); peak RSS should stay flat (DuckDB spills past its memory_limit instead of growing).

    .venv/bin/python benchmarks/analyze_logs.py [--rows 1000000] [--big-rows 10000000] [--keep] [--json out.json]

The log lands in .cache/bench/ (regenerated only if missing or the row count changed).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
MODELS = ["gpt-4o"] * 3 + ["gpt-4o-mini"] * 6 + ["claude-haiku-3.5"] * 2 + ["claude-sonnet-4", "gpt-3.5-turbo"]


def generate(path: Path, rows: int, seed: int = 0) -> None:
    rnd = random.Random(seed)
    prompts = [f"Template {i}: summarize ticket #{{}} for customer {i % 97}" for i in range(2000)]
    t0 = 1748736000  # 2025-06-01T00:00Z; rows spread over 30 days
    step = 30 * 86400 / rows
    tmp = path.with_suffix(".tmp")
    with tmp.open("w") as f:
        for i in range(rows):
            r = rnd.random()
            if r < 0.0005:  # a few bad rows, as in real logs
                f.write('{"model": "gpt-4o", "prompt_tokens": -1, "completion_tokens": 3}\n')
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


def run_measured(cmd: list[str]) -> tuple[float, float, int]:
    """(wall s, peak RSS MB, returncode) of a child process, via wait4's rusage (this child only)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.stderr.write(p.stderr.read().decode()[-2000:])
    return wall, ru.ru_maxrss / 1024.0, p.returncode


BASELINE = (
    "import json,sys\nn=0\nwith open(sys.argv[1]) as f:\n    for line in f:\n"
    "        if line.strip():\n            json.loads(line); n+=1\nprint(n)"
)
ANALYZE = [PY, "-m", "costlab", "analyze", "--json", "--whatif", "gpt-4o-mini"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--big-rows", type=int, default=10_000_000, help="rows of the memory-flatness run (0: skip)")
    ap.add_argument("--keep", action="store_true", help="keep the generated logs")
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args()
    d = ROOT / ".cache" / "bench"
    d.mkdir(parents=True, exist_ok=True)
    big = d / f"requests_{a.rows}.jsonl"
    files = [(big, a.rows)] + ([(d / f"requests_{a.big_rows}.jsonl", a.big_rows)] if a.big_rows else [])
    for p, n in files:
        if not p.exists():
            t = time.perf_counter()
            if n > a.rows and n % a.rows == 0:  # the big file: copies of the small one (same row mix, fast)
                with p.open("wb") as out:
                    for _ in range(n // a.rows):
                        with big.open("rb") as f:
                            shutil.copyfileobj(f, out, 16 << 20)
            else:
                generate(p, n)
            print(
                f"generated {n:,} rows → {p} ({p.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t:.1f}s",
                flush=True,
            )
    base_wall, base_rss, rc0 = run_measured([PY, "-c", BASELINE, str(big)])
    wall, rss, rc1 = run_measured(ANALYZE + [str(big)])
    rep = json.loads(subprocess.run(ANALYZE + [str(big)], capture_output=True, text=True, cwd=ROOT).stdout)
    res = {
        "rows": a.rows,
        "baseline_s": base_wall,
        "baseline_rss_mb": base_rss,
        "analyze_s": wall,
        "analyze_rss_mb": rss,
        "speedup": base_wall / wall,
        "rows_ok": rep["rows_ok"],
        "rows_bad": rep["rows_bad"],
        "bad_reasons": list(rep["bad_rows"]),
    }
    if rc0 or rc1:
        print("a run failed", rc0, rc1)
        return 1
    print(
        f"\nbaseline json.loads loop, {a.rows:,} rows: {base_wall:.1f}s ({a.rows / base_wall:,.0f} rows/s), "
        f"peak RSS {base_rss:.0f} MB"
    )
    print(
        f"costlab analyze (DuckDB), {a.rows:,} rows: {wall:.1f}s ({a.rows / wall:,.0f} rows/s), peak RSS {rss:.0f} MB"
    )
    print(f"speed-up vs the json.loads loop: {base_wall / wall:.2f}x (goal >= 5x)")
    print(f"(report: {rep['rows_ok']:,} ok, {rep['rows_bad']:,} bad rows: {list(rep['bad_rows'])})")
    if a.big_rows:
        bwall, brss, rc2 = run_measured(ANALYZE + [str(files[1][0])])
        res.update({"big_rows": a.big_rows, "big_analyze_s": bwall, "big_rss_mb": brss, "rss_ratio": brss / rss})
        print(
            f"costlab analyze, {a.big_rows:,} rows: {bwall:.1f}s, peak RSS {brss:.0f} MB "
            f"({brss / rss:.2f}x the RSS at {a.rows:,} rows; flat = ~1x)"
        )
    if a.json:
        a.json.write_text(json.dumps(res, indent=1))
    if not a.keep:
        for p, _ in files:
            p.unlink()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
