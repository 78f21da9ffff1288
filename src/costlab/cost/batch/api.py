"""OpenAI Batch API run: upload → create → poll → download → merge, resumable through ``out_dir/state.json``."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any, Callable

from costlab.cost.batch.files import merge_results, read_requests
from costlab.errors import CostlabError
from costlab.io import atomic_write_json, atomic_write_text, read_json
from costlab.paths import env

TERMINAL = {"completed", "failed", "expired", "cancelled"}


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


def openai_client(base_url: str | None = None, api_key: str | None = None, max_retries: int = 3) -> Any:
    from openai import OpenAI

    key = api_key or env("OPENAI_API_KEY")
    if not key:
        raise CostlabError("no API key for the Batch API", "set OPENAI_API_KEY or pass --api-key")
    return OpenAI(base_url=base_url, api_key=key, max_retries=max_retries)
