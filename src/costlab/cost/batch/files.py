"""Batch input and result files: build and validate request JSONL, merge output/error files by custom_id.

The file formats shared by the Batch API runner (costlab.cost.batch.api) and the local executor
(costlab.cost.batch.local); costlab.cost.batch lists the files of an output dir.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Mapping

from costlab.errors import CostlabError
from costlab.io import atomic_write_json, atomic_write_text, iter_jsonl

ENDPOINTS = ("/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses")
MAX_REQUESTS = 50_000  # OpenAI's per-batch limit on requests
MAX_BYTES = 200 * 1024 * 1024  # ... and on input file size


# ------------------------------------------------------------------------------------------------- building
def build_requests(
    prompts: Iterable[Any],
    model: str,
    endpoint: str = "/v1/chat/completions",
    system: str | None = None,
    max_tokens: int | None = None,
    temperature: float | None = None,
    id_prefix: str = "req-",
) -> list[dict[str, Any]]:
    """Batch request lines from prompts: a str, or a dict with ``prompt`` or ``messages`` (+ optional ``id``/
    ``custom_id`` and per-row ``max_tokens``)."""
    if endpoint not in ENDPOINTS:
        raise CostlabError(f"endpoint {endpoint!r} not supported", f"use one of {', '.join(ENDPOINTS)}")
    out = []
    for i, p in enumerate(prompts):
        row = p if isinstance(p, dict) else {"prompt": p}
        cid = row.get("custom_id") or row.get("id")
        cid = f"{id_prefix}{i}" if cid is None else str(cid)
        body: dict[str, Any] = {"model": row.get("model", model)}
        if endpoint == "/v1/chat/completions":
            if "messages" in row:
                msgs = list(row["messages"])
            elif "prompt" in row:
                msgs = [{"role": "user", "content": str(row["prompt"])}]
            else:
                raise CostlabError(f"prompt #{i} ({cid}) has neither 'prompt' nor 'messages'")
            if system and not any(m.get("role") == "system" for m in msgs):
                msgs = [{"role": "system", "content": system}] + msgs
            body["messages"] = msgs
        elif endpoint == "/v1/embeddings":
            body["input"] = row.get("input", row.get("prompt"))
        elif endpoint == "/v1/responses":
            body["input"] = row.get("input", row.get("prompt"))
        else:
            body["prompt"] = row.get("prompt")
        mt = row.get("max_tokens", max_tokens)
        if mt is not None and endpoint != "/v1/embeddings":
            body["max_tokens"] = int(mt)
        if temperature is not None and endpoint != "/v1/embeddings":
            body["temperature"] = temperature
        out.append({"custom_id": cid, "method": "POST", "url": endpoint, "body": body})
    validate_requests(out, "<built>")
    return out


def write_requests(reqs: list[dict[str, Any]], path: str | Path) -> Path:
    return atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in reqs))


def validate_requests(reqs: list[dict[str, Any]], where: str) -> None:
    if not reqs:
        raise CostlabError(f"{where}: no requests", "the batch input is empty")
    if len(reqs) > MAX_REQUESTS:
        raise CostlabError(
            f"{where}: {len(reqs)} requests > the Batch API's {MAX_REQUESTS} per batch", "split the file"
        )
    counts = Counter(r.get("custom_id") for r in reqs)
    dups = {k: n for k, n in counts.items() if n > 1}
    if dups:
        show = ", ".join(f"{k!r} x{n}" for k, n in list(dups.items())[:10])
        raise CostlabError(
            f"{where}: duplicate custom_id(s): {show}" + (" ..." if len(dups) > 10 else ""),
            "every request needs a unique custom_id (results are merged back by it)",
        )
    urls = {r.get("url") for r in reqs}
    if len(urls) != 1:
        raise CostlabError(
            f"{where}: requests use several urls {sorted(map(str, urls))}", "a batch has exactly one endpoint"
        )


def read_requests(path: str | Path) -> list[dict[str, Any]]:
    """Read and validate a Batch input JSONL: object per line, custom_id/method/url/body, unique ids."""
    path = Path(path)
    if not path.exists():
        raise CostlabError(f"batch input not found: {path}")
    if path.stat().st_size > MAX_BYTES:
        raise CostlabError(f"{path}: {path.stat().st_size} bytes > the Batch API's 200 MB limit", "split the file")
    reqs = []
    for n, r in iter_jsonl(path, numbered=True):
        missing = [k for k in ("custom_id", "method", "url", "body") if k not in r]
        if missing:
            raise CostlabError(
                f"{path}:{n}: missing {missing}",
                "each line is {custom_id, method, url, body} (build one with `costlab batch build`)",
            )
        if r["url"] not in ENDPOINTS:
            raise CostlabError(f"{path}:{n}: url {r['url']!r} not supported", f"use one of {ENDPOINTS}")
        if not isinstance(r["body"], dict) or "model" not in r["body"]:
            raise CostlabError(f"{path}:{n}: body must be an object with a 'model'")
        r["custom_id"] = str(r["custom_id"])
        reqs.append(r)
    validate_requests(reqs, str(path))
    return reqs


# -------------------------------------------------------------------------------------------------- merging
def _content(body: Mapping[str, Any] | None) -> str | None:
    if not isinstance(body, Mapping):
        return None
    ch = body.get("choices")
    if isinstance(ch, list) and ch:
        c = ch[0]
        if isinstance(c.get("message"), Mapping):
            return c["message"].get("content")
        return c.get("text")
    if "output_text" in body:
        return body["output_text"]
    return None


def merge_results(
    requests_path: str | Path, output_path: str | Path | None, errors_path: str | Path | None, out_dir: str | Path
) -> dict[str, Any]:
    """Join Batch output/error lines back onto the input by custom_id. Writes results/failed/summary."""
    out_dir = Path(out_dir)
    reqs = read_requests(requests_path)
    got: dict[str, dict[str, Any]] = {}
    unexpected: list[str] = []
    dup_out: list[str] = []
    ids = {r["custom_id"] for r in reqs}
    for p in (output_path, errors_path):
        if p is None or not Path(p).exists():
            continue
        try:
            for o in iter_jsonl(p):
                cid = str(o.get("custom_id"))
                if cid not in ids:
                    unexpected.append(cid)
                    continue
                if cid in got:
                    prev_ok = got[cid].get("error") is None
                    dup_out.append(cid)
                    if prev_ok:
                        continue  # keep a success over a later error line
                got[cid] = o
        except CostlabError as e:  # a malformed line: file:line from iter_jsonl, and the fix for a downloaded file
            raise CostlabError(e.what, "re-download the file (delete it and rerun to fetch it again)") from e
    results, failed = [], []
    counts: Counter[str] = Counter()
    for r in reqs:
        cid = r["custom_id"]
        o = got.get(cid)
        if o is None:
            status, row = "missing", {"error": "no output or error line for this custom_id"}
        else:
            resp = o.get("response") or {}
            code = resp.get("status_code")
            body = resp.get("body")
            err = o.get("error")
            if err is None and code is not None and int(code) >= 400:
                err = {"status_code": code, "body": body}
            if err is None and code is None:
                err = "result line has neither response.status_code nor error"
            status = "ok" if err is None else "error"
            row = {
                "content": _content(body),
                "usage": (body or {}).get("usage") if isinstance(body, dict) else None,
                "error": err,
                "response": body,
            }
        counts[status] += 1
        results.append({"custom_id": cid, "status": status, **row})
        if status != "ok":
            failed.append(r)
    atomic_write_text(out_dir / "results.jsonl", "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in results))
    atomic_write_text(out_dir / "failed.jsonl", "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in failed))
    summary = {
        "requests": len(reqs),
        "ok": counts["ok"],
        "error": counts["error"],
        "missing": counts["missing"],
        "unexpected_custom_ids": unexpected[:50],
        "unexpected_count": len(unexpected),
        "duplicate_result_ids": sorted(set(dup_out))[:50],
        "failed_ids": [r["custom_id"] for r in failed][:50],
        "results": str(out_dir / "results.jsonl"),
        "failed": str(out_dir / "failed.jsonl"),
    }
    atomic_write_json(out_dir / "summary.json", summary)
    return summary
