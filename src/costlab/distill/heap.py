"""The process heap during training: keep what a step frees for the next step (glibc)."""

from __future__ import annotations

import ctypes
import sys

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc mallopt parameters (malloc.h)


def reuse_freed_memory() -> bool:
    """Keep the memory a training step frees in this process's heap, for the next step (glibc only; Linux).

    glibc serves every allocation above its mmap threshold (at most 32 MB by its own adaptive rule) with a fresh
    mmap and returns it to the kernel on free, so each step's vocabulary-sized tensors (logits, log-probs, their
    gradients: ~100 MB each at 4 x 128 tokens x 49k vocab) and activations are page-faulted and zeroed again:
    ~400k minor faults, ~1.2 s of system time per step for SmolLM2 on 2 CPU threads (docs/training.md). Raising the
    mmap and trim thresholds keeps that memory in the heap and reuses it: what running PyTorch under
    jemalloc/tcmalloc buys, as PyTorch's CPU performance tuning guide recommends. Costs: the heap keeps its size
    between steps and grows for the first few (most likely: glibc over-allocates PyTorch's 64-byte-aligned
    requests, so a freed block of the same size does not fit the next one): +6% peak RSS on that step.
    Process-wide (the rest of the process keeps it); idempotent. Returns whether it was applied (False off glibc,
    e.g. macOS or musl, where nothing changes)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        big = 1 << 30
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, big)) and bool(libc.mallopt(_M_TRIM_THRESHOLD, big))
    except (OSError, AttributeError):  # not glibc
        return False
