"""Runs inside the peers venv (GPTCache installed, costlab not): GPTCache's side of bench_gptcache.py.

GPTCache as its README sets it up — sqlite scalar store + faiss vector store + SearchDistanceEvaluation, default
similarity_threshold (Config: 0.8) — with a local embedding function that returns the all-MiniLM-L6-v2 vectors
the costlab side computed (same vectors for both systems; no network, no ONNX download).

    python gptcache_worker.py IN.npz OUT.json
IN.npz: db [N, d], queries [Q, d], pair_a [P, d], pair_b [P, d] (P = 0: skip the pairs). OUT: lookup times, top-1 ids, pair hits.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time

import numpy as np


def fresh_cache(vecs: dict[str, np.ndarray], dim: int, d: str):
    from gptcache import Cache, Config
    from gptcache.manager import CacheBase, VectorBase, get_data_manager
    from gptcache.processor.pre import get_prompt
    from gptcache.similarity_evaluation.distance import SearchDistanceEvaluation

    c = Cache()
    # max_size: GPTCache's default (1000) evicts everything past 1000 entries; hold all N, like costlab does
    dm = get_data_manager(
        CacheBase("sqlite", sql_url=f"sqlite:///{d}/gc.db"),
        VectorBase("faiss", dimension=dim, index_path=f"{d}/faiss.index"),
        max_size=max(len(vecs), 1000),
    )
    c.init(
        pre_embedding_func=get_prompt,
        embedding_func=lambda x, **kw: vecs[x],
        data_manager=dm,
        similarity_evaluation=SearchDistanceEvaluation(),
        config=Config(),
    )
    return c


def main() -> None:
    src, out = sys.argv[1:3]
    z = np.load(src)
    import gptcache
    from gptcache.adapter.api import get

    res: dict = {"gptcache": gptcache.__version__, "default_threshold": None}
    from gptcache import Config

    res["default_threshold"] = Config().similarity_threshold
    # ---- lookups at N entries
    db, queries = z["db"].astype(np.float32), z["queries"].astype(np.float32)
    vecs = {f"e{i}": db[i] for i in range(len(db))} | {f"q{i}": queries[i] for i in range(len(queries))}
    with tempfile.TemporaryDirectory() as d:
        c = fresh_cache(vecs, db.shape[1], d)
        t = time.perf_counter()
        c.import_data([f"e{i}" for i in range(len(db))], [str(i) for i in range(len(db))])
        res["build_s"] = time.perf_counter() - t
        times, top1 = [], []
        for i in range(len(queries)):
            t = time.perf_counter()
            ans = get(f"q{i}", cache_obj=c)  # the whole GPTCache lookup: embed (dict), faiss search, sqlite, eval
            times.append(time.perf_counter() - t)
            hits = c.data_manager.search(queries[i], top_k=1)  # the vector store's own top-1, for recall@1
            # the vector store's ids are scalar-store ids (not insertion order): map through the stored answer
            top1.append(int(c.data_manager.s.get_data_by_id(int(hits[0][1])).answers[0].answer) if hits else -1)
            del ans
        res["lookup_s"], res["top1_ids"] = times, top1
    # ---- paraphrase pairs at GPTCache's default threshold: per pair, a fresh cache holding only a_i; look up b_i
    pa, pb = z["pair_a"].astype(np.float32), z["pair_b"].astype(np.float32)
    hits: list | None = [] if len(pa) else None  # pairs are sent with one of the sizes only
    for i in range(len(pa)):
        with tempfile.TemporaryDirectory() as d:
            c = fresh_cache({"a": pa[i], "b": pb[i]}, pa.shape[1], d)
            c.import_data(["a"], [str(i)])
            ans = get("b", cache_obj=c)
            hits.append(None if ans is None else int(ans))
    res["pair_answers"] = hits
    with open(out, "w") as f:
        json.dump(res, f)


if __name__ == "__main__":
    main()
