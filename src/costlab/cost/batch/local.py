"""The same batch JSONL executed against any OpenAI-compatible server (llama.cpp, vLLM), resumable."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from costlab.cost.batch.files import merge_results, read_requests
from costlab.errors import CostlabError
from costlab.io import ResumableJsonl, atomic_write_json


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
