import pytest

from costlab.errors import CostlabError
from costlab.io import read_json
from costlab.pipeline import STAGES, Stage, open_run, register_stage, run_stage

CALLS = []


def fake_stage(cfg, run_dir, out_dir):
    CALLS.append(cfg.seed)
    (out_dir / "out.txt").write_text(str(cfg.seed))
    return {"value": cfg.seed}


@pytest.fixture
def fake(monkeypatch):
    monkeypatch.setitem(STAGES, "fake", Stage("fake", "tests.test_pipeline:fake_stage", "fake", ("seed", "data")))
    CALLS.clear()


def test_stage_skips_same_config_and_refuses_changed_config(compose, tmp_path, fake):
    cfg = compose([f"paths.runs_dir={tmp_path}"])
    run_dir = open_run(cfg)
    assert (run_dir / "config.yaml").exists() and read_json(run_dir / "provenance.json")["seed"] == cfg.seed
    m = run_stage(cfg, run_dir, "fake")
    assert m["value"] == cfg.seed and CALLS == [cfg.seed]
    assert read_json(run_dir / "fake" / "provenance.json")["metrics"]["value"] == cfg.seed
    assert run_stage(cfg, run_dir, "fake")["value"] == cfg.seed and len(CALLS) == 1  # skipped
    # a key the stage does not read does not invalidate it
    assert run_stage(compose([f"paths.runs_dir={tmp_path}", "distill.trainer.max_steps=7"]), run_dir, "fake")
    assert len(CALLS) == 1
    with pytest.raises(CostlabError, match=r"different config \(changed: \['seed'\]\)"):
        run_stage(compose([f"paths.runs_dir={tmp_path}", "seed=7"]), run_dir, "fake")


def test_unknown_stage_lists_known(compose, tmp_path):
    with pytest.raises(CostlabError, match="known stages"):
        run_stage(compose([f"paths.runs_dir={tmp_path}"]), tmp_path, "nope")


def test_register_stage_adds_to_registry(monkeypatch):
    monkeypatch.setattr("costlab.pipeline.STAGES", dict(STAGES))
    register_stage(Stage("x", "m:f", "x", ("seed",)))
    import costlab.pipeline as p

    assert "x" in p.STAGES
