"""Semantic-cache lookup at 10k and 100k entries: hnswlib (what SemanticCache uses) vs a linear numpy scan of
the same vectors, p50 per single-query lookup, with recall@1 of the ANN index against the exact scan.

Vectors: real all-MiniLM-L6-v2 embeddings of every prompt / paraphrase text in data/ (a few hundred), and
the rest of the N entries as noisy copies of those (cos ~0.6-0.9 to their seed) — clustered like real
traffic, where exact and near-duplicate questions repeat. Queries: held-back perturbations of stored entries
(the cache-hit case). Also run on uniform random unit vectors, the hardest case for HNSW.
Every lookup (hnswlib and the numpy scan) runs on 1 thread; only the index build uses --build-threads (2).
Seed vectors are cached in .cache/bench/ (keyed on the texts and the model weights).

    .venv/bin/python benchmarks/semantic_cache.py [--sizes 10000 100000] [--queries 500]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from costlab.paths import set_offline_env  # noqa: E402

set_offline_env()
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


def embed_cached(texts: list[str], threads: int = 1) -> tuple[np.ndarray, str]:
    """all-MiniLM-L6-v2 embeddings of `texts`, cached under .cache/bench/ keyed on the texts and the model's weights
    (sha256): re-embedding ~800 texts costs minutes on a loaded 2-core box and measures nothing. Returns (vectors,
    a line saying where they came from)."""
    import hashlib

    from costlab.provenance import file_sha256
    from costlab.serving.embed import MiniLMEmbedder, minilm_path

    h = hashlib.sha256(json.dumps(texts).encode())
    for w in sorted(minilm_path().glob("*.safetensors")) or sorted(minilm_path().glob("*.bin")):
        h.update(file_sha256(w).encode())
    cache = ROOT / ".cache" / "bench" / f"vectors_{MiniLMEmbedder.name}_{h.hexdigest()[:16]}.npy"
    if cache.exists():
        return np.load(cache), f"{len(texts)} texts: {MiniLMEmbedder.name} vectors from {cache.relative_to(ROOT)}"
    t = time.perf_counter()
    vecs = MiniLMEmbedder(threads=threads).encode(texts)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.save(cache, vecs)
    return (
        vecs,
        f"{len(texts)} texts embedded with {MiniLMEmbedder.name} in {time.perf_counter() - t:.1f} s (now cached)",
    )


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def make_db(seeds: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    idx = rng.integers(0, len(seeds), n)
    noise = rng.normal(size=(n, seeds.shape[1])).astype(np.float32)
    scale = rng.uniform(0.02, 0.06, size=(n, 1)).astype(np.float32)  # per-dim noise → cos to seed ~0.6-0.9
    return unit(seeds[idx] + scale * noise)


def bench(
    db: np.ndarray,
    queries: np.ndarray,
    M: int,
    ef_c: int,
    efs: list[int],
    build_threads: int = 2,
    scan_timed: int = 200,
    seed: int = 0,
) -> list[dict]:
    """Build the index, time `scan_timed` single-query numpy scans and every single-query HNSW lookup (1 thread),
    recall@1 over all queries against the exact nearest neighbour (one batched matmul: the truth needs no timing).
    Intervals: Clopper-Pearson 95% for recall; percentile bootstrap (1000) of the ratio of the two medians."""
    import hnswlib

    from costlab.stats import proportion_ci

    t = time.perf_counter()
    idx = hnswlib.Index(space="ip", dim=db.shape[1])
    idx.init_index(max_elements=len(db), ef_construction=ef_c, M=M)
    idx.add_items(db, np.arange(len(db)), num_threads=build_threads)  # build only; queries below: 1 thread
    build = time.perf_counter() - t
    truth = np.concatenate([np.max(queries[i : i + 256] @ db.T, axis=1) for i in range(0, len(queries), 256)])
    scan_t = []
    for q in queries[:scan_timed]:
        t = time.perf_counter()
        float(np.max(db @ q))
        scan_t.append(time.perf_counter() - t)
    scan_t = np.array(scan_t)
    rng = np.random.default_rng(seed)
    out = []
    for ef in efs:
        idx.set_ef(ef)
        ann_t, hits = [], 0
        for q, best in zip(queries, truth):
            t = time.perf_counter()
            lab, _ = idx.knn_query(q[None, :], k=1, num_threads=1)
            ann_t.append(time.perf_counter() - t)
            hits += float(db[int(lab[0, 0])] @ q) >= best - 1e-6  # found a true nearest neighbour (ties count)
        ann_t = np.array(ann_t)
        a50, s50 = np.median(ann_t) * 1e3, np.median(scan_t) * 1e3
        boot = np.median(scan_t[rng.integers(0, len(scan_t), (1000, len(scan_t)))], axis=1) / np.median(
            ann_t[rng.integers(0, len(ann_t), (1000, len(ann_t)))], axis=1
        )
        lo, hi = proportion_ci(int(hits), len(queries))
        out.append(
            {
                "ef": ef,
                "build_s": build,
                "ann_p50_ms": a50,
                "scan_p50_ms": s50,
                "speedup": s50 / a50,
                "speedup_ci": [float(x) for x in np.percentile(boot, [2.5, 97.5])],
                "recall_at_1": hits / len(queries),
                "recall_ci": [lo, hi],
                "n_queries": len(queries),
                "n_scans_timed": len(scan_t),
            }
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--queries", type=int, default=2000, help="HNSW lookups (timed) and recall@1 trials per row")
    ap.add_argument(
        "--scan-timed", type=int, default=200, help="single-query numpy scans timed (75 ms each at 100k entries)"
    )
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
    ap.add_argument(
        "--random-sizes",
        type=int,
        nargs="+",
        default=None,
        help="entries for the uniform-random kind (default: --sizes); its 100k build is the slowest step",
    )
    ap.add_argument(
        "--build-threads",
        type=int,
        default=2,
        help="hnswlib threads for the index BUILD only (SemanticCache.add_bulk uses 2 too); every query and the "
        "numpy scan run on 1 thread",
    )
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
    seeds, how = embed_cached(seed_texts())
    print(how)
    rng = np.random.default_rng(0)
    print(
        f"hnswlib M={args.M} ef_construction={args.ef_construction}, built on {args.build_threads} thread(s); "
        f"{args.queries} single-vector HNSW queries (recall@1 over all, exact truth by one batched matmul), "
        f"{min(args.scan_timed, args.queries)} timed numpy scans; lookups and scans on 1 thread; [95% intervals]"
    )
    print(
        f"{'data':<10} {'entries':>8} {'ef':>4} | {'build s':>7} | {'hnsw p50 ms':>11} {'numpy p50 ms':>12} "
        f"{'speed-up [95% CI]':>22} | {'recall@1 [95% CI]':>24}"
    )
    for kind in args.kinds:
        for n in (args.random_sizes or args.sizes) if kind == "random" else args.sizes:
            if kind == "clustered":
                db = make_db(seeds, n, rng)
                pick = rng.integers(0, n, args.queries)
                queries = unit(db[pick] + 0.02 * rng.normal(size=(args.queries, db.shape[1])).astype(np.float32))
            else:
                db = unit(rng.normal(size=(n, 384)).astype(np.float32))
                pick = rng.integers(0, n, args.queries)
                queries = unit(db[pick] + 0.05 * rng.normal(size=(args.queries, 384)).astype(np.float32))
            for r in bench(db, queries, args.M, args.ef_construction, args.ef, args.build_threads, args.scan_timed):
                rows.append({"data": kind, "entries": n, "M": args.M, "ef_construction": args.ef_construction, **r})
                print(
                    f"{kind:<10} {n:>8} {r['ef']:>4} | {r['build_s']:>7.1f} | {r['ann_p50_ms']:>11.3f} "
                    f"{r['scan_p50_ms']:>12.3f} {r['speedup']:>7.1f}x [{r['speedup_ci'][0]:.1f}, "
                    f"{r['speedup_ci'][1]:.1f}] | {r['recall_at_1']:.4f} [{r['recall_ci'][0]:.4f}, "
                    f"{r['recall_ci'][1]:.4f}]",
                    flush=True,
                )

    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "rows": rows,
                    "queries": args.queries,
                    "build_threads": args.build_threads,
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
