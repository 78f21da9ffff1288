"""Monthly estimates (the seed's example), API-vs-local, measured run rows, and ROI edge cases."""

from __future__ import annotations

import json

import pytest

from costlab.cost.estimate import TrafficProfile, api_vs_local, estimate, load_run_cost_rows
from costlab.cost.pricing import load_pricing
from costlab.cost.roi import RoiInputs, optimization_roi
from costlab.errors import CostlabError


def test_seed_example_10k_requests_500_in_300_out():
    # 10,000 req/day x 30 days = 300k requests; 150M input + 90M output tokens per month.
    rows = {
        r["model"]: r
        for r in estimate(
            load_pricing(), TrafficProfile(10_000, 500, 300), ["gpt-4o", "gpt-4o-mini", "claude-haiku-3.5"]
        )
    }
    assert rows["gpt-4o"]["usd_per_month"] == pytest.approx(150 * 2.50 + 90 * 10.00)  # 1275
    assert rows["gpt-4o-mini"]["usd_per_month"] == pytest.approx(150 * 0.15 + 90 * 0.60)  # 76.50
    assert rows["claude-haiku-3.5"]["usd_per_month"] == pytest.approx(150 * 0.80 + 90 * 4.00)  # 480
    assert rows["gpt-4o"]["usd_per_day"] == pytest.approx(42.5)


def test_cache_and_batch_share_lower_the_bill():
    p = load_pricing()
    base = estimate(p, TrafficProfile(10_000, 500, 300), ["gpt-4o"])[0]["usd_per_month"]
    cached = estimate(p, TrafficProfile(10_000, 500, 300, cache_hit_rate=0.5), ["gpt-4o"])[0]
    assert cached["usd_per_month"] == pytest.approx(base - 150 * 0.5 * 1.25)
    half_batch = estimate(p, TrafficProfile(10_000, 500, 300, batch_share=0.5), ["gpt-4o"])[0]
    assert half_batch["usd_per_month"] == pytest.approx(base * 0.75)
    no_cache = estimate(p, TrafficProfile(10_000, 500, 300, cache_hit_rate=0.5), ["gpt-3.5-turbo"])[0]
    assert "no prompt caching" in no_cache["notes"][0]


@pytest.mark.parametrize(
    "kw",
    [
        dict(requests_per_day=-1),
        dict(avg_input_tokens=1e12),
        dict(cache_hit_rate=1.5),
        dict(batch_share=-0.1),
        dict(avg_output_tokens=float("nan")),
    ],
)
def test_absurd_profiles_are_rejected(kw):
    base = dict(requests_per_day=10, avg_input_tokens=1, avg_output_tokens=1)
    with pytest.raises(CostlabError, match="out of range"):
        TrafficProfile(**{**base, **kw})


def test_api_vs_local_self_hosted_is_flat_then_steps():
    vs = api_vs_local(
        load_pricing(), TrafficProfile(10_000, 500, 300), (10_000, 100_000, 1_000_000), ["gpt-4o", "llama-3.1-70b"]
    )
    rows = {r["model"]: r for r in vs["rows"]}
    llama = rows["llama-3.1-70b"]["usd_per_month"]
    # one 2xH100 replica 24/7 at $2.50/GPU-h, 30 days = $3,600; 1M/day needs ceil(233,333 s / 43,200 s) = 6
    assert llama["10000"] == pytest.approx(3600) and llama["100000"] == pytest.approx(3600)
    assert llama["1e+06"] == pytest.approx(6 * 3600)
    assert rows["gpt-4o"]["usd_per_month"]["1e+06"] == pytest.approx(127_500)
    assert rows["llama-3.1-70b"]["cheaper_than"]["10000"] == []
    assert rows["llama-3.1-70b"]["cheaper_than"]["100000"] == ["gpt-4o"]
    assert rows["llama-3.1-70b"]["basis"].startswith("rent price")


def test_measured_run_rows(tmp_path):
    run = tmp_path / "run"
    (run / "tables").mkdir(parents=True)
    (run / "tables" / "cost_table.json").write_text(
        json.dumps(
            [
                {
                    "model": "student-Q4_K_M",
                    "kind": "self_hosted",
                    "hardware": "cpu-2core",
                    "input_usd_per_1m": 0.05,
                    "output_usd_per_1m": 0.40,
                    "decode_tok_s": 60.0,
                    "source": "eval/student-Q4_K_M.json",
                },
                {"model": "gpt-4o", "kind": "api", "input_usd_per_1m": 2.5, "output_usd_per_1m": 10},
            ]
        )
    )
    rows = load_run_cost_rows(run)
    assert [r["model"] for r in rows] == ["student-Q4_K_M"]
    r = {x["model"]: x for x in estimate(load_pricing(), TrafficProfile(10_000, 500, 300), ["gpt-4o"], rows)}
    m = r["student-Q4_K_M"]
    assert m["basis"].startswith("measured") and m["usd_per_month"] == pytest.approx(150 * 0.05 + 90 * 0.40)
    assert any("box(es)" in n for n in m["notes"])  # 3M tokens/day at 60 tok/s needs 1 box
    with pytest.raises(CostlabError, match="no measured cost table"):
        load_run_cost_rows(tmp_path / "empty")


def test_run_cost_table_in_build_tables_format(tmp_path):
    # the shape src/costlab/tables/stage.py writes
    run = tmp_path / "run"
    (run / "tables").mkdir(parents=True)
    (run / "tables" / "cost_table.json").write_text(
        json.dumps(
            {
                "version": 1,
                "run": str(run),
                "rows": [
                    {
                        "model": "teacher-Q8_0",
                        "kind": "self_hosted",
                        "hardware": "cpu-2core",
                        "input_usd_per_1m": 0.2,
                        "output_usd_per_1m": 0.9,
                        "decode_tok_s": 50.0,
                        "source": "eval/teacher-Q8_0.json",
                    },
                    {
                        "model": "odd",
                        "kind": "self_hosted",
                        "hardware": "cpu-2core",
                        "input_usd_per_1m": None,
                        "output_usd_per_1m": None,
                    },
                ],
                "not_measured": [
                    {
                        "model": "student-awq",
                        "kind": "self_hosted",
                        "hardware": "cpu-2core",
                        "status": "error",
                        "reason": "error: CUDA only",
                    }
                ],
            }
        )
    )
    skipped: list[str] = []
    rows = load_run_cost_rows(run, skipped)
    assert [r["model"] for r in rows] == ["teacher-Q8_0"]
    assert skipped == ["student-awq@cpu-2core: error: CUDA only", "odd@cpu-2core: no measured $/1M"]
    from typer.testing import CliRunner

    from costlab.cli import app

    r = CliRunner().invoke(app, ["estimate", "-m", "gpt-4o-mini", "--run", str(run), "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert {x["model"] for x in d["rows"]} == {"gpt-4o-mini", "teacher-Q8_0"}
    assert d["run_not_measured"] == skipped


def test_roi_normal_case():
    r = optimization_roi(RoiInputs(1275, 76.5, implementation_cost=5000, monthly_maintenance=100))
    net = 1275 - 76.5 - 100
    assert r["net_monthly_savings"] == pytest.approx(net)
    assert r["payback_month"] == 5 and r["payback_months"] == pytest.approx(5000 / net)
    assert r["roi_12m_pct"] == pytest.approx((net * 12 - 5000) / 5000 * 100)
    assert r["roi_36m_pct"] == pytest.approx((net * 36 - 5000) / 5000 * 100)
    assert r["cumulative_net"][0] == -5000 and r["cumulative_net"][5] > 0 > r["cumulative_net"][4]


def test_roi_edge_cases():
    never = optimization_roi(RoiInputs(100, 90, implementation_cost=1000, monthly_maintenance=20))
    assert never["pays_back"] is False and never["payback_month"] is None
    assert never["roi_12m_pct"] < 0 and any("never pays back" in n for n in never["notes"])
    free = optimization_roi(RoiInputs(100, 50, implementation_cost=0))
    assert free["payback_month"] == 0 and free["roi_12m_pct"] is None
    assert any("unbounded" in n for n in free["notes"])
    zero = optimization_roi(RoiInputs(0, 0, 0))
    assert zero["savings_pct"] is None and zero["pays_back"] is False
    for bad in (
        dict(current_monthly_cost=-5),
        dict(implementation_cost=float("inf")),
        dict(optimized_monthly_cost=1e13),
    ):
        with pytest.raises(CostlabError):
            RoiInputs(**{**dict(current_monthly_cost=1, optimized_monthly_cost=1), **bad})
