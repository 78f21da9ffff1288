"""docs/design.md documents every key routing_table.json has (top level, a route, evidence, sensitivity, models)."""

from __future__ import annotations

import json

from tables_handmade import HARDWARE, PRICING, make_eval_run, tables_cfg

from costlab.paths import PROJECT_ROOT


def _section() -> str:
    doc = (PROJECT_ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    start = doc.index("## tables/routing_table.json")
    return doc[start : doc.index("\n## ", start + 1)]


def test_design_doc_lists_every_routing_table_key(tmp_path):
    from costlab.tables.stage import build_tables

    run = make_eval_run(tmp_path / "run")
    build_tables(run, run / "tables", tables_cfg(), HARDWARE, PRICING, context=2048, plots=False)
    rt = json.loads((run / "tables" / "routing_table.json").read_text())
    keys = set(rt)
    for by_priority in rt["routes"].values():
        for route in by_priority.values():
            keys |= set(route)
    for by_model in rt["evidence"].values():
        for ev in by_model.values():
            keys |= set(ev)
    for s in rt["sensitivity"].values():
        keys |= set(s)
        for x in s["straddling_floor"] + s["picks_that_would_change"]:
            keys |= set(x)
    for m in rt["models"].values():
        keys |= set(m)
    section = _section()
    missing = sorted(k for k in keys if f"`{k}`" not in section and f'"{k}"' not in section)
    assert not missing, f"docs/design.md's routing_table.json section does not document: {missing}"
