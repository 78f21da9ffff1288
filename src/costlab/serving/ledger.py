"""Cost ledger: one row per request, written by a background thread off the hot path.

``record`` only enqueues; the writer thread commits batches to SQLite (WAL). A billed row is never dropped:
  * DB write fails -> the rows are appended (fsync'd) to ``<ledger>.fallback.jsonl`` ("degraded": durable);
  * the append fails too (disk full, read-only state) -> the rows stay in memory and the writer retries every
    ``retry_s`` ("failing": nothing durable; /health answers 503 and, by ``ledger.on_write_failure``, the
    gateway refuses new paid requests or serves with a loud alert);
  * nothing escapes the writer thread, and it keeps going after the fault clears.
Fallback rows are imported into the DB (``INSERT OR IGNORE`` on the row id) on start and as soon as the DB
takes writes again, so spend rebuilt after a restart is exactly what was billed. Budgets live in budgets.py.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import random
import threading
import time
from pathlib import Path
from typing import Any

from costlab.serving.cache import open_sqlite

log = logging.getLogger("costlab.serving")

# column -> SQL type, in table order
LEDGER_SCHEMA: dict[str, str] = dict(
    c.split(":")
    for c in (
        "id:TEXT ts:REAL day:TEXT month:TEXT tenant:TEXT key_id:TEXT requested_model:TEXT model:TEXT task_class:TEXT "
        "priority:TEXT prompt_tokens:REAL completion_tokens:REAL cached:TEXT cost_usd:REAL reserved_usd:REAL "
        "latency_ms:REAL ttft_ms:REAL status:TEXT finish_reason:TEXT stream:REAL billing:TEXT"
    ).split()
)
LEDGER_COLUMNS = tuple(LEDGER_SCHEMA)
_INSERT = f"INSERT OR IGNORE INTO ledger ({', '.join(LEDGER_COLUMNS)}) VALUES ({', '.join('?' * len(LEDGER_COLUMNS))})"


def day_month(ts: float | None = None) -> tuple[str, str]:
    """(YYYY-MM-DD, YYYY-MM) in UTC; formatted once per day (every request asks, twice)."""
    global _DAY
    t = time.time() if ts is None else ts
    day = t // 86400  # POSIX time: every UTC day is 86400 s, so this number changes exactly at 00:00 UTC
    cached = _DAY
    if cached[0] != day:
        g = time.gmtime(t)
        cached = _DAY = (day, (time.strftime("%Y-%m-%d", g), time.strftime("%Y-%m", g)))
    return cached[1]


_DAY: tuple[float, tuple[str, str]] = (float("nan"), ("", ""))


# the ids' own generator, seeded from the OS and re-seeded in a forked child. Never the global ``random``: code
# in the same process may seed it (transformers.set_seed, a test), and a repeated id would make the ledger's
# INSERT OR IGNORE drop a billed row and merge two budget reservations, silently
_ID_RNG = random.Random()
os.register_at_fork(after_in_child=_ID_RNG.seed)


def new_id(bits: int = 96) -> str:
    """A random hex id (``bits`` / 4 digits, ``bits`` a multiple of 8) from the module's own generator (seeded
    from the OS): an id, not a secret. uuid4 is a syscall and ~5 us per call; the gateway made three per
    request."""
    return _ID_RNG.getrandbits(bits).to_bytes(bits // 8, "big").hex()


class Ledger:
    def __init__(self, path: str | Path, batch: int = 256, retry_s: float = 0.5):
        self.path = Path(path)
        self.fallback = self.path.with_name(self.path.name + ".fallback.jsonl")
        self.db = open_sqlite(self.path)
        cols = ", ".join(f"{c} {t}" for c, t in LEDGER_SCHEMA.items())
        self.db.execute(f"CREATE TABLE IF NOT EXISTS ledger ({cols})")
        have = {r[1] for r in self.db.execute("PRAGMA table_info(ledger)")}
        for c, t in LEDGER_SCHEMA.items():  # ledgers written by an older version
            if c not in have:
                self.db.execute(f"ALTER TABLE ledger ADD COLUMN {c} {t}")
        self.db.execute("CREATE INDEX IF NOT EXISTS ledger_day ON ledger(day)")
        self.db.execute("CREATE UNIQUE INDEX IF NOT EXISTS ledger_id ON ledger(id)")
        self._q: queue.Queue = queue.Queue()
        self._batch = batch
        self.retry_s = retry_s
        self._db_lock = threading.Lock()
        self._pending: list[dict] = []  # rows in neither the DB nor the fallback file (writer thread only)
        self._promised = 0  # rows of responses billed and on their way out, not yet recorded (event loop only)
        self.written = 0
        self.fallback_rows = 0  # rows appended to the fallback file by this process
        self.imported = 0  # fallback rows moved into the DB
        self.state = "ok"  # ok | degraded (DB failing, fallback durable) | failing (nothing durable)
        self.last_error: str | None = None
        self._import_fallback()
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, name="costlab-ledger", daemon=True)
        self._t.start()

    # ------------------------------------------------------------------------------------------ writing
    def promise(self) -> None:
        """A response that has been billed will ``record(row, promised=True)`` once it has left (event loop)."""
        self._promised += 1

    def record(self, row: dict, promised: bool = False) -> None:
        row = dict(row)
        if "id" not in row:
            row["id"] = new_id(128)
        if "ts" not in row:
            row["ts"] = time.time()
        if "day" not in row or "month" not in row:
            d, m = day_month(row["ts"])
            row.setdefault("day", d)
            row.setdefault("month", m)
        self._q.put(row)
        if promised:
            self._promised -= 1

    @property
    def failing(self) -> bool:
        return self.state == "failing"

    @property
    def unrecorded(self) -> int:
        """Rows accepted but not yet durable (queued or held after a failed write)."""
        return self._q.qsize() + len(self._pending) + self._promised

    def _run(self) -> None:
        while True:
            try:
                if self._stop.is_set() and self._q.empty() and not self._pending:
                    return
                new: list[dict] = []
                if self._q.empty():
                    # poll instead of blocking on the queue: a blocked reader is woken (and takes the GIL from
                    # the event loop) on every record(); polling batches ~20 ms of rows per wake-up
                    time.sleep(self.retry_s if self._pending else 0.02)
                try:
                    new.append(self._q.get_nowait())
                except queue.Empty:
                    pass
                while new and len(new) < self._batch:
                    try:
                        new.append(self._q.get_nowait())
                    except queue.Empty:
                        break
                rows = self._pending + new
                self._pending = rows  # held until durable
                for _ in new:
                    self._q.task_done()
                if not rows:
                    continue
                try:
                    self._write(rows)
                    self._pending = []
                except Exception as e:  # noqa: BLE001 - keep the rows, retry; never leave this loop
                    self._set_state("failing", f"{type(e).__name__}: {e}")
                    if self._stop.is_set() and self._stop_deadline < time.time():
                        log.error("ledger closing with %d unrecorded row(s): %s", len(self._pending), self.last_error)
                        return
                    time.sleep(self.retry_s)
            except BaseException as e:  # noqa: BLE001 - the writer must survive anything
                log.error("ledger writer error (%s); continuing", e)
                time.sleep(self.retry_s)

    _stop_deadline = float("inf")

    def _set_state(self, state: str, err: str | None = None) -> None:
        if state != self.state:
            (log.error if state == "failing" else log.warning if state == "degraded" else log.info)(
                "ledger %s -> %s%s", self.state, state, f" ({err})" if err else ""
            )
        self.state = state
        if err:
            self.last_error = err

    def _write(self, rows: list[dict]) -> None:
        """DB, else fallback file; raises when neither took the rows."""
        try:
            self._db_insert(rows)
            self.written += len(rows)
            if self.state != "ok" or self.fallback.exists():
                self._import_fallback()
            self._set_state("ok")
            return
        except Exception as e:  # noqa: BLE001
            db_err = f"{type(e).__name__}: {e}"
        with self.fallback.open("a", encoding="utf-8") as f:  # OSError propagates: the caller holds the rows
            f.write("".join(json.dumps(r) + "\n" for r in rows))
            f.flush()
            os.fsync(f.fileno())
        self.fallback_rows += len(rows)
        self._set_state("degraded", f"DB write failed ({db_err}); rows in {self.fallback.name}")

    def _db_insert(self, rows: list[dict]) -> None:
        vals = [tuple(r.get(c) for c in LEDGER_COLUMNS) for r in rows]
        with self._db_lock:
            try:
                self.db.execute("BEGIN")
                self.db.executemany(_INSERT, vals)
                self.db.execute("COMMIT")
            except Exception:
                try:
                    self.db.execute("ROLLBACK")
                except Exception:  # noqa: BLE001
                    pass
                raise

    def _import_fallback(self) -> None:
        """Move the fallback file's rows into the DB (idempotent: row ids are unique)."""
        f = self.fallback
        if not f.exists():
            return
        rows, bad = [], 0
        for line in f.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                r = json.loads(line)
                if isinstance(r, dict) and r.get("id"):
                    rows.append(r)
                    continue
            except json.JSONDecodeError:
                pass
            bad += 1  # a torn last line (crash mid-append)
        if rows:
            self._db_insert(rows)
        self.imported += len(rows)
        f.rename(f.with_name(f"{f.name}.imported-{int(time.time() * 1000)}"))
        log.warning("ledger: imported %d fallback row(s) into the DB (%d unreadable line(s))", len(rows), bad)

    def flush(self, timeout: float = 10.0) -> bool:
        """Block until every recorded row is durable (or timeout). True when nothing is left."""
        end = time.time() + timeout
        while (self._q.unfinished_tasks or self._pending or self._promised) and time.time() < end:
            time.sleep(0.005)
        return not (self._q.unfinished_tasks or self._pending or self._promised)

    def close(self, timeout: float = 5.0) -> None:
        self._stop_deadline = time.time() + timeout
        self._stop.set()
        self._t.join(timeout=timeout + 1)
        with self._db_lock:
            self.db.close()

    def health(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "unrecorded_rows": self.unrecorded,
            "written": self.written,
            "fallback_rows": self.fallback_rows,
            "imported_rows": self.imported,
            "last_error": self.last_error,
        }

    # ------------------------------------------------------------------------------------------ reading
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
        tot = self.query(
            f"SELECT COUNT(*), COALESCE(SUM(cost_usd),0), COALESCE(SUM(prompt_tokens),0), "
            f"COALESCE(SUM(completion_tokens),0), COALESCE(SUM(cached != 'none'),0) FROM ledger {w}",
            tuple(args),
        )[0]
        out["total"] = {
            "requests": tot[0],
            "cost_usd": tot[1],
            "prompt_tokens": int(tot[2]),
            "completion_tokens": int(tot[3]),
            "cached_responses": int(tot[4]),
        }
        for dim in ("model", "key_id", "tenant", "day"):
            rows = self.query(
                f"SELECT {dim}, COUNT(*), COALESCE(SUM(cost_usd),0), COALESCE(SUM(prompt_tokens),0), "
                f"COALESCE(SUM(completion_tokens),0) FROM ledger {w} GROUP BY {dim} ORDER BY {dim}",
                tuple(args),
            )
            out[f"by_{dim}"] = {
                str(r[0]): {
                    "requests": r[1],
                    "cost_usd": r[2],
                    "prompt_tokens": int(r[3]),
                    "completion_tokens": int(r[4]),
                }
                for r in rows
            }
        return out

    def spent_by_scope(self) -> dict[tuple[str, str], float]:
        """(scope, period_id) -> settled spend, to rebuild in-process budget state after a restart."""
        out: dict[tuple[str, str], float] = {}
        d, m = day_month()
        for period, col, pid in (("daily", "day", d), ("monthly", "month", m)):
            for (tot,) in self.query(f"SELECT COALESCE(SUM(cost_usd),0) FROM ledger WHERE {col}=?", (pid,)):
                out[("global", f"{period}:{pid}")] = float(tot)
            for kid, tot in self.query(
                f"SELECT key_id, COALESCE(SUM(cost_usd),0) FROM ledger WHERE {col}=? GROUP BY key_id", (pid,)
            ):
                out[(f"key:{kid}", f"{period}:{pid}")] = float(tot)
        return out
