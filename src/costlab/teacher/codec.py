"""Compact array storage inside JSONL rows: little-endian bytes, base64. Top-k ids as uint16 when the vocab
fits (≤ 65536), log-probs as float16: 4 B per (token, k) slot, i.e. 80 B/token at k = 20."""

from __future__ import annotations

import base64

import numpy as np


def encode(arr: np.ndarray, dtype: str) -> dict:
    a = np.ascontiguousarray(np.asarray(arr).astype(dtype))
    return {
        "dtype": dtype,
        "shape": list(a.shape),
        "b64": base64.b64encode(a.astype(a.dtype.newbyteorder("<")).tobytes()).decode(),
    }


def decode(obj: dict) -> np.ndarray:
    dt = np.dtype(obj["dtype"]).newbyteorder("<")
    return np.frombuffer(base64.b64decode(obj["b64"]), dtype=dt).reshape(obj["shape"]).astype(obj["dtype"])


def id_dtype(vocab_size: int) -> str:
    return "uint16" if vocab_size <= 65536 else "int32"
