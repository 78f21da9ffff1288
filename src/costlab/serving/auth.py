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
    key_id: str  # first 12 hex chars of the hash: safe to log and to show in /v1/spend
    tenant: str
    budget: dict = field(default_factory=dict)  # {daily_usd, monthly_usd}
    name: str = ""
    admin: bool = False  # may read every tenant's spend in /v1/spend, /metrics and /health details


ANONYMOUS = "anonymous"


class KeyStore:
    """Bearer keys (sha256 hashes). Anonymous callers (no key) are allowed only when ``allow_anonymous`` is true,
    or when it is null and no key is configured at all (a local gateway); they are never admin and have their
    own tenant ("anonymous") and budget. A key entry without a tenant gets a tenant of its own."""

    def __init__(self, entries: list[dict], allow_anonymous: bool | None = None, anonymous_budget: dict | None = None):
        self._by_hash: dict[str, KeyInfo] = {}
        for i, e in enumerate(entries):
            h = str(e.get("sha256", "")).lower()
            if len(h) != 64:
                raise CostlabError(
                    f"auth key #{i}: 'sha256' must be the 64-hex sha256 of the key",
                    "compute it with `costlab serve hash-key KEY` and store only the hash",
                )
            tenant = e.get("tenant") or f"key-{h[:12]}"
            if tenant == ANONYMOUS:
                raise CostlabError(
                    f"auth key #{i}: tenant '{ANONYMOUS}' is reserved for callers without a key",
                    "give the key another tenant",
                )
            self._by_hash[h] = KeyInfo(
                h[:12], str(tenant), dict(e.get("budget") or {}), str(e.get("name", "")), bool(e.get("admin", False))
            )
        allow = (not self._by_hash) if allow_anonymous is None else bool(allow_anonymous)
        if not allow and not self._by_hash:
            raise CostlabError(
                "serve.auth.allow_anonymous is false but no key is configured: every request would be 401",
                "add keys (serve.auth.keys / keys_file) or set serve.auth.allow_anonymous=null",
            )
        self.anonymous = KeyInfo(ANONYMOUS, ANONYMOUS, dict(anonymous_budget or {})) if allow else None

    @classmethod
    def from_file(
        cls,
        path: str | Path | None,
        inline: list[dict] | None = None,
        allow_anonymous: bool | None = None,
        anonymous_budget: dict | None = None,
    ) -> KeyStore:
        entries = list(inline or [])
        if path:
            p = Path(path)
            if not p.exists():
                raise CostlabError(
                    f"{p}: keys file not found", "create it (see docs/serving.md) or unset serve.auth.keys_file"
                )
            data: Any = yaml.safe_load(p.read_text()) or {}
            entries += data.get("keys", []) if isinstance(data, dict) else data
        return cls(entries, allow_anonymous, anonymous_budget)

    def __len__(self) -> int:
        return len(self._by_hash)

    def budgets(self) -> bool:
        """Whether any key (or the anonymous tenant) has a budget."""
        infos = list(self._by_hash.values()) + ([self.anonymous] if self.anonymous else [])
        return any(v is not None for k in infos for v in (k.budget or {}).values())

    def lookup(self, authorization: str | None) -> KeyInfo | None:
        """KeyInfo of a valid bearer key; the anonymous KeyInfo when no key is sent and anonymous is allowed;
        else None (401). With keys configured, a key that is sent but unknown (or a malformed header) is always
        None, whatever the anonymous policy."""
        if not authorization or not self._by_hash:
            return self.anonymous  # no key sent, or no key configured (then any client placeholder key is fine)
        parts = authorization.split(None, 1)
        if len(parts) != 2 or parts[0].lower() != "bearer" or not parts[1].strip():
            return None
        h = hash_key(parts[1].strip())
        found = None
        for stored, info in self._by_hash.items():  # constant-time compare per entry
            if hmac.compare_digest(stored, h):
                found = info
        return found
