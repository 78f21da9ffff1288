"""Bad input and upstream/storage faults → OpenAI-style errors with the right status; the gateway keeps serving."""

from __future__ import annotations

import httpx
import openai
import pytest

Q = [{"role": "user", "content": "What is the capital of Peru?"}]


def client(url, key="sk-x"):
    return openai.OpenAI(base_url=url + "/v1", api_key=key, max_retries=0, timeout=20)


def _err(r: httpx.Response) -> dict:
    e = r.json()["error"]
    assert set(e) == {"message", "type", "param", "code"}
    return e


def test_malformed_json_and_bad_bodies(make_gateway):
    _, url = make_gateway()
    r = httpx.post(
        url + "/v1/chat/completions",
        content=b'{"model": "auto", "messages": [',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 400 and _err(r)["code"] == "invalid_json"
    r = httpx.post(url + "/v1/chat/completions", json=[1, 2])
    assert r.status_code == 400
    r = httpx.post(url + "/v1/chat/completions", json={"model": "auto", "messages": []})
    assert r.status_code == 400 and _err(r)["param"] == "messages"
    r = httpx.post(url + "/v1/chat/completions", json={"messages": Q})
    assert r.status_code == 400 and _err(r)["param"] == "model"
    r = httpx.post(url + "/v1/chat/completions", json={"model": "auto", "messages": Q, "max_tokens": -3})
    assert r.status_code == 400 and _err(r)["param"] == "max_tokens"


def test_unknown_model_404(make_gateway, fake_state):
    _, url = make_gateway()
    n0 = fake_state.requests
    with pytest.raises(openai.NotFoundError) as e:
        client(url).chat.completions.create(model="gpt-9", messages=Q)
    assert e.value.body["code"] == "model_not_found" and "auto" in e.value.body["message"]
    assert fake_state.requests == n0  # never forwarded


def test_upstream_500_is_retried_then_502(make_gateway, fake_state):
    gw, url = make_gateway()
    fake_state.next_modes = ["500", "500"]  # two failures, third attempt succeeds (retries=2)
    n0 = fake_state.requests
    r = client(url).chat.completions.create(model="auto", messages=Q, temperature=0)
    assert r.usage.completion_tokens == 12 and fake_state.requests == n0 + 3
    fake_state.mode = "500"
    with pytest.raises(openai.APIStatusError) as e:
        client(url).chat.completions.create(model="auto", messages=[{"role": "user", "content": "other question?"}])
    assert e.value.status_code == 502 and e.value.body["type"] == "upstream_error"
    gw.ledger.flush()
    rows = gw.ledger.query("SELECT status, cost_usd FROM ledger ORDER BY ts")
    assert rows[-1] == ("upstream_error", 0.0)


def test_upstream_400_passes_status_through(make_gateway, fake_state):
    _, url = make_gateway()
    fake_state.mode = "400"
    with pytest.raises(openai.BadRequestError) as e:
        client(url).chat.completions.create(model="auto", messages=Q)
    assert "scripted bad request" in e.value.body["message"]


def test_upstream_timeout_504(make_gateway, fake_state):
    _, url = make_gateway(upstream={"read_timeout_s": 0.3, "retries": 0})
    fake_state.mode = "slow_first"
    fake_state.timeout_s = 2.0
    with pytest.raises(openai.APIStatusError) as e:
        client(url).chat.completions.create(model="auto", messages=Q)
    assert e.value.status_code == 504 and e.value.body["code"] == "upstream_timeout"


def test_upstream_unreachable_502_after_retries(make_gateway, fake_state):
    from costlab.serving.testing import free_port

    _, url = make_gateway(endpoint=f"http://127.0.0.1:{free_port()}/v1")
    with pytest.raises(openai.APIStatusError) as e:
        client(url).chat.completions.create(model="auto", messages=Q)
    assert e.value.status_code == 502 and "cannot connect" in e.value.body["message"]
    assert "127.0.0.1" not in e.value.body["message"]  # no internal URL in the body


def test_stream_dropped_before_first_chunk_is_retried(make_gateway, fake_state):
    _, url = make_gateway()
    fake_state.next_modes = ["drop_before"]
    r = client(url).chat.completions.create(model="auto", messages=Q, temperature=0)
    assert r.usage.completion_tokens == 12


def test_stream_dropped_midway(make_gateway, fake_state):
    gw, url = make_gateway()
    fake_state.mode = "drop_mid"
    # non-streaming client: 502, partial output billed, nothing cached
    with pytest.raises(openai.APIStatusError) as e:
        client(url).chat.completions.create(model="auto", messages=Q, temperature=0)
    assert e.value.status_code == 502 and e.value.body["code"] == "upstream_stream_broken"
    # streaming client: the tokens already sent, then an in-band error event
    with httpx.stream(
        "POST",
        url + "/v1/chat/completions",
        timeout=10,
        json={"model": "auto", "messages": Q, "stream": True, "temperature": 0},
    ) as r:
        assert r.status_code == 200
        lines = [ln for ln in r.iter_lines() if ln.startswith("data:")]
    assert any('"error"' in ln for ln in lines) and lines[-1] == "data: [DONE]"
    assert sum('"content":"' in ln and '"content":""' not in ln for ln in lines) == 6
    gw.ledger.flush()
    rows = gw.ledger.query("SELECT status, completion_tokens, cost_usd FROM ledger")
    assert [r[0] for r in rows] == ["upstream_error", "upstream_error"]
    assert all(r[1] == 6 and r[2] > 0 for r in rows)  # billed what was generated
    assert len(gw.exact.inner) == 0


def test_auth_missing_bad_and_valid_keys(make_gateway, fake_state, caplog):
    from costlab.serving.auth import hash_key

    keys = [
        {"sha256": hash_key("sk-good"), "tenant": "acme"},
        {"sha256": hash_key("sk-admin"), "tenant": "ops", "admin": True},
    ]
    gw, url = make_gateway(auth={"keys": keys})
    r = httpx.post(url + "/v1/chat/completions", json={"model": "auto", "messages": Q})
    assert r.status_code == 401 and _err(r)["code"] == "invalid_api_key"
    with pytest.raises(openai.AuthenticationError):
        client(url, "sk-bad").chat.completions.create(model="auto", messages=Q)
    with pytest.raises(openai.AuthenticationError):
        client(url, "sk-bad").models.list()
    client(url, "sk-good").chat.completions.create(model="auto", messages=Q, temperature=0)
    # neither the key nor the prompt text reach the logs by default
    text = caplog.text
    assert "sk-good" not in text and "capital of Peru" not in text and "tenant=acme" in text
    # tenants see only their own spend; admin keys see all
    r = httpx.get(url + "/v1/spend", headers={"authorization": "Bearer sk-good"}).json()
    assert set(r["by_tenant"]) == {"acme"} and r["budgets"] is None
    assert httpx.get(url + "/v1/spend").status_code == 401
    r = httpx.get(url + "/v1/spend", headers={"authorization": "Bearer sk-admin"}).json()
    assert r["budgets"] is not None
    gw.ledger.flush()
    assert gw.ledger.query("SELECT key_id FROM ledger")[0][0] == hash_key("sk-good")[:12]


def test_corrupted_cache_db_at_start_and_while_running(make_gateway, fake_state, tmp_path):
    # a garbage file where the cache DB should be: moved aside, fresh DB, requests served
    state = tmp_path / "corrupt_state"
    state.mkdir()
    (state / "exact_cache.sqlite").write_bytes(b"this is not a sqlite database" * 100)
    gw, url = make_gateway(state_dir=str(state))
    c = client(url)
    c.chat.completions.create(model="auto", messages=Q, temperature=0)
    r = c.chat.completions.with_raw_response.create(model="auto", messages=Q, temperature=0)
    assert r.headers["x-costlab-cached"] == "exact"
    assert list(state.glob("exact_cache.sqlite.corrupt-*"))
    # the cache backend breaks while running: pass-through with a warning, requests still served
    assert gw.exact.inner.flush()  # committed: the next get reads the broken DB, not the put held in memory
    gw.exact.inner.db.close()
    r = c.chat.completions.with_raw_response.create(model="auto", messages=Q, temperature=0)
    assert r.headers["x-costlab-cached"] == "none" and r.parse().usage.completion_tokens == 12
    assert gw.exact.errors >= 1


def test_ledger_write_failure_goes_to_fallback_file(make_gateway, fake_state):
    gw, url = make_gateway()
    gw.ledger.db.execute("DROP TABLE ledger")  # every insert now fails
    client(url).chat.completions.create(model="auto", messages=Q, temperature=0)
    gw.ledger.flush()
    assert gw.ledger.fallback_rows == 1
    import json

    row = json.loads(gw.ledger.fallback.read_text().splitlines()[0])
    assert row["status"] == "ok" and row["cost_usd"] > 0


def test_unknown_path_and_internal_errors_are_openai_shaped(make_gateway, fake_state):
    gw, url = make_gateway()
    r = httpx.get(url + "/v1/nope")
    assert r.status_code == 404 and _err(r)["code"] == "not_found"

    def boom(*a, **k):
        raise RuntimeError("bug")

    gw.router.route = boom
    r = httpx.post(url + "/v1/chat/completions", json={"model": "auto", "messages": Q})
    assert r.status_code == 500 and _err(r)["code"] == "internal_error" and "bug" not in r.text
