"""Gateway API keys: stored as sha256 hashes, each mapped to a tenant and an optional budget."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from costlab.errors import CostlabError


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass
class KeyInfo:
    key_id: str          # first 12 hex chars of the hash: safe to log and to show in /v1/spend
    tenant: str
    budget: dict = field(default_factory=dict)   # {daily_usd, monthly_usd}
    name: str = ""
    admin: bool = False  # may read every tenant's spend in /v1/spend


class KeyStore:
    def __init__(self, entries: list[dict], required: bool = True):
        self.required = required
        self._by_hash: dict[str, KeyInfo] = {}
        for i, e in enumerate(entries):
            h = str(e.get("sha256", "")).lower()
            if len(h) != 64:
                raise CostlabError(f"auth key #{i}: 'sha256' must be the 64-hex sha256 of the key",
                                   "compute it with `costlab serve hash-key KEY` and store only the hash")
            self._by_hash[h] = KeyInfo(h[:12], str(e.get("tenant", "default")), dict(e.get("budget") or {}), str(e.get("name", "")),
                                         bool(e.get("admin", False)))

    @classmethod
    def from_file(cls, path: str | Path | None, required: bool = True, inline: list[dict] | None = None) -> "KeyStore":
        entries = list(inline or [])
        if path:
            p = Path(path)
            if not p.exists():
                raise CostlabError(f"{p}: keys file not found", "create it (see docs/serving.md) or unset serve.auth.keys_file")
            data: Any = yaml.safe_load(p.read_text()) or {}
            entries += data.get("keys", []) if isinstance(data, dict) else data
        return cls(entries, required)

    def __len__(self) -> int:
        return len(self._by_hash)

    def lookup(self, authorization: str | None) -> KeyInfo | None:
        """KeyInfo for a valid bearer key; anonymous KeyInfo when auth is optional and none is sent; else None."""
        token = None
        if authorization:
            parts = authorization.split(None, 1)
            token = parts[1].strip() if len(parts) == 2 and parts[0].lower() == "bearer" else None
        if not token or (not self.required and not self._by_hash):
            return None if self.required else KeyInfo("anonymous", "default", admin=True)
        h = hash_key(token)
        for stored, info in self._by_hash.items():  # constant-time compare per entry
            if hmac.compare_digest(stored, h):
                return info
        return None  # a key was sent but is not known: reject even when auth is optional
