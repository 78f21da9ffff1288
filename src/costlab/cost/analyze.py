"""Request-log cost analysis on DuckDB: streaming, memory flat however long the log.

Inputs: JSONL (.jsonl/.ndjson/.json, optionally .gz), CSV (optionally .gz), Parquet, the gateway's SQLite ledger
(.db/.sqlite/.sqlite3, table ``ledger``), and the exports of LiteLLM (spend logs), OpenAI (organisation usage) and
Langfuse (observations), recognised by their column names (costlab.cost.logsql.FIELD_ALIASES). Readers live in
costlab.cost.logsources, the SQL in costlab.cost.logsql, the report in costlab.cost.analyze_report; this module
runs them (one DuckDB pass per plain JSONL/Parquet file, batch by batch otherwise) and merges.

A row that cannot be used (bad JSON, non-UTF-8, a line longer than the limit, a gzip stream cut short, a
missing/negative/absurd number, an unknown model without a logged cost) is counted under its reason with its line
number; it never stops the run and is never dropped silently.
"""

from __future__ import annotations

import bisect
import heapq
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any, Sequence

from costlab.cost import logsql
from costlab.cost.analyze_report import NB, PROMPT_TRACK_CAP, build_report
from costlab.cost.logsources import (
    MAX_LINE_BYTES,
    BadLine,
    LineIndex,
    count_lines,
    iter_jsonl_lines,
    line_numbers,
    non_utf8,
    open_log,
    read_lines,
)
from costlab.cost.pricing import Pricing, _read_routing
from costlab.errors import CostlabError

TOP_K = 10
# DuckDB's memory cap; past it, it spills to a temp dir (flat memory, paid for in disk I/O on big logs). Measured on
# the fast path's ordered table (1M JSONL rows: 134 MB): with 256 MB DuckDB's ordered insert ran on one thread
# (wall 2.12 s = CPU 2.06 s vs 1.18 s wall at 512 MB); 288 MB keeps it parallel, and 10M rows peak at 390 MB RSS
# (1.47x the 1M run; 617 MB = 2.1x with 512 MB). Inferred from 256 vs 288 MB (not measured further): a table over
# ~half the cap (~1.1M rows of that shape) is written more serially.
MEMORY_LIMIT = "288MB"
MAX_BAD_EXAMPLES = 20  # line numbers shown per reason (all of them go to --bad-rows-out)
DIMS = {
    "model": "model",
    "tenant": "tenant",
    "hour": "hour",
    "task": "task_class",
    "status": "status",
    "cache_kind": "CASE WHEN hit THEN cache_kind END",
    "cost_source": "cost_source",
    "unpriced": "CASE WHEN NOT priced THEN model END",
}


def _line_of(record: int, shifts: Any) -> int:
    """Line number of DuckDB record ``record`` (0-based) given logsources.line_numbers' shift points."""
    return int(record) + 1 + bisect.bisect_right(shifts, int(record))


def default_threads() -> int:
    """DuckDB threads: the CPUs this process may run on (affinity/cgroup-pinned CPUs, not the host's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class CostAnalyzer:
    """Feed files with ``add_file``; read the report with ``report``. O(distinct keys) memory."""

    def __init__(
        self,
        pricing: Pricing,
        whatif_models: Sequence[str] = (),
        routing: Any = None,
        routing_priority: str = "cost",
        default_task_class: str | None = None,
        top_k: int = TOP_K,
        bad_rows_out: Any = None,
        threads: int | None = None,
        memory_limit: str = MEMORY_LIMIT,
    ):
        import duckdb

        self.pricing = pricing
        self.whatif_models = [pricing.api_price(m).name for m in whatif_models]  # unknown → error up front
        self.routing = _read_routing(routing) if routing is not None else None
        self.routing_priority = routing_priority
        self.default_task_class = default_task_class
        if self.routing is not None:
            bad = [f"{t}.{routing_priority}" for t, r in self.routing["routes"].items() if routing_priority not in r]
            if bad:
                raise CostlabError(
                    f"routing table has no '{routing_priority}' route for {bad}", "use --priority cost|quality|speed"
                )
        self.top_k = top_k
        self.bad_rows_out = bad_rows_out
        import tempfile

        self.threads = threads or default_threads()
        self.memory_limit = memory_limit
        self._tmp = tempfile.TemporaryDirectory(prefix="costlab-analyze-")  # DuckDB spills here past memory_limit
        self.con = duckdb.connect(
            config={"threads": self.threads, "memory_limit": memory_limit, "temp_directory": self._tmp.name}
        )
        self.con.execute("SET enable_progress_bar = false")
        self.con.execute(
            "CREATE TABLE prices (model VARCHAR, kind VARCHAR, input DOUBLE, output DOUBLE, "
            "cached_input DOUBLE, batch_discount DOUBLE, near VARCHAR)"
        )
        # text: the prompt (block reader); f, r: its file and line, read back for the few reported (fast path)
        self.con.execute(
            "CREATE TABLE prompts (h UBIGINT PRIMARY KEY, n BIGINT, cost DOUBLE, text VARCHAR, f INTEGER, r BIGINT)"
        )
        self._priced: set[str] = set()
        self.rows_seen = 0
        self.buckets: dict[str, dict[Any, list[float]]] = {d: {} for d in DIMS}
        self.bad: Counter[str] = Counter()
        self._examples: dict[str, list[tuple[tuple[int, int], str]]] = {}  # reason → the first, by (file, line)
        self.top: list[tuple[float, int, dict]] = []
        self.prompt_prunes = 0
        self._seq = 0
        self._files = 0
        self._pending: dict[str, list[int]] = {}  # fast path: reason → example line numbers to explain
        self._pending_top: list[tuple[dict, int]] = []  # fast path: top requests whose prompt is read back by line
        # fast path: file → (path, shifts, index, max line bytes, its _pending, its _pending_top); the lines are read
        # back once per file, when the report is built (``read_back``)
        self._sources: dict[int, tuple[Path, Any, Any, int, dict[str, list[int]], list[tuple[dict, int]]]] = {}
        self._validate = logsql.validate_sql("c")
        self._cost = logsql.cost_sql("t")

    # ---- bad rows
    @property
    def bad_examples(self) -> dict[str, list[str]]:
        return {r: [text for _, text in ex] for r, ex in self._examples.items()}

    def _example(self, reason: str, line: int, text: str, file: int | None = None) -> None:
        """Keep the first MAX_BAD_EXAMPLES examples of a reason in (file, line) order, whatever order they come in
        (the block reader reports a block's undecodable lines before the rows DuckDB rejects in it; a fast-path
        file's examples come when the report is built). ``file``: its index (default: the file being read)."""
        ex = self._examples.setdefault(reason, [])
        key = (self._files if file is None else file, int(line))
        if len(ex) < MAX_BAD_EXAMPLES or key < ex[-1][0]:
            bisect.insort(ex, (key, text))
            del ex[MAX_BAD_EXAMPLES:]

    def bad_row(self, where: str, reason: str, detail: str = "", line: int = 0) -> None:
        self.rows_seen += 1
        self.bad[reason] += 1
        self._example(reason, line, where + (f" ({detail})" if detail else ""))
        if self.bad_rows_out is not None:
            self.bad_rows_out.write(json.dumps({"line": where, "reason": reason, "detail": detail}) + "\n")

    def _insert(self, table: str, rows: list[tuple]) -> None:
        """INSERTs of up to 256 rows each (DuckDB's executemany runs one statement per row: ~1 ms each)."""
        for i in range(0, len(rows), 256):
            part = rows[i : i + 256]
            ph = "(" + ", ".join("?" * len(part[0])) + ")"
            self.con.execute(f"INSERT INTO {table} VALUES {', '.join([ph] * len(part))}", [v for r in part for v in r])

    # ---- prices for the models of a batch
    def _price_models(self, models: list[str]) -> None:
        rows = []
        for m in models:
            self._priced.add(m)
            key = self.pricing.resolve(m)
            p = self.pricing.api.get(key) if key else None
            near = None
            if key is None:
                near = self.pricing._unknown(m, self.pricing.api, "API").what.split("(", 1)[-1].rstrip(")")
            kind = None if key is None else ("api" if p is not None else "self_hosted")
            rows.append(
                (m, kind, *(None,) * 4, near)
                if p is None
                else (m, kind, p.input, p.output, p.cached_input, p.batch_discount, near)
            )
        self._insert("prices", rows)

    # ---- rows: relation 'c' (canonical VARCHAR columns) → validated 't' → priced 'v' → merged aggregates
    def _ingest(self, name: str, table: bool = False) -> None:
        """Validate, price and aggregate the rows of view 'c'. ``table``: materialise in DuckDB (one parallel
        pass over a file; spills to disk past memory_limit) instead of an Arrow batch in Python memory."""
        con = self.con
        if table:
            con.execute(f"CREATE OR REPLACE TEMP TABLE t AS {self._validate}")
        else:
            con.register("t", con.sql(self._validate).to_arrow_table())
        con.execute(f"CREATE OR REPLACE TEMP VIEW v AS {self._cost}")
        try:
            self._aggregate(name, one_pass=table)
        finally:
            con.execute("DROP VIEW v")
            if table:
                con.execute("DROP TABLE t")
            else:
                con.unregister("t")

    def _aggregate(self, name: str, one_pass: bool = False, lines: Any = None) -> None:
        """Merge the rows of relation 't' (validated) and of view 'v' (t priced: prices are loaded here, for the
        models of t's valid rows). ``lines``: v comes from DuckDB's file reader, its ``_line`` is the record
        index, and ``lines`` maps it to a line number (see logsources.line_numbers) — the examples' and the top
        requests' line numbers go to ``self._pending``/``self._pending_top`` for ``_reread``."""
        con = self.con
        native = lines is not None
        n_bad = 0
        # one pass over the rows → two small tables in g1 (GROUPING SETS): per distinct combination of the
        # dimensions other than hour (hundreds of rows), and per (model, hour); each also keyed by what the price
        # terms depend on (hit, is_batch, logged or not), so the rows' tokens are summed before pricing: no price
        # join and no per-row cost here (cost and savings are linear in the summed tokens of such a group; for a
        # row that passed validation, cached <= input tokens, so least(cached, input) sums too). g: the same SQL
        # that prices a row (logsql.cost_sql) prices each group, and drops the groups whose model/batch/logged
        # combination makes them bad rows. The per-dimension buckets are GROUPING SETS over g. (One GROUP BY over
        # all dimensions made 237k groups at 1M rows: 0.83 s CPU vs 0.52; pricing each row first: 0.37-0.53 vs
        # 0.24-0.30 for g1.)
        flat = [d for d in DIMS if d != "hour"]
        keys = "hit, is_batch, logged IS NULL"
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE g1 AS SELECT grouping(hour) AS by_dims, model, tenant, task_class, status, "
            f"cache_kind, hit, is_batch, hour, {logsql.PRE_AGGS} FROM t WHERE _reason IS NULL GROUP BY GROUPING SETS "
            f"((model, tenant, task_class, status, cache_kind, {keys}), (model, hour, {keys}))"
        )
        # the models of the valid rows get their prices before v is read (from g1: no pass of its own over the rows;
        # a row with a bad-row reason is never priced)
        new = [m for (m,) in con.execute("SELECT DISTINCT model FROM g1").fetchall() if m not in self._priced]
        if new:
            self._price_models(new)
        for reason, cnt, ex in con.execute(  # the first examples by line: bounded however many rows are bad
            f"SELECT reason, count(*), min_by({{'l': _line, 'd': detail}}, _line, {MAX_BAD_EXAMPLES}) "
            "FROM v WHERE reason IS NOT NULL GROUP BY reason"
        ).fetchall():
            ex = [(e["l"], e["d"]) for e in ex or []]
            self.bad[reason] += cnt
            n_bad += cnt
            if native:
                self._pending[reason] = [_line_of(r, lines) for r, _ in ex]
                continue
            for ln, det in ex:
                self._example(reason, ln, f"{name}:{ln}" + (f" ({det})" if det is not None else ""))
        if self.bad_rows_out is not None:
            for line, reason, detail in con.execute(
                "SELECT _line, reason, detail FROM v WHERE reason IS NOT NULL ORDER BY _line"
            ).fetchall():
                self.bad_rows_out.write(
                    json.dumps({"line": f"{name}:{line}", "reason": reason, "detail": detail or ""}) + "\n"
                )
        priced = logsql.cost_sql(f"(SELECT *, {logsql.PRE_AGGS_AS_ROW} FROM g1)")
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE g AS SELECT by_dims, {', '.join(f'{e} AS {d}' for d, e in DIMS.items())}, "
            f"{logsql.BUCKET_AGGS_OF_GROUPS} FROM ({priced}) WHERE reason IS NULL "
            f"GROUP BY by_dims, {', '.join(DIMS.values())}"
        )
        con.execute("DROP TABLE g1")
        sums = ", ".join(f"sum(b{i})" for i in range(NB))
        try:
            res = [
                (list(DIMS).index(flat[row[0].index(0)]), row[1 + row[0].index(0)], row[1 + len(flat) :])
                for row in con.execute(
                    f"SELECT [{', '.join(f'grouping({d})' for d in flat)}], {', '.join(flat)}, {sums} FROM g "
                    f"WHERE by_dims = 1 GROUP BY GROUPING SETS ({', '.join(f'({d})' for d in flat)})"
                ).fetchall()
            ]
            hour_i = list(DIMS).index("hour")
            res += [
                (hour_i, row[0], row[1:])
                for row in con.execute(f"SELECT hour, {sums} FROM g WHERE by_dims = 0 GROUP BY hour").fetchall()
            ]
            for dim_i, key, vals in res:
                d = list(DIMS)[dim_i]
                vals = [x or 0 for x in vals]
                if d in ("cache_kind", "unpriced") and key is None:
                    continue
                if d == "hour":  # an hour-truncated TIMESTAMP (formatted here, once per hour, not per row)
                    key = key.strftime("%Y-%m-%dT%H") if key is not None else "(no ts)"
                b = self.buckets[d].get(key)
                if b is None:
                    self.buckets[d][key] = vals
                else:
                    for i in range(NB):
                        b[i] += vals[i]
            n_ok = con.execute("SELECT coalesce(sum(rows_), 0) FROM g WHERE by_dims = 1").fetchall()[0][0]
            self.rows_seen += n_ok + n_bad
        finally:
            con.execute("DROP TABLE g")
        if self.top_k:
            # the fast path's table has no prompt text or raw ts (a third less to write): its top requests have
            # line numbers, and their prompts are read back from those lines (``_reread``)
            cols = "NULL, NULL" if native else "ts_raw, coalesce(prompt, '')"
            for cost, line, model, tenant, tin, tout, ts, prompt in con.execute(
                f"SELECT cost, _line, model, tenant, tin, tout, {cols} FROM v "
                f"WHERE reason IS NULL ORDER BY cost DESC, _line LIMIT {self.top_k}"
            ).fetchall():
                self._seq += 1
                if native:
                    line = _line_of(line, lines)
                where = f"{name}:{line}" if line is not None else f"{name} (ts {ts})"
                item = (
                    cost,
                    -self._seq,
                    {
                        "line": where,
                        "model": model,
                        "tenant": tenant,
                        "cost_usd": cost,
                        "input_tokens": int(tin),
                        "output_tokens": int(tout),
                        "prompt": prompt,
                    },
                )
                if native:
                    self._pending_top.append((item[2], line))
                if len(self.top) < self.top_k:
                    heapq.heappush(self.top, item)
                elif cost > self.top[0][0]:
                    heapq.heapreplace(self.top, item)
        # a whole file (one_pass): only prompts seen twice in it are kept (exact within a file); a batch: all
        having = "HAVING sum(n) > 1 " if one_pass else ""
        if one_pass and self._files > 1:
            self.prompt_prunes += 1  # a prompt seen once in each of two files is not counted
        if native:  # numbers only: the record of each prompt's first row; the text of the few reported is
            # read back from the file (``prompt_texts``; any_value(prompt) copied a string into each of ~540k groups
            # at 1M rows, most of them singletons)
            sql = (
                f"SELECT ph, sum(n), sum(cost), NULL, {self._files}, min(_line) "
                f"FROM v WHERE reason IS NULL AND ph IS NOT NULL GROUP BY ph {having}"
            )
        else:
            sql = (
                "SELECT ph, sum(n), sum(cost), any_value(prompt), NULL, NULL "
                f"FROM v WHERE reason IS NULL AND ph IS NOT NULL GROUP BY ph {having}"
            )
        con.execute(
            f"INSERT INTO prompts {sql} ON CONFLICT (h) DO UPDATE SET n = n + excluded.n, cost = cost + excluded.cost, "
            "text = coalesce(text, excluded.text)"
        )
        if con.execute("SELECT count(*) FROM prompts").fetchall()[0][0] > PROMPT_TRACK_CAP:
            con.execute("DELETE FROM prompts WHERE n = 1")
            self.prompt_prunes += 1

    def _native_jsonl(self, path: Path, max_line_bytes: int) -> bool:
        """One parallel DuckDB pass over a JSONL file; False (nothing merged) if DuckDB cannot read it (a giant
        line): the block reader then takes the file. DuckDB's reader has no line numbers, but it keeps file order
        (the table's rowid is the record index) and reads one record per non-blank line, so a newline count maps
        records to lines; only the lines the report shows (the examples of each bad-row reason, the top requests'
        prompts) are then read back (``_reread``). If the count does not map records to lines (DuckDB read some
        line as two records or none), nothing is merged from this pass and the block reader, which numbers every
        line itself, takes the file."""
        import threading

        import duckdb

        name = path.name
        con = self.con
        # the newline count that maps records to lines (and indexes where lines start) runs in a thread beside
        # DuckDB's read (DuckDB releases the GIL while it runs)
        counted: dict[str, int] = {}
        index = LineIndex()
        counter = threading.Thread(target=lambda: counted.setdefault("n", count_lines(path, index)), daemon=True)
        counter.start()
        con.execute(f"CREATE OR REPLACE TEMP VIEW c AS {logsql.native_select(str(path))}")
        try:  # the table keeps what the aggregates need: not the prompt text, the raw ts, the (NULL) line number
            # or the detail (the examples' lines are re-read): each column written costs, even an all-NULL one
            con.execute(
                "CREATE OR REPLACE TEMP TABLE t AS SELECT * EXCLUDE (prompt, ts_raw, _line, _detail) "
                f"REPLACE (CASE WHEN hit THEN cache_kind END AS cache_kind) FROM ({self._validate})"
            )
        except duckdb.Error:
            counter.join()
            return False
        counter.join()
        rows = con.execute("SELECT count(*) FROM t").fetchall()[0][0]
        lines = line_numbers(path, rows, max_line_bytes, counted.get("n"))
        if lines is None:
            con.execute("DROP TABLE t")
            self._feed_blocks(path, "jsonl", max_line_bytes=max_line_bytes)
            return True
        # (joining prices inside the CTAS above, to cost each row once, was tried: the join lost file order, so
        # rowid no longer named the record — the top requests moved to other lines)
        con.execute(f"CREATE OR REPLACE TEMP VIEW v AS {logsql.cost_sql('t', line='t.rowid')}")
        self._pending = {}
        self._pending_top = []
        try:
            self._aggregate(name, one_pass=True, lines=lines)
        finally:
            con.execute("DROP VIEW v")
            con.execute("DROP TABLE t")
        self._sources[self._files] = (path, lines, index, max_line_bytes, self._pending, self._pending_top)
        return True

    def _reread(
        self, path: Path, wanted: list[int], max_line_bytes: int, index: Any = None
    ) -> dict[int, tuple[str | None, str | None]]:
        """(bad-row detail, prompt) of these lines, read back from the file and put through the block path's own
        SQL, so both paths word an example (and cut a prompt) the same way."""
        out: dict[int, tuple[str | None, str | None]] = {}
        sql = logsql.cost_sql(f"({logsql.validate_sql(f'({logsql.json_select()})')})")

        def details():  # line -> (detail, prompt) of the lines in relation 'b', through that SQL
            return (
                (ln, (d, p)) for ln, d, p in self.con.execute(f"SELECT _line, detail, prompt FROM ({sql})").fetchall()
            )

        raw = read_lines(path, wanted, max_line_bytes, index)
        if raw is None:  # an over-long line on the way: the streaming block reader (numpy, pyarrow)
            for item in iter_jsonl_lines(path, wanted, max_line_bytes):
                if isinstance(item, BadLine):
                    out[item.line] = (item.detail, None)
                    continue
                self.con.register("b", item)
                try:
                    out.update(details())
                finally:
                    self.con.unregister("b")
            return out
        rows = []  # a few lines: decoded here exactly as logsources._utf8_lines does, then the same SQL
        for ln, b in raw.items():
            try:
                rows.append((ln, b.decode("utf-8") + "\n"))
            except UnicodeDecodeError as e:
                out[ln] = (non_utf8(b[e.start], e.start + 1), None)
        if rows:
            self.con.execute("CREATE OR REPLACE TEMP TABLE b (_line BIGINT, line VARCHAR)")
            try:
                self._insert("b", rows)
                out.update(details())
            finally:
                self.con.execute("DROP TABLE b")
        return out

    def read_back(self, where: list[tuple[int, int]]) -> dict[tuple[int, int], str | None]:
        """Read back, in one pass per fast-path file, every line the report shows from it: its bad-row examples
        (their details), its top requests' prompts, and the prompts at these (file, record) places (the reported
        repeated prompts), which are returned. Called once, by the report (analyze_report.build_report)."""
        out: dict[tuple[int, int], str | None] = {}
        by_file: dict[int, list[int]] = {}
        for f, r in where:
            by_file.setdefault(f, []).append(r)
        in_top = {id(x[2]) for x in self.top}
        for f, (path, shifts, index, max_line_bytes, pending, pending_top) in self._sources.items():
            recs = by_file.get(f, [])
            top = [(item, ln) for item, ln in pending_top if id(item) in in_top]
            wanted = [ln for v in pending.values() for ln in v] + [ln for _, ln in top]
            wanted += [_line_of(r, shifts) for r in recs]
            got = self._reread(path, sorted(set(wanted)), max_line_bytes, index) if wanted else {}
            for reason, lns in pending.items():
                for ln in lns:
                    det = got.get(ln, (None, None))[0]
                    self._example(reason, ln, f"{path.name}:{ln}" + (f" ({det})" if det is not None else ""), f)
            for item, ln in top:
                item["prompt"] = got.get(ln, (None, None))[1] or ""
            for r in recs:
                out[(f, r)] = got.get(_line_of(r, shifts), (None, None))[1]
        self._sources = {f: (*v[:4], {}, []) for f, v in self._sources.items()}  # read back once
        return out

    def _feed_blocks(
        self,
        path: Path,
        fmt: str,
        it: Any = None,
        table: str = "ledger",
        max_line_bytes: int = MAX_LINE_BYTES,
        progress: Any = None,
    ) -> None:
        con = self.con
        name = path.name
        if it is None:
            fmt, it = open_log(path, table, max_line_bytes)
        select_for: dict[tuple[str, ...], str] = {}
        for item in it:
            if isinstance(item, BadLine):
                self.bad_row(f"{name}:{item.line}", item.reason, item.detail, item.line)
                continue
            con.register("b", item)
            if fmt == "jsonl":
                sql = logsql.json_select()
            else:
                cols = tuple(item.schema.names[1:])
                sql = select_for.get(cols) or select_for.setdefault(cols, logsql.table_select(cols))
            con.execute(f"CREATE OR REPLACE TEMP VIEW c AS {sql}")
            self._ingest(name)
            con.unregister("b")
            if progress is not None:
                progress.update(item.num_rows)

    def add_file(
        self,
        path: str | Path,
        table: str = "ledger",
        max_line_bytes: int = MAX_LINE_BYTES,
        progress: Any = None,
        native: bool = True,
    ) -> None:
        path = Path(path)
        name = path.name
        fmt, it = open_log(path, table, max_line_bytes)
        con = self.con
        self._files += 1
        if fmt == "parquet":
            import duckdb

            try:
                cols = [r[0] for r in con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()]
            except duckdb.Error as e:  # the whole file is unreadable: one bad row naming it, the run goes on
                self.bad_row(f"{name}:0", "unreadable Parquet file", str(e).splitlines()[0][:120])
                return
            src = (
                f"(SELECT file_row_number + 1 AS _line, * FROM "
                f"read_parquet({logsql._q(str(path))}, file_row_number = true))"
            )
            con.execute(f"CREATE OR REPLACE TEMP VIEW c AS {logsql.table_select(cols, src)}")
            self._ingest(name, table=True)
            return
        # DuckDB's parallel reader for plain JSONL; gzip goes through the block reader, which tells a cut or
        # corrupt stream apart (DuckDB reads some corrupt gzip members as garbage lines)
        if (
            fmt == "jsonl"
            and native
            and path.suffix != ".gz"
            and self.bad_rows_out is None
            and self._native_jsonl(path, max_line_bytes)
        ):
            return
        self._feed_blocks(path, fmt, it, table, max_line_bytes, progress)

    # ---- report (costlab.cost.analyze_report)
    def report(self) -> dict[str, Any]:
        return build_report(self)


def analyze_logs(
    paths: Sequence[str | Path],
    pricing: Pricing,
    *,
    whatif_models: Sequence[str] = (),
    routing: Any = None,
    routing_priority: str = "cost",
    default_task_class: str | None = None,
    top_k: int = TOP_K,
    table: str = "ledger",
    bad_rows_out: str | Path | None = None,
    progress: bool = False,
    threads: int | None = None,
    max_line_bytes: int = MAX_LINE_BYTES,
    native: bool = True,
) -> dict[str, Any]:
    """Stream every log in ``paths`` through one CostAnalyzer and return its report. ``native=False`` reads JSONL
    with the block reader too (it numbers every line itself; slower than DuckDB's parallel reader, same report)."""
    if not paths:
        raise CostlabError("no log files given", "costlab analyze LOG [LOG ...]")
    fh = open(bad_rows_out, "w", encoding="utf-8") if bad_rows_out else None
    try:
        an = CostAnalyzer(pricing, whatif_models, routing, routing_priority, default_task_class, top_k, fh, threads)
        for p in paths:
            bar = None
            if progress:
                from tqdm import tqdm

                bar = tqdm(desc=Path(p).name, unit=" rows", mininterval=1.0, unit_scale=True)
            try:
                an.add_file(p, table, max_line_bytes, bar, native)
            finally:
                if bar is not None:
                    bar.close()
        rep = an.report()
    finally:
        if fh:
            fh.close()
    rep["files"] = [str(p) for p in paths]
    if rep["rows"] == 0:
        raise CostlabError(
            f"empty log: no rows in {', '.join(map(str, paths))}", "point costlab analyze at a log with requests"
        )
    if rep["rows_ok"] == 0:
        reasons = "; ".join(
            f"{r}: {v['count']} (e.g. {', '.join(v['examples'][:3])})" for r, v in rep["bad_rows"].items()
        )
        raise CostlabError(
            f"no usable rows: all {rep['rows']} rows were bad — {reasons}",
            "fix the columns (see docs/cost-tooling.md) or the pricing table",
        )
    return rep


__all__ = ["CostAnalyzer", "analyze_logs"]
