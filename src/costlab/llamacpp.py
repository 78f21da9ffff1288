"""The one place a ``llama_cpp.Llama`` is constructed (eval's lm-eval model and backend, the quant sanity check).

``load_llama`` turns a missing llama-cpp-python into a ``CostlabError`` that says how to install it, and a file
llama.cpp cannot load into one that quotes the tail of llama.cpp's own log. ``capture_llama_log`` collects that
log (llama-cpp-python's log callback prints to sys.stderr) for other calls into llama.cpp (quantize).
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

from costlab.errors import CostlabError


@contextlib.contextmanager
def capture_llama_log():
    """Collect llama.cpp's log lines (its Python log callback prints to sys.stderr) for error messages."""
    import llama_cpp._logger as llog

    buf = io.StringIO()
    old = llog.logger.level
    llog.logger.setLevel(llog.logging.DEBUG)  # CONT lines are logged at DEBUG
    try:
        with contextlib.redirect_stderr(buf):
            yield buf
    finally:
        llog.logger.setLevel(old)


def load_llama(
    path: str | Path,
    n_ctx: int,
    threads: int,
    logits_all: bool = False,
    *,
    seed: int | None = None,
    n_batch: int | None = None,
    n_gpu_layers: int | None = None,
) -> Any:
    """``llama_cpp.Llama`` over a GGUF file, quiet, with ``threads`` for both decode and prompt processing.

    ``n_batch`` (also used as ``n_ubatch``) and ``seed``/``n_gpu_layers`` are passed only when given, so
    llama.cpp's own defaults apply otherwise (n_batch 512, seed random, CPU only).
    """
    try:
        from llama_cpp import Llama
    except ImportError as e:
        raise CostlabError(
            "llama-cpp-python is not installed",
            "make install (builds the wheel once, ~14 min) or pip install 'llama-cpp-python[server]==0.3.36'",
        ) from e
    kw: dict[str, Any] = {}
    if n_batch is not None:
        kw.update(n_batch=n_batch, n_ubatch=n_batch)
    if seed is not None:
        kw["seed"] = seed
    if n_gpu_layers is not None:
        kw["n_gpu_layers"] = n_gpu_layers
    log = io.StringIO()
    try:
        with contextlib.redirect_stderr(log):
            return Llama(
                model_path=str(path),
                n_ctx=n_ctx,
                logits_all=logits_all,
                n_threads=threads,
                n_threads_batch=threads,
                verbose=False,
                **kw,
            )
    except Exception as e:  # llama.cpp reports a bad file as ValueError/RuntimeError
        tail = " | ".join(line for line in log.getvalue().splitlines() if line.strip())[-400:]
        raise CostlabError(
            f"llama.cpp cannot load {path}: {e} {tail}".strip(),
            "re-create the file (delete the variant dir and rerun the quantize stage)",
        ) from e
