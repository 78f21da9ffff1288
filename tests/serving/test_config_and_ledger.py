"""configs/serve/default.yaml composes and every key is accepted by Settings; the ledger drains on close."""

from __future__ import annotations

import pytest

from costlab.config import CONFIG_DIR, to_container
from costlab.errors import CostlabError
from costlab.serving.gateway import Gateway, Settings
from costlab.serving.ledger import Ledger

from .conftest import FIXTURES


def test_hydra_serve_config_builds_a_gateway(tmp_path):
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("config", overrides=["+serve=default", f"serve.tables_dir={FIXTURES}",
                                           f"serve.state_dir={tmp_path}", "+serve.endpoints._default=http://127.0.0.1:9/v1"])
    s = to_container(cfg.serve)
    server = s.pop("server")
    assert server["host"] == "127.0.0.1" and isinstance(server["port"], int)
    settings = Settings.from_dict(s)
    assert settings.semantic_cache["enabled"] is False and settings.budget["on_exhausted"] == "reject"
    gw = Gateway(settings)  # the default config is complete: no key missing, none unknown
    try:
        assert gw.tables.models["teacher-fp32"].endpoint == "http://UPSTREAM/v1"  # the table's own endpoint wins
        assert sorted(r.path for r in gw.app.routes if r.path.startswith("/v1")) == [
            "/v1/chat/completions", "/v1/models", "/v1/spend"]
    finally:
        gw.ledger.close()


def test_unknown_settings_key_is_a_clear_error():
    with pytest.raises(CostlabError, match="unknown key 'semantic'"):
        Settings.from_dict({"tables_dir": "x", "semantic": {}})


def test_ledger_drains_every_row_on_close(tmp_path):
    led = Ledger(tmp_path / "l.sqlite", batch=64)
    for i in range(1000):
        led.record({"tenant": "t", "key_id": "k", "model": "m", "cost_usd": 0.001, "cached": "none", "status": "ok"})
    led.close()
    again = Ledger(tmp_path / "l.sqlite")
    assert again.count() == 1000 and again.spend()["total"]["cost_usd"] == pytest.approx(1.0)
    again.close()
