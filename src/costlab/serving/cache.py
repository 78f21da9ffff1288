"""Exact-match response cache: SQLite (WAL, persistent, TTL, LRU bound) or Redis (shared by replicas).

Key = sha256 of the whole request that determines the answer (``cache_key``). Every backend call
is wrapped by ``SafeCache``: a broken backend (corrupted file, Redis gone) turns the cache into a
pass-through with a warning instead of failing the request.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from costlab.cost.compress import _text  # the one text-extraction helper

log = logging.getLogger("costlab.serving")


def cache_key(
    model: str, priority: str | None, messages: list[dict], params: dict[str, Any], tenant: str | None = None
) -> str:
    """sha256 of everything that determines the answer: model, priority, tenant, every message with every
    content part (images, tool calls, tool results), and every parameter sent upstream (sampling, tools,
    response_format, unknown forwarded ones). The gateway leaves out what does not change the answer
    (stream, stream_options, user, metadata)."""
    blob = json.dumps(
        {"m": model, "p": priority, "t": tenant, "msgs": messages, "o": params},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def open_sqlite(path: str | Path) -> sqlite3.Connection:
    """WAL-mode connection. A file that is not a SQLite DB (corrupted) is moved aside and recreated."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)

    def _open() -> sqlite3.Connection:
        c = sqlite3.connect(str(path), check_same_thread=False, timeout=5.0, isolation_level=None)
        c.execute("PRAGMA journal_mode=WAL")
        c.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across app crashes, no fsync per commit
        c.execute("PRAGMA quick_check").fetchone()
        return c

    try:
        return _open()
    except sqlite3.DatabaseError as e:
        bad = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
        log.warning("sqlite file %s is unreadable (%s); moved aside to %s and starting empty", path, e, bad)
        for suffix in ("", "-wal", "-shm"):
            p = Path(str(path) + suffix)
            if p.exists():
                p.rename(Path(str(bad) + suffix))
        return _open()


class SQLiteExactCache:
    """Reads on the caller's connection (``db``: one indexed SELECT); writes (put, the LRU touch of a hit, expiry
    deletes) queued to a writer thread that commits them in batches, one transaction per batch on its own WAL
    connection: a put on the request path was ~0.3 ms (one transaction each). A put is visible to ``get`` at once
    (``_recent`` until committed). ``flush()`` / ``close()`` wait for the queue; a cache loses at most the last
    ~20 ms of puts in a crash (it is a cache: those requests miss once more). A failed batch is reported by the
    next ``put`` (SafeCache then degrades to pass-through).

    A miss never reaches SQLite: ``_keys`` holds every key the file may hold (read at start, added by ``put``,
    dropped once a committed delete or eviction removed it and no newer put of it is pending), so a key not in it
    is a miss without a query. The SELECT it saves cost ~0.04-0.1 ms on the event loop while the writer commits
    (each commit invalidates the reading connection's page cache; ~5 us on a quiet file), on every request that
    misses (docs/serving.md). The set can only err towards a query that finds nothing, never towards a miss of a
    stored key written by this process. The file belongs to one gateway process (``backend: sqlite``): rows
    another process adds while this one runs are not seen until restart. Memory: the keys, ~15 MB at the default
    100k-entry bound."""

    backend = "sqlite"

    def __init__(self, path: str | Path, max_entries: int = 100_000, batch_s: float = 0.02):
        self.path = Path(path)
        self.max_entries = int(max_entries)
        self.batch_s = batch_s
        self.db = open_sqlite(self.path)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS cache (k TEXT PRIMARY KEY, v TEXT NOT NULL, "
            "created REAL NOT NULL, expires REAL NOT NULL, last_access REAL NOT NULL)"
        )
        self.db.execute("CREATE INDEX IF NOT EXISTS cache_lru ON cache(last_access)")
        self._wdb = open_sqlite(self.path)  # the writer thread's connection
        self._keys: set[str] = {k for (k,) in self.db.execute("SELECT k FROM cache")}  # what the file may hold
        self._n = len(self._keys)
        self._lock = threading.Lock()  # guards _ops/_recent and removals from _keys (never held during SQL)
        self._ops: list[tuple] = []
        self._recent: dict[str, tuple[str, float]] = {}  # put, not yet committed: key -> (json, expires)
        self._busy = False  # the writer holds a batch taken from _ops
        self._wake = threading.Event()
        self._idle = threading.Condition(self._lock)
        self._error: Exception | None = None
        self._closed = False
        self._t = threading.Thread(target=self._run, name="costlab-exact-cache", daemon=True)
        self._t.start()

    def get(self, key: str) -> dict | None:
        now = time.time()
        # the uncommitted put first: the writer drops it from _recent only after its COMMIT, so checked in this
        # order one of the two always holds it (the other order missed when the commit fell between them)
        row = self._recent.get(key)
        if row is None:
            if key not in self._keys:
                return None  # never stored, or deleted and committed: a miss without a query
            row = self.db.execute("SELECT v, expires FROM cache WHERE k=?", (key,)).fetchone()
            if row is None:
                return None
        if row[1] < now:
            self._queue(("del", key))
            return None
        self._queue(("touch", key, now))
        return json.loads(row[0])

    def put(self, key: str, value: dict, ttl_s: float) -> None:
        self.db.total_changes  # noqa: B018 - raises on a closed connection, like the SQL it replaces
        if self._error is not None:
            e, self._error = self._error, None
            raise e
        now = time.time()
        v = json.dumps(value)
        with self._lock:
            self._recent[key] = (v, now + ttl_s)
            self._keys.add(key)
        self._queue(("put", key, v, now, now + ttl_s))

    def _queue(self, op: tuple) -> None:
        with self._lock:
            self._ops.append(op)

    def _run(self) -> None:
        while True:
            # poll: one transaction per ~20 ms of requests. A put never wakes this thread: a woken thread takes the
            # GIL from the event loop in the middle of a request (measured: the miss path ~0.2-0.35 ms faster)
            self._wake.wait(self.batch_s)
            with self._lock:
                self._wake.clear()
                ops, self._ops = self._ops, []
                self._busy = bool(ops)
                closed = self._closed
            gone: dict[str, str | None] = {}  # key -> its put in this batch: keys this batch's commit left absent
            try:
                if ops:
                    gone = self._apply(ops)
            except Exception as e:  # noqa: BLE001 - never leave the thread; the next put reports it
                self._error = e
                log.warning("exact cache write failed (%s: %s); %d op(s) dropped", type(e).__name__, e, len(ops))
            finally:
                with self._lock:
                    for k, v in gone.items():
                        if self._recent.get(k, (v,))[0] is v:  # no newer put of it is pending
                            self._keys.discard(k)
                    for op in ops:
                        if op[0] == "put" and self._recent.get(op[1], (None,))[0] is op[2]:
                            del self._recent[op[1]]
                    self._busy = False
                    self._idle.notify_all()
            if closed:
                return

    def _apply(self, ops: list[tuple]) -> dict[str, str | None]:
        """Run ``ops`` in one transaction. Returns the keys absent after it (deleted or evicted, not put again
        later in the batch), each with the value this batch put for it (None: none)."""
        db = self._wdb
        put: dict[str, str] = {}
        gone: dict[str, str | None] = {}
        db.execute("BEGIN")
        try:
            for op in ops:
                if op[0] == "put":
                    cur = db.execute(
                        "INSERT OR REPLACE INTO cache (k, v, created, expires, last_access) VALUES (?,?,?,?,?)",
                        (op[1], op[2], op[3], op[4], op[3]),
                    )
                    self._n += 1 if cur.rowcount else 0
                    put[op[1]] = op[2]
                    gone.pop(op[1], None)
                elif op[0] == "touch":
                    db.execute("UPDATE cache SET last_access=? WHERE k=?", (op[2], op[1]))
                else:
                    n = db.execute("DELETE FROM cache WHERE k=?", (op[1],)).rowcount
                    self._n -= n
                    if n:
                        gone[op[1]] = put.get(op[1])
                if self._n > self.max_entries:
                    self._n = db.execute("SELECT COUNT(*) FROM cache").fetchone()[0]
                    extra = self._n - self.max_entries
                    if extra > 0:  # evict least recently used (expired rows go first: they are old by definition)
                        evicted = db.execute(
                            "DELETE FROM cache WHERE k IN (SELECT k FROM cache ORDER BY last_access LIMIT ?) "
                            "RETURNING k",
                            (extra,),
                        ).fetchall()
                        gone.update((k, put.get(k)) for (k,) in evicted)
                        self._n -= extra
            db.execute("COMMIT")
            return gone
        except BaseException:
            try:
                db.execute("ROLLBACK")
                self._n = db.execute("SELECT COUNT(*) FROM cache").fetchone()[0]
            except Exception:  # noqa: BLE001 - the connection itself is gone
                pass
            raise

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued write is committed (or timeout)."""
        end = time.monotonic() + timeout
        with self._lock:
            while self._ops or self._busy:
                self._wake.set()
                left = end - time.monotonic()
                if left <= 0 or not self._t.is_alive():
                    return False
                self._idle.wait(min(left, 0.1))
        return True

    def __len__(self) -> int:
        self.flush()
        return self.db.execute("SELECT COUNT(*) FROM cache").fetchone()[0]

    def close(self) -> None:
        self.flush()
        with self._lock:
            self._closed = True
        self._wake.set()
        self._t.join(timeout=5)
        self.db.close()
        self._wdb.close()


def redis_client(url: str, timeout_s: float = 0.5) -> Any:
    """A redis client that fails fast: short socket timeouts and one immediate retry (redis-py's default
    retries with exponential backoff for ~4 s, which would stall every request while Redis is down)."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis.from_url(
        url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s, retry=Retry(NoBackoff(), 1)
    )


class RedisExactCache:
    """Shared across replicas. TTL via SET EX; LRU bound via a sorted set of last-access times."""

    backend = "redis"

    def __init__(self, client: Any, prefix: str = "costlab:cache:", max_entries: int = 100_000):
        self.r = client
        self.prefix = prefix
        self.lru = prefix + "lru"
        self.max_entries = int(max_entries)

    def get(self, key: str) -> dict | None:
        v = self.r.get(self.prefix + key)
        if v is None:
            return None
        self.r.zadd(self.lru, {key: time.time()})
        return json.loads(v)

    def put(self, key: str, value: dict, ttl_s: float) -> None:
        p = self.r.pipeline()
        p.set(self.prefix + key, json.dumps(value), ex=max(1, int(ttl_s)))
        p.zadd(self.lru, {key: time.time()})
        p.zcard(self.lru)
        n = p.execute()[-1]
        if n > self.max_entries:
            old = self.r.zrange(self.lru, 0, n - self.max_entries - 1)
            if old:
                p = self.r.pipeline()
                p.delete(*[self.prefix + (k.decode() if isinstance(k, bytes) else k) for k in old])
                p.zrem(self.lru, *old)
                p.execute()

    def __len__(self) -> int:
        return int(self.r.zcard(self.lru))

    def close(self) -> None:
        pass


class SafeCache:
    """Pass-through on backend errors: get → miss, put → dropped, both with a (rate-limited) warning."""

    def __init__(self, inner: Any, name: str = "exact", cooldown_s: float = 5.0):
        self.inner = inner
        self.name = name
        self.errors = 0
        self._last_warn = 0.0
        self.cooldown_s = cooldown_s  # after a failure, skip the backend this long (no timeout per request)
        self._down_until = 0.0

    def _warn(self, op: str, e: Exception) -> None:
        self.errors += 1
        now = time.time()
        self._down_until = now + self.cooldown_s
        if now - self._last_warn > 5.0:
            self._last_warn = now
            log.warning("%s cache %s failed (%s: %s); serving without cache", self.name, op, type(e).__name__, e)

    def get(self, key: str) -> dict | None:
        if time.time() < self._down_until:
            return None
        try:
            return self.inner.get(key)
        except Exception as e:  # noqa: BLE001 - any backend failure degrades to a miss
            self._warn("get", e)
            return None

    def put(self, key: str, value: dict, ttl_s: float) -> None:
        if time.time() < self._down_until:
            return
        try:
            self.inner.put(key, value, ttl_s)
        except Exception as e:  # noqa: BLE001
            self._warn("put", e)

    def close(self) -> None:
        try:
            self.inner.close()
        except Exception as e:  # noqa: BLE001
            log.warning("%s cache close failed: %s", self.name, e)


def last_user_text(messages: list[dict]) -> str:
    for m in reversed(messages):
        if m.get("role") == "user":
            return _text(m.get("content"))
    return _text(messages[-1].get("content")) if messages else ""


def semantic_text(messages: list[dict]) -> str | None:
    """The text the semantic cache embeds: the last message, when it is a user turn of plain text and no message
    of the request carries non-text content (images, audio, files, tool calls/results). Otherwise None: that
    request is looked up by its exact key only. Everything before the last turn is in the lookup scope."""
    last = messages[-1]
    if last.get("role") != "user":
        return None  # a tool result or an assistant prefill decides the answer: exact match only
    for m in messages:
        if m.get("role") in ("tool", "function") or m.get("tool_calls") or m.get("function_call"):
            return None
        c = m.get("content")
        if isinstance(c, list) and any(p.get("type") != "text" for p in c):
            return None
    return _text(last.get("content"))
