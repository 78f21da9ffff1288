"""Budgets: reservation before the call, settlement from real usage, 429 vs downgrade, alerts, restart."""

from __future__ import annotations

import threading

import openai
import pytest

from costlab.serving.accounting import count_prompt
from costlab.serving.auth import hash_key
from costlab.serving.budgets import Limit, LocalBudgets, limits_for

Q = [{"role": "user", "content": "What is the tallest mountain?"}]


def test_local_reserve_settle_and_alerts():
    b = LocalBudgets()
    lim = [Limit("global", "daily:2026-01-01", 1.0)]
    r1, _ = b.reserve(lim, 0.5)
    r2, _ = b.reserve(lim, 0.4)
    r3, hit = b.reserve(lim, 0.2)  # 0.5 + 0.4 + 0.2 > 1.0 while the first two are in flight
    assert r1 and r2 and r3 is None and hit.name == "global/daily:2026-01-01"
    b.settle(r1, 0.3)  # real cost below the estimate frees the difference
    r3, _ = b.reserve(lim, 0.2)
    assert r3 is not None
    b.settle(r2, 0.4)
    b.settle(r3, 0.2)
    assert b.state()["spent"]["global/daily:2026-01-01"] == pytest.approx(0.9)
    assert b.state()["reserved"]["global/daily:2026-01-01"] == pytest.approx(0.0)
    assert [a["level"] for a in b.alerts.fired] == [0.8]
    b.add_spent(lim, 0.2)
    assert [a["level"] for a in b.alerts.fired] == [0.8, 1.0]
    b.settle(r3, 5.0)  # settling twice is a no-op
    assert b.state()["spent"]["global/daily:2026-01-01"] == pytest.approx(1.1)


def test_concurrent_reservations_never_overshoot():
    b = LocalBudgets()
    lim = [Limit("global", "monthly:2026-01", 1.0)]
    ok = []

    def worker():
        for _ in range(200):
            r, _ = b.reserve(lim, 0.01)
            if r is not None:
                ok.append(r)
                b.settle(r, 0.01)

    ts = [threading.Thread(target=worker) for _ in range(8)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    assert len(ok) == 100 and b.state()["spent"]["global/monthly:2026-01"] <= 1.0 + 1e-9


def test_limits_for_periods():
    ls = limits_for("abc", {"daily_usd": 1}, {"monthly_usd": 10}, ts=0)
    assert [(l.scope, l.period, l.usd) for l in ls] == [
        ("global", "monthly:1970-01", 10.0),
        ("key:abc", "daily:1970-01-01", 1.0),
    ]
    assert limits_for(None, {"daily_usd": 1}, {}) == []


def _cost_of_one(messages: list, max_out: int, usd_in: float, usd_out: float) -> float:
    """What the gateway reserves: no tokenizer configured for the fixture's models, so the byte bound."""
    pt = count_prompt(messages, None).estimate
    return (pt * usd_in + max_out * usd_out) / 1e6


def test_key_budget_429_then_alert_webhook(make_gateway, fake, fake_state, caplog):
    content = "What is the tallest mountain? {:02d}"
    actual = ((len(content.format(0)) // 4 + 1) * 0.02 + 12 * 0.08) / 1e6  # the fake upstream's usage
    reserve = _cost_of_one([{"role": "user", "content": content.format(0)}], 12, 0.02, 0.08)
    budget = 9 * actual + reserve * 0.999  # the 10th request's reservation does not fit: 9 served
    keys = [{"sha256": hash_key("sk-a"), "tenant": "a", "budget": {"daily_usd": budget}}]
    fake_state.hooks.clear()
    gw, url = make_gateway(auth={"keys": keys}, budget={"webhook": fake[0].url + "/hook"})
    c = openai.OpenAI(base_url=url + "/v1", api_key="sk-a", max_retries=0)
    served = 0
    with pytest.raises(openai.RateLimitError) as e:
        for i in range(14):
            c.chat.completions.create(
                model="auto", max_tokens=12, messages=[{"role": "user", "content": content.format(i)}]
            )
            served += 1
    assert e.value.body["type"] == "insufficient_quota" and e.value.body["code"] == "budget_exhausted"
    assert served == 9
    gw.ledger.flush()
    billed = gw.ledger.query("SELECT SUM(cost_usd), COUNT(*) FROM ledger")[0]
    assert billed[1] == served and billed[0] == pytest.approx(9 * actual) and billed[0] <= budget
    assert "budget alert" in caplog.text and any(a["level"] == 0.8 for a in gw.budgets.alerts.fired)
    import time

    end = time.time() + 5
    while time.time() < end and not fake_state.hooks:
        time.sleep(0.05)
    hook = fake_state.hooks[0]
    assert hook["type"] == "costlab.budget_alert" and hook["level"] == 0.8 and hook["budget"].startswith("key:")


def test_downgrade_along_fallbacks_never_below_floor(make_gateway, fake_state):
    # quality priority routes qa to teacher-fp32 ($1/$3 per 1M); the global budget fits only the students
    est_teacher = _cost_of_one(Q, 12, 1.0, 3.0)
    gw, url = make_gateway(budget={"global": {"daily_usd": est_teacher * 0.5}, "on_exhausted": "downgrade"})
    c = openai.OpenAI(base_url=url + "/v1", api_key="k", max_retries=0)
    r = c.chat.completions.with_raw_response.create(model="auto-quality", messages=Q, max_tokens=12)
    assert r.headers["x-costlab-model"] == "student-Q4_K_M"  # first cheaper fallback with qa retention ≥ 0.9
    assert r.headers["x-costlab-downgraded-from"] == "teacher-fp32"
    assert r.parse().usage.costlab["downgraded_from"] == "teacher-fp32"
    # code: the only cheaper fallback (student-Q4_K_M, code retention 0.7) is below the 0.9 floor → 429
    with pytest.raises(openai.RateLimitError):
        c.chat.completions.create(
            model="auto", messages=[{"role": "user", "content": "write a python function"}], max_tokens=12
        )
    # ... unless going below the floor is allowed
    _, url2 = make_gateway(
        budget={"global": {"daily_usd": est_teacher * 0.5}, "on_exhausted": "downgrade", "allow_below_floor": True}
    )
    c2 = openai.OpenAI(base_url=url2 + "/v1", api_key="k", max_retries=0)
    r = c2.chat.completions.with_raw_response.create(
        model="auto", messages=[{"role": "user", "content": "write a python function"}], max_tokens=12
    )
    assert r.headers["x-costlab-model"] == "student-Q4_K_M"


def test_budget_state_survives_restart(make_gateway, fake_state, tmp_path):
    est = _cost_of_one(Q, 12, 0.02, 0.08)
    over = {"state_dir": str(tmp_path / "persist"), "budget": {"global": {"daily_usd": est * 1.5}}}
    gw, url = make_gateway(**over)
    c = openai.OpenAI(base_url=url + "/v1", api_key="k", max_retries=0)
    c.chat.completions.create(model="auto", messages=Q, max_tokens=12)
    gw.ledger.flush()
    spent = gw.budgets.state()["spent"]
    gw2, url2 = make_gateway(**over)  # same state dir: spend rebuilt from the ledger
    ((name, val),) = [(k, v) for k, v in spent.items() if k.startswith("global/daily:")]
    assert val > 0 and gw2.budgets.state()["spent"][name] == pytest.approx(val)
    with pytest.raises(openai.RateLimitError):
        openai.OpenAI(base_url=url2 + "/v1", api_key="k", max_retries=0).chat.completions.create(
            model="auto", messages=[{"role": "user", "content": "What is the tallest mountain? 2"}], max_tokens=12
        )
