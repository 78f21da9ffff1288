"""costlab analyze: DuckDB's parallel reader (the fast path) and the block reader (the fallback) give the same report.

The fast path gets line numbers from DuckDB's ordered reader plus a newline count (blank lines shift them), and
re-reads only the example lines of each bad-row reason; these tests pin that it names the same lines, with the
same details, as the block reader that numbers every line itself.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from costlab.cost.analyze import analyze_logs
from costlab.cost.logsources import iter_jsonl_lines, line_numbers
from costlab.cost.pricing import load_pricing

GOOD = {"ts": "2025-06-01T10:00:00Z", "model": "gpt-4o", "prompt_tokens": 1000, "completion_tokens": 500}


def _log(path, blank_lines: bool) -> None:
    rows = []
    for i in range(60):
        r = dict(GOOD, prompt=f"p{i % 7}", tenant=f"t{i % 3}", completion_tokens=500 + i)
        if i % 10 == 0:
            r["ts"] = "2025-06-01T12:00:00+02:00"
        if i % 11 == 0:
            r["cached"] = True
        rows.append(json.dumps(r).encode())
    bad = [
        b"{not json",
        b"[1, 2]",
        b'{"model": "gpt-4o", "prompt": "caf\xe9", "prompt_tokens": 1, "completion_tokens": 1}',
        json.dumps({"model": "gpt-4o", "prompt_tokens": -5, "completion_tokens": 1}).encode(),
        json.dumps({"model": "gpt-9", "prompt_tokens": 5, "completion_tokens": 1}).encode(),
        json.dumps({"model": "gpt-4o", "prompt_tokens": 5, "completion_tokens": 1, "cost_usd": 1e7}).encode(),
        json.dumps({"model": "gpt-4o", "prompt_tokens": 5, "completion_tokens": 1, "cost_usd": -1e-7}).encode(),
        json.dumps({"model": "gpt-4o", "prompt_tokens": 5, "completion_tokens": 1, "ts": "yesterday"}).encode(),
        json.dumps({"event": "login", "user": "bob"}).encode(),
        b'{"model": "gpt-4o"}{"model": "gpt-4o"}',
        json.dumps({"model": "gpt-4o", "prompt_tokens": 5.5, "completion_tokens": 1, "cached": "maybe"}).encode(),
    ]
    out = []
    for i, r in enumerate(rows):
        out.append(r)
        if i % 5 == 2:
            out.append(bad[(i // 5) % len(bad)])
        if blank_lines and i % 9 == 4:
            out.extend([b"", b"  \t", b""])  # blank and whitespace-only lines: no row in either reader
    path.write_bytes(b"\n".join(out) + (b"\n" if blank_lines else b""))  # and a last line without a newline


@pytest.mark.parametrize("blank_lines", [False, True], ids=["dense", "blank-lines"])
def test_fast_path_and_fallback_give_the_same_report(tmp_path, blank_lines):
    p = tmp_path / "log.jsonl"
    _log(p, blank_lines)
    fast = analyze_logs([p], load_pricing(), whatif_models=["gpt-4o-mini"], native=True)
    slow = analyze_logs([p], load_pricing(), whatif_models=["gpt-4o-mini"], native=False)
    assert fast["rows_bad"] > 10 and len(fast["bad_rows"]) >= 8
    assert fast["bad_rows"] == slow["bad_rows"]  # counts, line numbers and details
    assert fast["top_requests"] == slow["top_requests"]
    for k in slow:
        if k not in ("bad_rows", "top_requests"):
            assert fast[k] == pytest.approx(slow[k]) if isinstance(slow[k], float) else _close(fast[k], slow[k]), k


def _close(a, b) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return a == pytest.approx(b, rel=1e-9)
    return a == b


def test_line_numbers_shift_past_blank_lines(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_bytes(b'{"a":1}\n\n{"a":2}\n \n\n{"a":3}\n{"a":4}')  # records on lines 1, 3, 6, 7
    k = line_numbers(p, 4)
    assert [int(r) + 1 + int(np.searchsorted(k, r, side="right")) for r in range(4)] == [1, 3, 6, 7]
    assert line_numbers(p, 5) is None  # the reader's count disagrees: no mapping is claimed
    q = tmp_path / "y.jsonl"
    q.write_bytes(b'{"a":1}\n{"a":2}\n')
    assert len(line_numbers(q, 2)) == 0


def test_iter_jsonl_lines_reads_only_the_wanted_lines(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_bytes(b"".join(f'{{"n": {i}}}\n'.encode() for i in range(1, 101)) + b'{"n": "\xff"}\n')
    got = list(iter_jsonl_lines(p, [3, 50, 101]))
    batches = [g for g in got if hasattr(g, "num_rows")]
    assert [b for b in got if not hasattr(b, "num_rows")][
        0
    ].line == 101  # non-UTF-8: a BadLine, same as the block reader
    assert sum(b.num_rows for b in batches) == 2
    assert [x for b in batches for x in b.column("_line").to_pylist()] == [3, 50]
    assert [x for b in batches for x in b.column("line").to_pylist()] == ['{"n": 3}\n', '{"n": 50}\n']


def test_utf8_bom_is_not_a_bad_row_in_either_reader(tmp_path):
    """A UTF-8 byte-order mark (Windows exports) before the first line: DuckDB's reader skips it; the block reader
    called the first line malformed JSON, so the two paths disagreed."""
    p = tmp_path / "bom.jsonl"
    p.write_bytes(b"\xef\xbb\xbf" + json.dumps(GOOD).encode() + b"\n" + json.dumps(GOOD).encode() + b"\n")
    for native in (True, False):
        rep = analyze_logs([p], load_pricing(), native=native)
        assert rep["rows"] == 2 and rep["rows_ok"] == 2, (native, rep["bad_rows"])


@pytest.mark.parametrize("block", [7, 64, 1 << 20], ids=["tiny-blocks", "small-blocks", "one-block"])
def test_read_lines_matches_the_block_reader(tmp_path, monkeypatch, block):
    """The fast path's example re-read (plain Python, no numpy/pyarrow) returns the same line bytes as the block
    reader for every wanted line — across block boundaries, past blank lines, the BOM and a last line without a
    newline — and gives up (None) on an over-long line so the streaming reader takes over."""
    from costlab.cost import logsources

    monkeypatch.setattr(logsources, "BLOCK_BYTES", block)
    body = [b"\xef\xbb\xbf" + b'{"n": 1}', b"", b'{"n": "caf\xe9"}', b"  ", b'{"n": 5}\r', b'{"n": 6}']
    p = tmp_path / "x.jsonl"
    p.write_bytes(b"\n".join(body))  # no final newline
    got = logsources.read_lines(p, [6, 1, 3, 5, 99])
    assert got == {1: b'{"n": 1}', 3: b'{"n": "caf\xe9"}', 5: b'{"n": 5}\r', 6: b'{"n": 6}'}
    ref = {}
    for item in iter_jsonl_lines(p, [1, 5, 6]):
        if hasattr(item, "num_rows"):
            ref.update(zip(item.column("_line").to_pylist(), item.column("line").to_pylist()))
    assert {k: got[k].decode() + "\n" for k in ref} == ref
    long = tmp_path / "long.jsonl"
    long.write_bytes(b'{"n": 1}\n' + b"x" * 100 + b'\n{"n": 3}\n')
    assert logsources.read_lines(long, [3], max_line_bytes=50) is None
    assert logsources.read_lines(long, [1], max_line_bytes=50) == {1: b'{"n": 1}'}


@pytest.mark.parametrize("block,index", [(7, 3), (64, 16), (1 << 20, 1 << 10)], ids=["tiny", "small", "one-block"])
def test_read_lines_with_an_index_matches_the_scan(tmp_path, monkeypatch, block, index):
    """The fast path reads the top requests' lines back by seeking with the LineIndex that its newline count built:
    the same bytes as the scanning read, for every line (BOM, blank lines, CR, a last line without a newline)."""
    from costlab.cost import logsources

    monkeypatch.setattr(logsources, "BLOCK_BYTES", block)
    monkeypatch.setattr(logsources, "INDEX_BYTES", index)
    body = [b"\xef\xbb\xbf" + b'{"n": 1}', b"", b'{"n": "caf\xe9"}', b"  ", b'{"n": 5}\r'] + [
        json.dumps({"n": i, "pad": "x" * (i % 13)}).encode() for i in range(6, 60)
    ]
    p = tmp_path / "x.jsonl"
    p.write_bytes(b"\n".join(body))  # no final newline
    idx = logsources.LineIndex()
    assert logsources.count_lines(p, idx) == len(body) == logsources.count_lines(p)
    want = list(range(1, len(body) + 3))
    assert logsources.read_lines(p, want, index=idx) == logsources.read_lines(p, want)
    long = tmp_path / "long.jsonl"
    long.write_bytes(b'{"n": 1}\n' + b"x" * 100 + b'\n{"n": 3}\n')
    idx = logsources.LineIndex()
    logsources.count_lines(long, idx)
    assert logsources.read_lines(long, [2], max_line_bytes=50, index=idx) is None  # over-long: the caller streams
    assert logsources.read_lines(long, [3], max_line_bytes=50, index=idx) == {3: b'{"n": 3}'}


def test_fast_path_without_a_line_mapping_takes_the_block_reader(tmp_path, monkeypatch):
    """When the newline count does not map DuckDB's records to lines, nothing from the fast pass is merged: the
    block reader (which numbers every line itself) takes the file, so line numbers stay exact."""
    from costlab.cost import analyze

    p = tmp_path / "log.jsonl"
    _log(p, blank_lines=True)
    slow = analyze_logs([p], load_pricing(), whatif_models=["gpt-4o-mini"], native=False)
    monkeypatch.setattr(analyze, "line_numbers", lambda *a, **k: None)
    fast = analyze_logs([p], load_pricing(), whatif_models=["gpt-4o-mini"], native=True)
    assert fast["bad_rows"] == slow["bad_rows"] and fast["top_requests"] == slow["top_requests"]
    assert fast["rows"] == slow["rows"] and fast["repeated_prompts"] == slow["repeated_prompts"]


def test_fast_path_reads_prompts_back_from_the_right_file(tmp_path):
    """The fast path keeps no prompt text: the reported repeated prompts and top requests are read back from their
    (file, line). Across two files (blank lines shifting one), the report equals the block reader's."""
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    _log(a, blank_lines=False)
    rows = [dict(GOOD, prompt=f"q{i % 4}", completion_tokens=900 + i) for i in range(20)]
    b.write_text("\n\n".join(json.dumps(r) for r in rows) + "\n")
    fast = analyze_logs([a, b], load_pricing(), native=True)
    slow = analyze_logs([a, b], load_pricing(), native=False)
    assert {r["prompt"] for r in fast["repeated_prompts"]} >= {"q0", "q1"}
    assert fast["repeated_prompts"] == slow["repeated_prompts"]
    assert fast["top_requests"] == slow["top_requests"] and fast["top_requests"][0]["line"].startswith("b.jsonl:")
