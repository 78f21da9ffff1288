"""OpenAI Batch API runner, resumable, plus a local executor of the same JSONL against an OpenAI-compatible server.

Files in an output dir (``out_dir``):
  state.json     what has been done (uploaded file id, batch id, status, downloads). Written atomically after
                 every step, so a killed run resumes where it stopped and never submits the same batch twice.
  output.jsonl   the Batch API's output lines ({"custom_id", "response": {"status_code", "body"}, "error"})
  errors.jsonl   the Batch API's error file (rows it failed), when there is one
  results.jsonl  one row per INPUT request, in input order: custom_id, status ok|error|missing, content, usage, error
  failed.jsonl   the original request lines of every error/missing row, ready to resubmit
  summary.json   counts (ok / error / missing / unexpected ids) and the file paths

Modules: ``files`` (build / validate / merge the JSONL files), ``api`` (the Batch API runner), ``local`` (the same
JSONL against an OpenAI-compatible server). Their public names are importable from here.
"""

from __future__ import annotations

from costlab.cost.batch.api import TERMINAL, BatchRunner, openai_client
from costlab.cost.batch.files import (
    ENDPOINTS,
    MAX_BYTES,
    MAX_REQUESTS,
    build_requests,
    merge_results,
    read_requests,
    validate_requests,
    write_requests,
)
from costlab.cost.batch.local import run_local

__all__ = [
    "ENDPOINTS",
    "MAX_BYTES",
    "MAX_REQUESTS",
    "TERMINAL",
    "BatchRunner",
    "build_requests",
    "merge_results",
    "openai_client",
    "read_requests",
    "run_local",
    "validate_requests",
    "write_requests",
]
