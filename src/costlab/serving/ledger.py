"""Cost ledger (every request, written by a background thread off the hot path) and budgets.

Ledger: SQLite (WAL). ``record`` only enqueues; a writer thread commits batches. If the DB write fails the
rows go to ``<ledger>.fallback.jsonl`` (fsync'd) — a billed request is never dropped — and ``close`` drains.

Budgets: per key and global, daily and monthly (UTC). ``reserve`` atomically checks
spent + reserved + estimate ≤ limit on every scope and holds the estimate; ``settle`` replaces it with the
real cost. So concurrent requests can overshoot a limit only by what in-flight reservations under-estimated
(zero when the estimate bounds the cost: output tokens are capped at max_output_tokens on the stream).
In-process backend (``LocalBudgets``, state rebuilt from the ledger on start) or Redis (``RedisBudgets``,
one Lua script per reserve/settle, shared by all replicas).
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from costlab.serving.cache import open_sqlite

log = logging.getLogger("costlab.serving")

LEDGER_COLUMNS = ("id", "ts", "day", "month", "tenant", "key_id", "requested_model", "model", "task_class",
                  "priority", "prompt_tokens", "completion_tokens", "cached", "cost_usd", "reserved_usd",
                  "latency_ms", "ttft_ms", "status", "finish_reason", "stream")


def day_month(ts: float | None = None) -> tuple[str, str]:
    t = time.gmtime(ts if ts is not None else time.time())
    return time.strftime("%Y-%m-%d", t), time.strftime("%Y-%m", t)


class Ledger:
    def __init__(self, path: str | Path, batch: int = 256):
        self.path = Path(path)
        self.fallback = self.path.with_name(self.path.name + ".fallback.jsonl")
        self.db = open_sqlite(self.path)
        cols = ", ".join(f"{c} {'TEXT' if c in ('id', 'day', 'month', 'tenant', 'key_id', 'requested_model', 'model', 'task_class', 'priority', 'cached', 'status', 'finish_reason') else 'REAL'}"
                         for c in LEDGER_COLUMNS)
        self.db.execute(f"CREATE TABLE IF NOT EXISTS ledger ({cols})")
        self.db.execute("CREATE INDEX IF NOT EXISTS ledger_day ON ledger(day)")
        self._q: queue.Queue = queue.Queue()
        self._batch = batch
        self._db_lock = threading.Lock()
        self.written = 0
        self.fallback_rows = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, name="costlab-ledger", daemon=True)
        self._t.start()

    def record(self, row: dict) -> None:
        row = dict(row)
        row.setdefault("id", uuid.uuid4().hex)
        row.setdefault("ts", time.time())
        d, m = day_month(row["ts"])
        row.setdefault("day", d)
        row.setdefault("month", m)
        self._q.put(row)

    def _run(self) -> None:
        while not (self._stop.is_set() and self._q.empty()):
            try:
                first = self._q.get(timeout=0.1)
            except queue.Empty:
                continue
            rows = [first]
            while len(rows) < self._batch:
                try:
                    rows.append(self._q.get_nowait())
                except queue.Empty:
                    break
            self._write(rows)
            for _ in rows:
                self._q.task_done()

    def _write(self, rows: list[dict]) -> None:
        vals = [tuple(r.get(c) for c in LEDGER_COLUMNS) for r in rows]
        try:
            with self._db_lock:
                self.db.execute("BEGIN")
                self.db.executemany(f"INSERT INTO ledger ({', '.join(LEDGER_COLUMNS)}) VALUES ({', '.join('?' * len(LEDGER_COLUMNS))})", vals)
                self.db.execute("COMMIT")
            self.written += len(rows)
        except Exception as e:  # noqa: BLE001 - never lose a billed row
            try:
                with self._db_lock:
                    self.db.execute("ROLLBACK")
            except Exception:  # noqa: BLE001
                pass
            log.warning("ledger DB write failed (%s: %s); %d row(s) appended to %s", type(e).__name__, e, len(rows), self.fallback)
            with self.fallback.open("a", encoding="utf-8") as f:
                for r in rows:
                    f.write(json.dumps(r) + "\n")
                f.flush()
                os.fsync(f.fileno())
            self.fallback_rows += len(rows)

    def flush(self, timeout: float = 10.0) -> None:
        """Block until every queued row is written (or timeout)."""
        end = time.time() + timeout
        while self._q.unfinished_tasks and time.time() < end:
            time.sleep(0.005)

    def close(self) -> None:
        self._stop.set()
        self._t.join(timeout=30)
        with self._db_lock:
            self.db.close()

    def query(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._db_lock:
            return self.db.execute(sql, args).fetchall()

    def count(self) -> int:
        return self.query("SELECT COUNT(*) FROM ledger")[0][0]

    def spend(self, day: str | None = None, tenant: str | None = None) -> dict[str, Any]:
        where, args = [], []
        if day:
            where.append("day = ?")
            args.append(day)
        if tenant:
            where.append("tenant = ?")
            args.append(tenant)
        w = f"WHERE {' AND '.join(where)}" if where else ""
        out: dict[str, Any] = {}
        tot = self.query(f"SELECT COUNT(*), COALESCE(SUM(cost_usd),0), COALESCE(SUM(prompt_tokens),0), "
                         f"COALESCE(SUM(completion_tokens),0), COALESCE(SUM(cached != 'none'),0) FROM ledger {w}", tuple(args))[0]
        out["total"] = {"requests": tot[0], "cost_usd": tot[1], "prompt_tokens": int(tot[2]),
                        "completion_tokens": int(tot[3]), "cached_responses": int(tot[4])}
        for dim in ("model", "key_id", "tenant", "day"):
            rows = self.query(f"SELECT {dim}, COUNT(*), COALESCE(SUM(cost_usd),0), COALESCE(SUM(prompt_tokens),0), "
                              f"COALESCE(SUM(completion_tokens),0) FROM ledger {w} GROUP BY {dim} ORDER BY {dim}", tuple(args))
            out[f"by_{dim}"] = {str(r[0]): {"requests": r[1], "cost_usd": r[2], "prompt_tokens": int(r[3]),
                                            "completion_tokens": int(r[4])} for r in rows}
        return out

    def spent_by_scope(self) -> dict[tuple[str, str], float]:
        """(scope, period_id) → settled spend, to rebuild in-process budget state after a restart."""
        out: dict[tuple[str, str], float] = {}
        d, m = day_month()
        for period, col, pid in (("daily", "day", d), ("monthly", "month", m)):
            for (tot,) in self.query(f"SELECT COALESCE(SUM(cost_usd),0) FROM ledger WHERE {col}=?", (pid,)):
                out[("global", f"{period}:{pid}")] = float(tot)
            for kid, tot in self.query(f"SELECT key_id, COALESCE(SUM(cost_usd),0) FROM ledger WHERE {col}=? AND key_id != 'anonymous' GROUP BY key_id", (pid,)):
                out[(f"key:{kid}", f"{period}:{pid}")] = float(tot)
        return out


# ----------------------------------------------------------------------------------------------- budgets

@dataclass
class Limit:
    scope: str          # "global" | "key:<key_id>"
    period: str         # "daily:<YYYY-MM-DD>" | "monthly:<YYYY-MM>"
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
    id: str = field(default_factory=lambda: uuid.uuid4().hex)


def limits_for(key_id: str | None, key_budget: dict | None, global_budget: dict | None, ts: float | None = None) -> list[Limit]:
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
                if self.spent.get(lim.name, 0.0) + self.reserved.get(lim.name, 0.0) + usd > lim.usd * (1 + 1e-9) + 1e-15:  # float slack
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

    def __init__(self, client: Any, prefix: str = "costlab:budget:", webhook: str | None = None, fail_open: bool = True):
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
            i = int(self._reserve(keys=[self._k(l) for l in limits], args=[repr(usd), self.TTL_S] + [repr(l.usd) for l in limits]))
        except Exception as e:  # noqa: BLE001
            self.errors += 1
            self._down_until = time.time() + self.cooldown_s
            log.warning("redis budget reserve failed (%s: %s); %s", type(e).__name__, e,
                        "allowing the request (fail_open)" if self.fail_open else "rejecting")
            if self.fail_open:
                return Reservation(limits, usd, degraded=True), None
            raise
        if i:
            return None, limits[i - 1]
        return Reservation(limits, usd), None

    def settle(self, res: Reservation, actual_usd: float) -> None:
        if res.settled:
            return
        res.settled = True
        if not res.limits or res.degraded:
            return  # degraded: never reserved in Redis; the cost is in the local ledger
        try:
            spent = self._settle(keys=[self._k(l) for l in res.limits],
                                 args=[repr(0.0 if res.degraded else res.usd), repr(actual_usd), self.TTL_S])
        except Exception as e:  # noqa: BLE001
            self.errors += 1
            self._down_until = time.time() + self.cooldown_s
            log.warning("redis budget settle failed (%s: %s); cost is in the ledger but not in the shared counter", type(e).__name__, e)
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
                name = k[len(self.prefix):]
                out["spent"][name] = float(h.get(b"spent", 0) or 0)
                out["reserved"][name] = float(h.get(b"reserved", 0) or 0)
        except Exception as e:  # noqa: BLE001
            out["error"] = str(e)
        return out
