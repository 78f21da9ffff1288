import pytest

from costlab.errors import CostlabError
from costlab.io import ResumableJsonl, atomic_write_json, read_json, read_jsonl


def test_resumable_jsonl_drops_torn_line_and_keeps_done(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text('{"id": "a", "v": 1}\n{"id": "b", "v": 2}\n{"id": "c", "v"')  # crash mid-write of row c
    with ResumableJsonl(p) as s:
        assert s.done == {"a", "b"}
        assert s.repaired_bytes > 0
        s.append({"id": "c", "v": 3})
    rows = read_jsonl(p)
    assert [r["id"] for r in rows] == ["a", "b", "c"]
    assert rows[2]["v"] == 3


def test_resumable_jsonl_corrupt_middle_line_truncates_from_there(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text('{"id": "a"}\nnot json\n{"id": "c"}\n')
    with ResumableJsonl(p) as s:
        assert s.done == {"a"}  # c after the corrupt line is redone rather than trusted


def test_read_jsonl_errors_name_file_and_line(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text('{"id": 1}\n{oops\n')
    with pytest.raises(CostlabError, match=r"bad.jsonl:2: malformed JSON"):
        read_jsonl(p)
    p.write_text('{"x": 1}\n')
    with pytest.raises(CostlabError, match=r"missing key\(s\) \['id'\]"):
        read_jsonl(p, required=["id"])
    p.write_text("\n")
    with pytest.raises(CostlabError, match="no rows"):
        read_jsonl(p)
    with pytest.raises(CostlabError, match="not found"):
        read_jsonl(tmp_path / "missing.jsonl")


def test_atomic_write_json_roundtrip_leaves_no_temp(tmp_path):
    p = tmp_path / "d" / "a.json"
    atomic_write_json(p, {"a": [1, 2]})
    assert read_json(p) == {"a": [1, 2]}
    assert [f.name for f in p.parent.iterdir()] == ["a.json"]
    p.write_text("{broken")
    with pytest.raises(CostlabError, match="not valid JSON"):
        read_json(p)
