"""Budgets: per key (incl. the anonymous tenant) and global, daily and monthly (UTC).

``reserve`` atomically checks spent + reserved + estimate <= limit on every scope and holds the estimate;
``settle`` replaces it with the billed cost. Concurrent requests can overshoot a limit only by what in-flight
reservations under-estimated (zero when the estimate bounds the cost: see serving/accounting.py). In-process
(``LocalBudgets``, rebuilt from the ledger on start) or Redis (``RedisBudgets``, one Lua script per
reserve/settle, shared by all replicas).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from costlab.serving.ledger import day_month, new_id

log = logging.getLogger("costlab.serving")


@dataclass
class Limit:
    scope: str  # "global" | "key:<key_id>"
    period: str  # "daily:<YYYY-MM-DD>" | "monthly:<YYYY-MM>"
    usd: float

    @property
    def name(self) -> str:
        return f"{self.scope}/{self.period}"


@dataclass
class Reservation:
    limits: list[Limit]
    usd: float
    settled: bool = False
    degraded: bool = False  # the budget backend was unreachable: not enforced, still billed in the ledger
    id: str = field(default_factory=lambda: new_id(128))


def limits_for(
    key_id: str | None, key_budget: dict | None, global_budget: dict | None, ts: float | None = None
) -> list[Limit]:
    d, m = day_month(ts)
    out = []
    for scope, b in (("global", global_budget or {}), (f"key:{key_id}", key_budget or {})):
        if scope.startswith("key:") and not key_id:
            continue
        if b.get("daily_usd") is not None:
            out.append(Limit(scope, f"daily:{d}", float(b["daily_usd"])))
        if b.get("monthly_usd") is not None:
            out.append(Limit(scope, f"monthly:{m}", float(b["monthly_usd"])))
    return out


class _Alerts:
    LEVELS = (0.8, 1.0)

    def __init__(self, webhook: str | None, first: Callable[[str], bool]):
        self.webhook = webhook
        self.first = first  # returns True the first time an alert key is seen (dedupe, maybe across replicas)
        self.fired: list[dict] = []

    def check(self, lim: Limit, spent: float) -> None:
        if lim.usd <= 0:
            return
        for lvl in self.LEVELS:
            if spent >= lvl * lim.usd and self.first(f"{lim.name}@{lvl}"):
                ev = {"budget": lim.name, "level": lvl, "spent_usd": round(spent, 8), "limit_usd": lim.usd}
                self.fired.append(ev)
                log.warning("budget alert: %s at %d%% (spent $%.6f of $%.6f)", lim.name, int(lvl * 100), spent, lim.usd)
                if self.webhook:
                    threading.Thread(target=_post_webhook, args=(self.webhook, ev), daemon=True).start()


def _post_webhook(url: str, ev: dict) -> None:
    import httpx

    try:
        httpx.post(url, json={"type": "costlab.budget_alert", **ev}, timeout=5.0)
    except Exception as e:  # noqa: BLE001
        log.warning("budget alert webhook %s failed: %s", url, e)


class LocalBudgets:
    backend = "local"

    def __init__(self, initial_spent: dict[tuple[str, str], float] | None = None, webhook: str | None = None):
        self._lock = threading.Lock()
        self.spent: dict[str, float] = {f"{s}/{p}": v for (s, p), v in (initial_spent or {}).items()}
        self.reserved: dict[str, float] = {}
        seen: set[str] = set()

        def first(k: str) -> bool:
            if k in seen:
                return False
            seen.add(k)
            return True

        self.alerts = _Alerts(webhook, first)

    def reserve(self, limits: list[Limit], usd: float) -> tuple[Reservation | None, Limit | None]:
        with self._lock:
            for lim in limits:
                if (
                    self.spent.get(lim.name, 0.0) + self.reserved.get(lim.name, 0.0) + usd
                    > lim.usd * (1 + 1e-9) + 1e-15
                ):  # float slack
                    return None, lim
            for lim in limits:
                self.reserved[lim.name] = self.reserved.get(lim.name, 0.0) + usd
        return Reservation(limits, usd), None

    def settle(self, res: Reservation, actual_usd: float) -> None:
        if res.settled:
            return
        res.settled = True
        with self._lock:
            for lim in res.limits:
                self.reserved[lim.name] = self.reserved.get(lim.name, 0.0) - res.usd
                self.spent[lim.name] = self.spent.get(lim.name, 0.0) + actual_usd
            snapshot = [(lim, self.spent[lim.name]) for lim in res.limits]
        for lim, s in snapshot:
            self.alerts.check(lim, s)

    def add_spent(self, limits: list[Limit], usd: float) -> None:
        self.settle(Reservation(limits, 0.0), usd)

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {"spent": dict(self.spent), "reserved": dict(self.reserved)}


_RESERVE_LUA = """
local n = #KEYS
for i = 1, n do
  local spent = tonumber(redis.call('HGET', KEYS[i], 'spent') or '0')
  local res = tonumber(redis.call('HGET', KEYS[i], 'reserved') or '0')
  if spent + res + tonumber(ARGV[1]) > tonumber(ARGV[i + 2]) * (1 + 1e-9) + 1e-15 then return i end
end
for i = 1, n do
  redis.call('HINCRBYFLOAT', KEYS[i], 'reserved', ARGV[1])
  redis.call('EXPIRE', KEYS[i], tonumber(ARGV[2]))
end
return 0
"""

_SETTLE_LUA = """
local out = {}
for i = 1, #KEYS do
  redis.call('HINCRBYFLOAT', KEYS[i], 'reserved', -tonumber(ARGV[1]))
  out[i] = redis.call('HINCRBYFLOAT', KEYS[i], 'spent', ARGV[2])
  redis.call('EXPIRE', KEYS[i], tonumber(ARGV[3]))
end
return out
"""


class RedisBudgets:
    """Budget counters shared by replicas. If Redis is unreachable the request is allowed (fail-open, with a
    warning; configurable to fail closed) and still billed in the local ledger."""

    backend = "redis"
    TTL_S = 40 * 86400

    def __init__(
        self, client: Any, prefix: str = "costlab:budget:", webhook: str | None = None, fail_open: bool = True
    ):
        self.r = client
        self.prefix = prefix
        self.fail_open = fail_open
        self._reserve = client.register_script(_RESERVE_LUA)
        self._settle = client.register_script(_SETTLE_LUA)
        self.errors = 0
        self.cooldown_s = 5.0  # after a failure, don't wait on Redis again for this long
        self._down_until = 0.0

        def first(k: str) -> bool:
            try:
                return bool(self.r.set(prefix + "alert:" + k, 1, nx=True, ex=self.TTL_S))
            except Exception:  # noqa: BLE001
                return True

        self.alerts = _Alerts(webhook, first)

    def _k(self, lim: Limit) -> str:
        return self.prefix + lim.name

    def reserve(self, limits: list[Limit], usd: float) -> tuple[Reservation | None, Limit | None]:
        if not limits:
            return Reservation(limits, usd), None
        if time.time() < self._down_until:
            if self.fail_open:
                return Reservation(limits, usd, degraded=True), None
            raise ConnectionError("redis budget backend is down (cooling off)")
        try:
            i = int(
                self._reserve(
                    keys=[self._k(l) for l in limits], args=[repr(usd), self.TTL_S] + [repr(l.usd) for l in limits]
                )
            )
        except Exception as e:  # noqa: BLE001
            self._failed("reserve", e, "allowing the request (fail_open)" if self.fail_open else "rejecting")
            if self.fail_open:
                return Reservation(limits, usd, degraded=True), None
            raise
        if i:
            return None, limits[i - 1]
        return Reservation(limits, usd), None

    def _failed(self, op: str, e: Exception, consequence: str) -> None:
        """Count the failure, cool off (no per-request timeouts while Redis is down), say what it means."""
        self.errors += 1
        self._down_until = time.time() + self.cooldown_s
        log.warning("redis budget %s failed (%s: %s); %s", op, type(e).__name__, e, consequence)

    def settle(self, res: Reservation, actual_usd: float) -> None:
        if res.settled:
            return
        res.settled = True
        if not res.limits or res.degraded:
            return  # degraded: never reserved in Redis; the cost is in the local ledger
        try:
            spent = self._settle(
                keys=[self._k(l) for l in res.limits],
                args=[repr(0.0 if res.degraded else res.usd), repr(actual_usd), self.TTL_S],
            )
        except Exception as e:  # noqa: BLE001
            self._failed("settle", e, "cost is in the ledger but not in the shared counter")
            return
        for lim, s in zip(res.limits, spent):
            self.alerts.check(lim, float(s))

    def add_spent(self, limits: list[Limit], usd: float) -> None:
        self.settle(Reservation(limits, 0.0), usd)

    def state(self) -> dict[str, Any]:
        out: dict[str, Any] = {"spent": {}, "reserved": {}}
        try:
            for k in self.r.scan_iter(self.prefix + "*"):
                k = k.decode() if isinstance(k, bytes) else k
                if ":alert:" in k:
                    continue
                h = self.r.hgetall(k)
                name = k[len(self.prefix) :]
                out["spent"][name] = float(h.get(b"spent", 0) or 0)
                out["reserved"][name] = float(h.get(b"reserved", 0) or 0)
        except Exception as e:  # noqa: BLE001
            out["error"] = str(e)
        return out
