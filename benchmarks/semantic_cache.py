"""Semantic-cache lookup at 10k and 100k entries: hnswlib (what SemanticCache uses) vs a linear numpy scan of
the same vectors, p50 per single-query lookup, with recall@1 of the ANN index against the exact scan.

Vectors: real all-MiniLM-L6-v2 embeddings of every prompt / paraphrase text in data/ (a few hundred), and
the rest of the N entries as noisy copies of those (cos ~0.6-0.9 to their seed) — clustered like real
traffic, where exact and near-duplicate questions repeat. Queries: held-back perturbations of stored entries
(the cache-hit case). Also run on uniform random unit vectors, the hardest case for HNSW.
Single-threaded everything (shared 2-core box).

    .venv/bin/python benchmarks/semantic_cache.py [--sizes 10000 100000] [--queries 500]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parents[1]


def seed_texts() -> list[str]:
    texts = []
    for p in list((ROOT / "data/prompts").glob("*.jsonl")) + [ROOT / "data/paraphrase/pairs.jsonl"]:
        if not p.exists():
            continue
        for line in p.read_text().splitlines():
            if not line.strip():
                continue
            r = json.loads(line)
            if "messages" in r:
                texts.append(r["messages"][-1]["content"])
            for k in ("a", "b"):
                if k in r:
                    texts.append(r[k])
    return sorted(set(texts))


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def make_db(seeds: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    idx = rng.integers(0, len(seeds), n)
    noise = rng.normal(size=(n, seeds.shape[1])).astype(np.float32)
    scale = rng.uniform(0.02, 0.06, size=(n, 1)).astype(np.float32)  # per-dim noise → cos to seed ~0.6-0.9
    return unit(seeds[idx] + scale * noise)


def bench(db: np.ndarray, queries: np.ndarray, M: int, ef_c: int, efs: list[int]) -> list[dict]:
    import hnswlib

    t = time.perf_counter()
    idx = hnswlib.Index(space="ip", dim=db.shape[1])
    idx.init_index(max_elements=len(db), ef_construction=ef_c, M=M)
    idx.add_items(db, np.arange(len(db)), num_threads=1)
    build = time.perf_counter() - t
    scan_t, truth = [], []
    for q in queries:
        t = time.perf_counter()
        truth.append(float(np.max(db @ q)))
        scan_t.append(time.perf_counter() - t)
    s50 = np.median(scan_t) * 1e3
    out = []
    for ef in efs:
        idx.set_ef(ef)
        ann_t, hits = [], 0
        for q, best in zip(queries, truth):
            t = time.perf_counter()
            lab, _ = idx.knn_query(q[None, :], k=1, num_threads=1)
            ann_t.append(time.perf_counter() - t)
            hits += float(db[int(lab[0, 0])] @ q) >= best - 1e-6  # found a true nearest neighbour (ties count)
        a50 = np.median(ann_t) * 1e3
        out.append(
            {
                "ef": ef,
                "build_s": build,
                "ann_p50_ms": a50,
                "scan_p50_ms": s50,
                "speedup": s50 / a50,
                "recall_at_1": hits / len(queries),
            }
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument("--M", type=int, default=None, help="default: SemanticCache's M")
    ap.add_argument("--ef-construction", type=int, default=None, help="default: SemanticCache's ef_construction")
    ap.add_argument(
        "--ef",
        type=int,
        nargs="+",
        default=None,
        help="query-time ef values (default: SemanticCache's own ef, and 4x it)",
    )
    ap.add_argument("--json", type=Path, default=None, help="write every row as JSON")
    ap.add_argument("--kinds", nargs="+", default=["clustered", "random"], choices=["clustered", "random"])
    args = ap.parse_args()
    import inspect

    from costlab.serving.semantic import SemanticCache

    dflt = inspect.signature(SemanticCache.__init__).parameters
    if args.ef is None:
        args.ef = [dflt["ef"].default, 4 * dflt["ef"].default]
    args.M = args.M or dflt["M"].default
    args.ef_construction = args.ef_construction or dflt["ef_construction"].default
    rows = []
    import threadpoolctl

    threadpoolctl.threadpool_limits(1)  # numpy BLAS single-threaded too: same footing as hnswlib num_threads=1
    from costlab.serving.embed import MiniLMEmbedder

    texts = seed_texts()
    t = time.perf_counter()
    seeds = MiniLMEmbedder(threads=1).encode(texts)
    print(f"{len(texts)} seed texts embedded with all-MiniLM-L6-v2 in {time.perf_counter() - t:.1f} s")
    rng = np.random.default_rng(0)
    print(f"hnswlib M={args.M} ef_construction={args.ef_construction}; {args.queries} single-vector queries; 1 thread")
    print(
        f"{'data':<10} {'entries':>8} {'ef':>4} | {'build s':>7} | {'hnsw p50 ms':>11} {'numpy p50 ms':>12} {'speed-up':>8} | {'recall@1':>8}"
    )
    for kind in args.kinds:
        for n in args.sizes:
            if kind == "clustered":
                db = make_db(seeds, n, rng)
                pick = rng.integers(0, n, args.queries)
                queries = unit(db[pick] + 0.02 * rng.normal(size=(args.queries, db.shape[1])).astype(np.float32))
            else:
                db = unit(rng.normal(size=(n, 384)).astype(np.float32))
                pick = rng.integers(0, n, args.queries)
                queries = unit(db[pick] + 0.05 * rng.normal(size=(args.queries, 384)).astype(np.float32))
            for r in bench(db, queries, args.M, args.ef_construction, args.ef):
                rows.append({"data": kind, "entries": n, "M": args.M, "ef_construction": args.ef_construction, **r})
                print(
                    f"{kind:<10} {n:>8} {r['ef']:>4} | {r['build_s']:>7.1f} | {r['ann_p50_ms']:>11.3f} {r['scan_p50_ms']:>12.3f} "
                    f"{r['speedup']:>7.1f}x | {r['recall_at_1']:>8.3f}",
                    flush=True,
                )

    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "rows": rows,
                    "queries": args.queries,
                    "shipped": {
                        "M": dflt["M"].default,
                        "ef": dflt["ef"].default,
                        "ef_construction": dflt["ef_construction"].default,
                    },
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
