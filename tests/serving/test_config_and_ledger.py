"""configs/serve/default.yaml composes through Hydra (interpolations resolved) into the typed ServeConfig that
builds a gateway; a wrong key or type fails naming the key and the YAML; the ledger drains on close."""

from __future__ import annotations

import pytest

from costlab.config import PROJECT_ROOT
from costlab.errors import CostlabError
from costlab.serving.gateway import Gateway
from costlab.serving.ledger import Ledger
from costlab.serving.settings import load_settings

from .conftest import FIXTURES


def test_hydra_serve_config_builds_a_gateway(tmp_path):
    s = load_settings(
        [
            f"serve.tables_dir={FIXTURES}",
            f"serve.state_dir={tmp_path}",
            "+serve.endpoints._default=http://127.0.0.1:9/v1",
        ]
    )
    assert s.server.host == "127.0.0.1" and isinstance(s.server.port, int)
    assert s.semantic_cache.enabled is False and s.budget.on_exhausted == "reject"
    gw = Gateway(s)  # the default config is complete: no key missing, none unknown
    try:
        assert gw.tables.models["teacher-fp32"].endpoint == "http://UPSTREAM/v1"  # the table's own endpoint wins
        assert sorted(r.path for r in gw.app.routes if r.path.startswith("/v1")) == [
            "/v1/chat/completions",
            "/v1/models",
            "/v1/spend",
        ]
    finally:
        gw.ledger.close()


def test_serve_state_defaults_into_the_run_dir():
    s = load_settings(["exp_name=x", "run_id=r1"])
    assert s.state_dir.endswith("/x/r1/serve") and s.tables_dir.endswith("/x/r1/tables")  # ${paths.run_dir} resolved
    assert "${" not in s.state_dir


def test_wrong_key_or_type_names_the_key_and_the_yaml():
    with pytest.raises(CostlabError, match="semantic_cache") as e:
        load_settings(["serve.semantic_cache.threshold=high"])
    assert "configs/serve/default.yaml" in str(e.value)
    with pytest.raises(CostlabError, match="limitz"):
        load_settings(["+serve.limitz.max_body_bytes=5"])


def test_no_serve_default_is_stated_in_code():
    """One source of truth: gateway code reads typed fields, never `.get(key, default)` on settings."""
    import re

    src = "".join(
        p.read_text()
        for p in (PROJECT_ROOT / "src/costlab/serving").glob("*.py")
        if p.name not in ("router.py", "semantic.py", "embed.py", "classify.py", "sweep.py", "testing.py")
    )
    assert not re.search(r"self\.s\.\w+(\.\w+)*\.get\(", src)
    assert "Settings.from_dict" not in src


def test_ledger_drains_every_row_on_close(tmp_path):
    led = Ledger(tmp_path / "l.sqlite", batch=64)
    for _ in range(1000):
        led.record({"tenant": "t", "key_id": "k", "model": "m", "cost_usd": 0.001, "cached": "none", "status": "ok"})
    led.close()
    again = Ledger(tmp_path / "l.sqlite")
    assert again.count() == 1000 and again.spend()["total"]["cost_usd"] == pytest.approx(1.0)
    again.close()
