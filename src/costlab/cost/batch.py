"""OpenAI Batch API runner, resumable, plus a local executor of the same JSONL against an OpenAI-compatible server.

Files in an output dir (``out_dir``):
  state.json     what has been done (uploaded file id, batch id, status, downloads). Written atomically after
                 every step, so a killed run resumes where it stopped and never submits the same batch twice.
  output.jsonl   the Batch API's output lines ({"custom_id", "response": {"status_code", "body"}, "error"})
  errors.jsonl   the Batch API's error file (rows it failed), when there is one
  results.jsonl  one row per INPUT request, in input order: custom_id, status ok|error|missing, content, usage, error
  failed.jsonl   the original request lines of every error/missing row, ready to resubmit
  summary.json   counts (ok / error / missing / unexpected ids) and the file paths
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from costlab.errors import CostlabError
from costlab.io import ResumableJsonl, atomic_write_json, atomic_write_text, iter_jsonl, read_json

ENDPOINTS = ("/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses")
MAX_REQUESTS = 50_000  # OpenAI's per-batch limit on requests
MAX_BYTES = 200 * 1024 * 1024  # ... and on input file size
TERMINAL = {"completed", "failed", "expired", "cancelled"}


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
        with Path(p).open(encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    o = json.loads(line)
                except json.JSONDecodeError as e:
                    raise CostlabError(
                        f"{p}:{n}: malformed result line ({e.msg})",
                        "re-download the file (delete it and rerun to fetch it again)",
                    ) from e
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


# -------------------------------------------------------------------------------------------- Batch API run
def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while b := f.read(1 << 20):
            h.update(b)
    return h.hexdigest()


class BatchRunner:
    """Submit → poll → download → merge, with every step recorded in ``out_dir/state.json``.

    ``client`` is an ``openai.OpenAI`` (or anything with the same ``files``/``batches`` API).
    """

    def __init__(
        self,
        client: Any,
        requests_path: str | Path,
        out_dir: str | Path,
        *,
        completion_window: str = "24h",
        poll_initial_s: float = 5.0,
        poll_max_s: float = 300.0,
        poll_factor: float = 1.5,
        max_wait_s: float | None = None,
        progress: bool = True,
        sleep: Callable[[float], None] = time.sleep,
        log: Callable[[str], None] | None = None,
    ):
        self.client = client
        self.requests_path = Path(requests_path)
        self.out_dir = Path(out_dir)
        self.state_path = self.out_dir / "state.json"
        self.completion_window = completion_window
        self.poll_initial_s, self.poll_max_s, self.poll_factor = poll_initial_s, poll_max_s, poll_factor
        self.max_wait_s = max_wait_s
        self.progress = progress
        self.sleep = sleep
        self.log = log or (lambda s: print(f"[costlab batch] {s}", flush=True))
        self.state: dict[str, Any] = {}

    # ---- state
    def _save(self, **kw: Any) -> None:
        self.state.update(kw, updated=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
        atomic_write_json(self.state_path, self.state)

    def _load(self) -> None:
        reqs = read_requests(self.requests_path)  # validates (duplicates, schema) before anything is uploaded
        digest = _sha256(self.requests_path)
        if self.state_path.exists():
            self.state = read_json(self.state_path)
            if self.state.get("input_sha256") != digest:
                raise CostlabError(
                    f"{self.state_path} belongs to a different input (sha256 {self.state.get('input_sha256', '?')[:12]}"
                    f" ≠ {digest[:12]} of {self.requests_path})",
                    "use a new --out dir for a new input, or restore the original input file",
                )
            self.log(f"resuming from {self.state_path} (status: {self.state.get('status')})")
        else:
            self.state = {
                "input": str(self.requests_path),
                "input_sha256": digest,
                "requests": len(reqs),
                "endpoint": reqs[0]["url"],
                "status": "new",
            }
            self.out_dir.mkdir(parents=True, exist_ok=True)
            self._save()

    # ---- steps
    def _upload(self) -> None:
        if self.state.get("input_file_id"):
            return
        with self.requests_path.open("rb") as f:
            fo = self.client.files.create(file=(self.requests_path.name, f.read()), purpose="batch")
        self._save(input_file_id=fo.id, status="uploaded")
        self.log(f"uploaded {self.requests_path} as {fo.id}")

    def _find_created(self) -> Any | None:
        """After a crash between batches.create and saving its id: find the batch by our metadata tag."""
        tag = self.state["input_sha256"][:32]
        try:
            page = self.client.batches.list(limit=100)
        except Exception as e:  # noqa: BLE001 - a server without list: cannot check, say so
            raise CostlabError(
                f"a batch may already have been created for this input but the server cannot list batches ({e})",
                f"look it up in the dashboard and put its id in {self.state_path}",
            ) from e
        for b in getattr(page, "data", page):
            md = getattr(b, "metadata", None) or {}
            if md.get("costlab_input") == tag and b.input_file_id == self.state.get("input_file_id"):
                return b
        return None

    def _create(self) -> None:
        if self.state.get("batch_id"):
            return
        if self.state.get("status") == "creating":
            b = self._find_created()
            if b is not None:
                self._save(batch_id=b.id, status=b.status)
                self.log(f"found batch {b.id} created before the crash; not resubmitting")
                return
        self._save(status="creating")
        b = self.client.batches.create(
            input_file_id=self.state["input_file_id"],
            endpoint=self.state["endpoint"],
            completion_window=self.completion_window,
            metadata={"costlab_input": self.state["input_sha256"][:32]},
        )
        self._save(batch_id=b.id, status=b.status)
        self.log(f"created batch {b.id}")

    def _poll(self) -> Any:
        delay = self.poll_initial_s
        t0 = time.monotonic()
        bar = None
        if self.progress:
            from tqdm import tqdm

            bar = tqdm(total=self.state["requests"], desc=f"batch {self.state['batch_id']}", unit="req")
        try:
            while True:
                b = self.client.batches.retrieve(self.state["batch_id"])
                rc = getattr(b, "request_counts", None)
                done = (rc.completed + rc.failed) if rc is not None else None
                if bar is not None and done is not None:
                    bar.n = done
                    bar.set_postfix_str(b.status)
                    bar.refresh()
                self._save(
                    status=b.status,
                    request_counts=None
                    if rc is None
                    else {"total": rc.total, "completed": rc.completed, "failed": rc.failed},
                    output_file_id=b.output_file_id,
                    error_file_id=b.error_file_id,
                )
                if b.status in TERMINAL:
                    return b
                if self.max_wait_s is not None and time.monotonic() - t0 > self.max_wait_s:
                    raise CostlabError(
                        f"batch {b.id} still '{b.status}' after {self.max_wait_s:.0f}s",
                        "rerun the same command later: it resumes from state.json",
                    )
                self.sleep(delay)
                delay = min(delay * self.poll_factor, self.poll_max_s)
        finally:
            if bar is not None:
                bar.close()

    def _download(self, file_id: str | None, name: str) -> Path | None:
        if not file_id:
            return None
        dest = self.out_dir / name
        if self.state.get(f"downloaded_{name}") == file_id and dest.exists():
            return dest
        data = self.client.files.content(file_id).read()
        atomic_write_text(dest, data.decode("utf-8"))
        self._save(**{f"downloaded_{name}": file_id})
        self.log(f"downloaded {file_id} → {dest}")
        return dest

    def run(self) -> dict[str, Any]:
        self._load()
        self._upload()
        self._create()
        b = None if self.state.get("status") in TERMINAL else self._poll()
        if b is not None and b.status != "completed":
            self.log(
                f"batch ended '{b.status}'"
                + (f": {b.errors}" if getattr(b, "errors", None) else "")
                + "; merging whatever results exist"
            )
        out = self._download(self.state.get("output_file_id"), "output.jsonl")
        err = self._download(self.state.get("error_file_id"), "errors.jsonl")
        summary = merge_results(self.requests_path, out, err, self.out_dir)
        summary.update(batch_id=self.state["batch_id"], batch_status=self.state["status"], state=str(self.state_path))
        atomic_write_json(self.out_dir / "summary.json", summary)
        self._save(merged=True)
        return summary


# ------------------------------------------------------------------------------------------------ local run
def _join_url(base_url: str, path: str) -> str:
    base = base_url.rstrip("/")
    if base.endswith("/v1") and path.startswith("/v1/"):
        path = path[3:]
    return base + path


async def _run_local_async(
    reqs: list[dict[str, Any]],
    base_url: str,
    sink: ResumableJsonl,
    concurrency: int,
    api_key: str | None,
    timeout_s: float,
    retries: int,
    model_override: str | None,
    progress: bool,
) -> None:
    import httpx

    todo = [r for r in reqs if r["custom_id"] not in sink.done]
    sem = asyncio.Semaphore(concurrency)
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(reqs), initial=len(reqs) - len(todo), desc="local batch", unit="req")
    async with httpx.AsyncClient(timeout=timeout_s, headers=headers) as client:

        async def one(r: dict[str, Any]) -> None:
            body = dict(r["body"])
            if model_override:
                body["model"] = model_override
            url = _join_url(base_url, r["url"])
            err: Any = None
            async with sem:
                for attempt in range(retries + 1):
                    try:
                        resp = await client.post(url, json=body)
                        if resp.status_code >= 500 and attempt < retries:
                            await asyncio.sleep(0.5 * 2**attempt)
                            continue
                        try:
                            rbody = resp.json()
                        except ValueError:
                            rbody = {"raw": resp.text[:2000]}
                        line = {
                            "id": f"local-{r['custom_id']}",
                            "custom_id": r["custom_id"],
                            "response": {
                                "status_code": resp.status_code,
                                "request_id": resp.headers.get("x-request-id", ""),
                                "body": rbody,
                            },
                            "error": None,
                        }
                        sink.append(line)
                        break
                    except (httpx.TransportError, httpx.TimeoutException) as e:
                        err = {"code": type(e).__name__, "message": str(e)[:500]}
                        if attempt < retries:
                            await asyncio.sleep(0.5 * 2**attempt)
                            continue
                        sink.append(
                            {
                                "id": f"local-{r['custom_id']}",
                                "custom_id": r["custom_id"],
                                "response": None,
                                "error": err,
                            }
                        )
            if bar is not None:
                bar.update(1)

        await asyncio.gather(*(one(r) for r in todo))
    if bar is not None:
        bar.close()


def run_local(
    requests_path: str | Path,
    base_url: str,
    out_dir: str | Path,
    *,
    concurrency: int = 4,
    api_key: str | None = None,
    timeout_s: float = 600.0,
    retries: int = 2,
    model_override: str | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Execute a Batch JSONL against an OpenAI-compatible server (bounded concurrency, resumable)."""
    if concurrency < 1 or concurrency > 1024:
        raise CostlabError(f"concurrency {concurrency} out of range [1, 1024]")
    reqs = read_requests(requests_path)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with ResumableJsonl(out_dir / "output.jsonl", id_key="custom_id") as sink:
        if sink.done:
            print(f"[costlab batch] resuming: {len(sink.done)} of {len(reqs)} already done", flush=True)
        t0 = time.time()
        asyncio.run(
            _run_local_async(reqs, base_url, sink, concurrency, api_key, timeout_s, retries, model_override, progress)
        )
        wall = time.time() - t0
    summary = merge_results(requests_path, out_dir / "output.jsonl", None, out_dir)
    summary.update(mode="local", base_url=base_url, concurrency=concurrency, wall_s=round(wall, 3))
    atomic_write_json(out_dir / "summary.json", summary)
    return summary


def openai_client(base_url: str | None = None, api_key: str | None = None, max_retries: int = 3) -> Any:
    from openai import OpenAI

    key = api_key or os.environ.get("OPENAI_API_KEY")
    if not key:
        raise CostlabError("no API key for the Batch API", "set OPENAI_API_KEY or pass --api-key")
    return OpenAI(base_url=base_url, api_key=key, max_retries=max_retries)
