"""Readers for request logs: each yields Arrow record batches (numbered rows) and the rows it could not read.

A reader never stops on bad input and never drops a row silently. What it cannot turn into a row it reports as
``BadLine(line, reason, detail)``; ``costlab analyze`` counts those per reason next to the rows DuckDB rejects.

- JSONL (.jsonl/.ndjson/.json, optionally .gz): read in blocks of bytes, split into lines with numpy (no per-line
  Python work), checked for UTF-8 per block; DuckDB parses the JSON. A line longer than ``max_line_bytes`` is
  skipped *while streaming* (a 2 GB line never sits in memory) and reported as unreadable ("line too long"); a gzip stream that
  ends early is reported as "truncated gzip" after every complete line before the cut was read.
- CSV (optionally .gz): the same line reader feeds Python's csv module (quoted newlines work).
- Parquet: DuckDB reads it directly (row numbers from ``file_row_number``).
- SQLite (the gateway's ledger, table ``ledger``): read in pages through sqlite3.

Exports of other tools are recognised by their documented column names (``FIELD_ALIASES`` in costlab.cost.logsql):
LiteLLM's spend logs (``LiteLLM_SpendLogs``: spend, startTime, user, cache_hit, ...), OpenAI's organisation usage
export (``input_tokens``, ``input_cached_tokens``, ``num_model_requests``, ``start_time``, ``project_id``) and Langfuse
observation exports (``startTime``, ``usageDetails``/``usage``, ``costDetails``/``calculatedTotalCost``, ``latency`` in
seconds).
"""

from __future__ import annotations

import bisect
import csv
import gzip
import sqlite3
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator, Sequence

from costlab.cost.logsql import UNREADABLE
from costlab.errors import CostlabError

if TYPE_CHECKING:  # numpy and pyarrow are imported where used: the fast path needs neither (~0.3 s of start-up)
    import numpy as np
    import pyarrow as pa

BLOCK_BYTES = 8 << 20  # bytes read per block: one Arrow batch of ~25k typical log lines
MAX_LINE_BYTES = 16 << 20  # a longer line is skipped and reported (no request log line is this long)
CSV_BATCH_ROWS = 50_000
BOM = b"\xef\xbb\xbf"


def non_utf8(byte: int, column: int) -> str:
    """The bad-row detail of an undecodable line (every reader words it the same way)."""
    return f"non-UTF-8: byte 0x{byte:02x} at column {column}"


@dataclass(frozen=True)
class BadLine:
    line: int
    reason: str
    detail: str = ""


def log_format(path: Path) -> str:
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if name.endswith(".csv"):
        return "csv"
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith((".db", ".sqlite", ".sqlite3")):
        return "sqlite"
    raise CostlabError(
        f"{path}: unknown log format (extension '{path.suffix}')",
        "use .jsonl/.ndjson, .csv (optionally .gz), .parquet or the gateway ledger .db/.sqlite",
    )


# ------------------------------------------------------------------------------------------------ line reader
def iter_line_blocks(
    path: Path, max_line_bytes: int = MAX_LINE_BYTES, block_bytes: int = BLOCK_BYTES
) -> Iterator[tuple[int, bytes, np.ndarray] | BadLine]:
    """Yield ``(first_line_no, block, starts)`` — ``block`` holds whole lines, ``starts`` their byte offsets plus a
    final end offset — or ``BadLine`` for a line that is too long or a stream that breaks. Memory: O(block +
    max_line_bytes) whatever the file holds."""
    import numpy as np

    raw = gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")
    line_no = 1
    carry = b""
    skipping = 0  # > 0: inside an over-long line, this many bytes so far
    try:
        broken: BadLine | None = None
        while broken is None:
            parts, got = [], 0
            while got < block_bytes:  # read1: what was decompressed before a cut is kept
                try:
                    c = raw.read1(min(1 << 20, block_bytes - got))
                except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as e:
                    kind = "truncated gzip" if isinstance(e, EOFError) else "corrupt gzip"
                    broken = BadLine(0, kind, str(e)[:80])
                    break
                if not c:
                    break
                parts.append(c)
                got += len(c)
            chunk = b"".join(parts)
            if not chunk:
                break
            if line_no == 1 and not carry and not skipping and chunk.startswith(BOM):
                chunk = chunk[len(BOM) :]  # a UTF-8 byte-order mark (Windows exports): not part of line 1
            if skipping:
                nl = chunk.find(b"\n")
                if nl < 0:
                    skipping += len(chunk)
                    continue
                yield BadLine(line_no, UNREADABLE, f"line too long: {skipping + nl:,} bytes > {max_line_bytes:,}")
                line_no += 1
                skipping = 0
                chunk = chunk[nl + 1 :]
            buf = carry + chunk if carry else chunk
            last = buf.rfind(b"\n")
            if last < 0:
                if len(buf) > max_line_bytes:
                    skipping, carry = len(buf), b""
                else:
                    carry = buf
                continue
            body, carry = buf[: last + 1], buf[last + 1 :]
            if len(carry) > max_line_bytes:
                skipping, carry = len(carry), b""
            arr = np.frombuffer(body, np.uint8)
            ends = np.flatnonzero(arr == 10) + 1
            starts = np.concatenate(([0], ends)).astype(np.int32 if len(body) < 2**31 else np.int64)
            long = np.flatnonzero(np.diff(starts) > max_line_bytes + 1)
            for i in long:  # rare: an over-long line that fit inside one block
                yield BadLine(line_no + int(i), UNREADABLE, f"line too long: {int(starts[i + 1] - starts[i]):,} bytes")
            yield line_no, body, starts
            line_no += len(ends)
        if broken is not None:  # the line the stream broke in (and everything after it) is lost: say where
            yield BadLine(line_no, broken.reason, f"stream ends inside line {line_no}: {broken.detail}")
        elif skipping:
            yield BadLine(
                line_no, UNREADABLE, f"line too long: {skipping:,} bytes > {max_line_bytes:,} (no final newline)"
            )
        elif carry:  # last line without a newline
            yield line_no, carry + b"\n", np.array([0, len(carry) + 1], np.int32)
    finally:
        raw.close()


def _utf8_lines(
    first: int, body: bytes, starts: np.ndarray, max_line_bytes: int, line_nos: np.ndarray | None = None
) -> tuple[pa.RecordBatch, list[BadLine]]:
    """One block → batch (line_no, line) of its valid UTF-8 lines; undecodable or over-long lines → BadLine.
    Line ``i`` of the block is line ``first + i`` of the file, or ``line_nos[i]`` when given."""
    import numpy as np
    import pyarrow as pa

    n = len(starts) - 1
    if line_nos is None:
        line_nos = first + np.arange(n, dtype=np.int64)
    bad: list[BadLine] = []
    keep = np.diff(starts) <= max_line_bytes + 1
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as e:
        pos = e.start
        while True:  # mark the line holding each bad byte, then re-check from the next line
            i = int(np.searchsorted(starts, pos, side="right")) - 1
            if keep[i]:
                keep[i] = False
                bad.append(
                    BadLine(
                        int(line_nos[i]),
                        UNREADABLE,
                        non_utf8(body[pos], pos - starts[i] + 1),
                    )
                )
            nxt = int(starts[i + 1])
            try:
                body[nxt:].decode("utf-8")
                break
            except UnicodeDecodeError as e2:
                pos = nxt + e2.start
    idx = np.flatnonzero(keep)
    if len(idx) == n:
        offs = pa.py_buffer(starts.astype(np.int32 if starts[-1] < 2**31 else np.int64))
        typ = pa.string() if starts[-1] < 2**31 else pa.large_string()
        lines = pa.Array.from_buffers(typ, n, [None, offs, pa.py_buffer(body)])
    else:
        mv = memoryview(body)
        lines = pa.array([mv[starts[i] : starts[i + 1]].tobytes().decode("utf-8") for i in idx], pa.string())
    nos = pa.array(line_nos[idx], pa.int64())
    return pa.RecordBatch.from_arrays([nos, lines], names=["_line", "line"]), bad


def iter_jsonl(path: Path, max_line_bytes: int = MAX_LINE_BYTES) -> Iterator[pa.RecordBatch | BadLine]:
    for item in iter_line_blocks(path, max_line_bytes):
        if isinstance(item, BadLine):
            yield item
            continue
        batch, bad = _utf8_lines(*item, max_line_bytes)
        yield from bad
        yield batch


def iter_jsonl_lines(
    path: Path, wanted: Iterable[int], max_line_bytes: int = MAX_LINE_BYTES
) -> Iterator[pa.RecordBatch | BadLine]:
    """Like ``iter_jsonl``, but only the lines numbered in ``wanted`` (read in order; stops after the last one)."""
    import numpy as np

    want = np.array(sorted(set(wanted)), np.int64)
    if not len(want):
        return
    for item in iter_line_blocks(path, max_line_bytes):
        if isinstance(item, BadLine):
            if item.line in want:
                yield item
            if item.line > want[-1]:
                return
            continue
        first, body, starts = item
        n = len(starts) - 1
        sel = want[(want >= first) & (want < first + n)]
        if len(sel):
            idx = sel - first
            parts = [body[starts[i] : starts[i + 1]] for i in idx]
            sub_starts = np.concatenate(([0], np.cumsum([len(x) for x in parts]))).astype(np.int64)
            batch, bad = _utf8_lines(0, b"".join(parts), sub_starts, max_line_bytes, sel)
            yield from bad
            yield batch
        if first + n > want[-1]:
            return


def read_lines(
    path: Path, wanted: Iterable[int], max_line_bytes: int = MAX_LINE_BYTES, index: LineIndex | None = None
) -> dict[int, bytes] | None:
    """The bytes of the lines numbered in ``wanted`` (no newline; a leading UTF-8 byte-order mark dropped, as
    ``iter_line_blocks`` does), read in blocks that are only counted until one holds a wanted line: no numpy or
    pyarrow (their import is ~0.3 s of a 1M-row fast-path run). None if a line on the way is longer than
    ``max_line_bytes``: the caller then takes ``iter_jsonl_lines``, which streams past such lines. ``index`` (from
    ``count_lines``): seek to each wanted line instead (None only if a wanted line is over-long)."""
    want = sorted(set(wanted))
    if index is not None:
        return _read_lines_indexed(path, want, index, max_line_bytes)
    out: dict[int, bytes] = {}
    k, line_no, carry = 0, 1, b""
    with path.open("rb") as f:
        while k < len(want):
            chunk = f.read(BLOCK_BYTES)
            if not chunk:  # a last line without a newline
                if carry and want[k] == line_no:
                    out[line_no] = carry
                break
            buf = carry + chunk if carry else chunk
            last = buf.rfind(b"\n")
            n = buf.count(b"\n", 0, last + 1)
            if want[k] < line_no + n:  # this block ends a wanted line: split it
                for i, line in enumerate(buf[: last + 1].split(b"\n")[:-1]):
                    if line_no + i == want[k]:
                        out[want[k]] = line
                        k += 1
                        if k == len(want):
                            break
                    elif line_no + i > want[k]:
                        break
                    if len(line) > max_line_bytes:
                        return None
            line_no += n
            carry = buf[last + 1 :]
            if k < len(want) and len(carry) > max_line_bytes:
                return None
    if 1 in out and out[1].startswith(BOM):
        out[1] = out[1][len(BOM) :]
    return None if any(len(v) > max_line_bytes for v in out.values()) else out


INDEX_BYTES = 256 << 10  # a LineIndex entry per this many bytes: a wanted line is found by scanning at most this much


class LineIndex:
    """Where lines start, coarsely: for every INDEX_BYTES of a file, the newlines before that byte offset. Built by
    ``count_lines`` in the pass it makes anyway; ``read_lines`` then seeks to a wanted line instead of scanning the
    file up to it (the fast path re-reads the top requests' lines, which can sit anywhere)."""

    def __init__(self) -> None:
        self.newlines: list[int] = []  # newlines before offsets[i]
        self.offsets: list[int] = []

    def add(self, newlines: int, offset: int) -> None:
        self.newlines.append(newlines)
        self.offsets.append(offset)


def count_lines(path: Path, index: LineIndex | None = None) -> int:
    """Lines in a file (a last line without a newline counts): ``bytes.count`` passes, no per-line work. The fast
    path runs it in a thread while DuckDB reads the file (DuckDB releases the GIL). ``index``: filled as it goes."""
    lines, last, offset = 0, b"\n", 0
    with path.open("rb") as f:
        while chunk := f.read(BLOCK_BYTES):
            if index is None:
                lines += chunk.count(b"\n")
            else:
                for s in range(0, len(chunk), INDEX_BYTES):
                    index.add(lines, offset + s)
                    lines += chunk.count(b"\n", s, s + INDEX_BYTES)
            offset += len(chunk)
            last = chunk[-1:]
    return lines + (last != b"\n")


def _read_lines_indexed(path: Path, want: list[int], index: LineIndex, max_line_bytes: int) -> dict[int, bytes] | None:
    """``read_lines`` with a LineIndex: per wanted line, one seek and at most INDEX_BYTES scanned to its start."""
    out: dict[int, bytes] = {}
    with path.open("rb") as f:
        for line_no in want:
            k = line_no - 1  # newlines before the line's first byte
            start = 0
            if k > 0:
                j = bisect.bisect_left(index.newlines, k) - 1  # the k-th newline lies in entry j's span
                if j < 0:
                    continue
                f.seek(index.offsets[j])
                buf = f.read(INDEX_BYTES)
                pos = -1
                for _ in range(k - index.newlines[j]):
                    pos = buf.find(b"\n", pos + 1)
                    if pos < 0:
                        break
                if pos < 0:  # past the end of the file
                    continue
                start = index.offsets[j] + pos + 1
            f.seek(start)
            line = f.readline(max_line_bytes + 2)
            if not line:
                continue
            if line.endswith(b"\n"):
                line = line[:-1]
            if len(line) > max_line_bytes:
                return None
            out[line_no] = line
    if 1 in out and out[1].startswith(BOM):
        out[1] = out[1][len(BOM) :]
    return out


def line_numbers(
    path: Path, rows: int, max_line_bytes: int = MAX_LINE_BYTES, lines: int | None = None
) -> Sequence[int] | None:
    """Map the record index of DuckDB's JSONL reader (in file order; one record per non-blank line, blank lines
    skipped) to line numbers: returns the sorted "shift points" K (line of record r = r + 1 + #{k in K: k <= r}),
    or None if ``rows`` does not match the file's non-blank line count (then no mapping is claimed).
    Cost: one ``bytes.count`` pass over the file (``lines``: its result, if already counted); a blank-line scan
    only if the counts differ."""
    if lines is None:
        lines = count_lines(path)
    if lines == rows:
        return []
    import numpy as np

    blanks = []
    for item in iter_line_blocks(path, max_line_bytes):
        if isinstance(item, BadLine):
            continue
        first, body, starts = item
        heads = np.frombuffer(body, np.uint8)[starts[:-1]]
        for i in np.flatnonzero(np.isin(heads, (32, 9, 13, 10))):  # candidates: lines that start with whitespace
            if not body[starts[i] : starts[i + 1]].strip(b" \t\r\n"):
                blanks.append(first + int(i))
    if lines - len(blanks) != rows:
        return None
    return [b - i for i, b in enumerate(blanks, 1)]


# --------------------------------------------------------------------------------------------------- tabular
def _batch(cols: list[str], line_nos: list[int], rows: list[list[str]]) -> pa.RecordBatch:
    import pyarrow as pa

    arrays = [pa.array(line_nos, pa.int64())]
    for j in range(len(cols)):
        arrays.append(pa.array([r[j] if j < len(r) else None for r in rows], pa.string()))
    return pa.RecordBatch.from_arrays(arrays, names=["_line", *cols])


def iter_csv(path: Path, max_line_bytes: int = MAX_LINE_BYTES) -> Iterator[pa.RecordBatch | BadLine]:
    bad: list[BadLine] = []
    state = {"line": 0}

    def lines() -> Iterator[str]:
        for item in iter_line_blocks(path, max_line_bytes):
            if isinstance(item, BadLine):
                bad.append(item)
                continue
            first, body, starts = item
            for i in range(len(starts) - 1):
                state["line"] = first + i
                b = body[starts[i] : starts[i + 1]]
                try:
                    yield b.decode("utf-8")
                except UnicodeDecodeError as e:
                    bad.append(BadLine(first + i, UNREADABLE, non_utf8(b[e.start], e.start + 1)))

    reader = csv.reader(lines())
    header: list[str] | None = None
    line_nos: list[int] = []
    rows: list[list[str]] = []
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            bad.append(BadLine(state["line"], "bad CSV row", str(e)[:80]))
            continue
        if bad:
            yield from bad
            bad.clear()
        if header is None:
            header = [h.strip() for h in row]
            continue
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) > len(header):
            yield BadLine(state["line"], "too many CSV cells", f"{len(row)} cells, {len(header)} columns")
            continue
        line_nos.append(state["line"])
        rows.append(row)
        if len(rows) >= CSV_BATCH_ROWS:
            yield _batch(header, line_nos, rows)
            line_nos, rows = [], []
    yield from bad
    if header is not None and rows:
        yield _batch(header, line_nos, rows)


def iter_sqlite(path: Path, table: str = "ledger", page: int = 50_000) -> Iterator[pa.RecordBatch | BadLine]:
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as e:
        raise CostlabError(f"{path}: cannot open as SQLite ({e})") from e
    try:
        tables = [t for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        if table not in tables:
            raise CostlabError(
                f"{path}: no table '{table}' (tables: {', '.join(tables) or 'none'})",
                "pass --table NAME for the ledger table",
            )
        cur = con.execute(f'SELECT rowid AS _rowid, * FROM "{table}"')
        cols = [d[0] for d in cur.description][1:]
        while True:
            recs = cur.fetchmany(page)
            if not recs:
                break
            rows = [[None if v is None else str(v) for v in r[1:]] for r in recs]
            yield _batch(cols, [int(r[0]) for r in recs], rows)
    except sqlite3.DatabaseError as e:
        raise CostlabError(f"{path}: not a readable SQLite database ({e})") from e
    finally:
        con.close()


def open_log(
    path: str | Path, table: str = "ledger", max_line_bytes: int = MAX_LINE_BYTES
) -> tuple[str, Iterator[pa.RecordBatch | BadLine] | None]:
    """(format, iterator of batches/bad lines); Parquet returns None (DuckDB reads the file itself)."""
    path = Path(path)
    if not path.exists():
        raise CostlabError(f"log file not found: {path}")
    fmt = log_format(path)
    if fmt == "jsonl":
        return fmt, iter_jsonl(path, max_line_bytes)
    if fmt == "csv":
        return fmt, iter_csv(path, max_line_bytes)
    if fmt == "sqlite":
        return fmt, iter_sqlite(path, table)
    return fmt, None
