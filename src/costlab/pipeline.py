"""Stages and the run directory that connects them.

A stage is a function ``fn(cfg, run_dir: Path, out_dir: Path) -> dict`` (metrics) in the library. It writes its
outputs under ``run_dir/<stage.out>``. ``run_stage`` adds what every stage needs: a fingerprint of the config
keys the stage reads (same fingerprint + ``stage.json`` status "done" → skipped), the stage's provenance,
and clear refusal to mix outputs of two different configs in one directory.
"""

from __future__ import annotations

import importlib
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from omegaconf import DictConfig, OmegaConf

from costlab.config import fingerprint, to_container, validate
from costlab.errors import CostlabError, exit_on_error
from costlab.io import atomic_write_json, atomic_write_text, read_json
from costlab.provenance import make_provenance, write_provenance


@dataclass(frozen=True)
class Stage:
    name: str
    fn: str  # "module:function", imported lazily so a stage's heavy deps load only when it runs
    out: str  # output folder under the run dir
    keys: tuple[str, ...]  # config keys whose values determine the outputs (the fingerprint)


# Stages `costlab run` knows, in the order an experiment usually lists them.
STAGES: dict[str, Stage] = {
    s.name: s
    for s in [
        Stage(
            "generate_teacher",
            "costlab.teacher.generate:run_stage",
            "teacher_data",
            ("seed", "teacher", "data", "teacher_data"),
        ),
        Stage(
            "train_student",
            "costlab.distill.train:run_stage",
            "student",
            ("seed", "teacher", "data", "teacher_data", "student", "distill"),
        ),
        # quant.export is left out on purpose: exporting must not invalidate built variants.
        Stage(
            "quantize",
            "costlab.quant.stage:run_stage",
            "variants",
            (
                "seed",
                "teacher",
                "student",
                "quant.bases",
                "quant.reference",
                "quant.methods",
                "quant.calibration",
                "quant.sanity",
            ),
        ),
        # eval.isolate / eval.variant_timeout_s are left out: how a variant is run does not change its numbers.
        Stage(
            "evaluate",
            "costlab.eval.stage:run_stage",
            "eval",
            (
                "seed",
                "hardware",
                "eval.reference",
                "eval.variants",
                "eval.threads",
                "eval.backends",
                "eval.stats",
                "eval.quality",
                "eval.fidelity",
                "eval.latency",
            ),
        ),
        Stage(
            "build_tables",
            "costlab.tables.stage:run_stage",
            "tables",
            ("seed", "hardware", "pricing", "eval.reference", "eval.quality.tasks", "eval.stats", "eval.tables"),
        ),
        Stage("report", "costlab.report.stage:run_stage", "report", ("eval.tables", "eval.report")),
    ]
}


def register_stage(stage: Stage) -> None:
    STAGES[stage.name] = stage


def _load_fn(spec: str) -> Callable[..., dict]:
    mod, _, fn = spec.partition(":")
    return getattr(importlib.import_module(mod), fn)


def seed_everything(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def open_run(cfg: DictConfig) -> Path:
    """Validate the config (costlab.schemas: one message naming each bad key, its type and YAML file), then
    create/reuse the run dir and write its resolved config.yaml and run-level provenance."""
    validate(cfg)
    run_dir = Path(cfg.paths.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    resolved = to_container(cfg)
    atomic_write_text(run_dir / "config.yaml", OmegaConf.to_yaml(OmegaConf.create(resolved)))
    if cfg.threads:
        import torch

        torch.set_num_threads(int(cfg.threads))
    seed_everything(int(cfg.seed))
    write_provenance(run_dir, make_provenance(resolved, seed=int(cfg.seed)))
    return run_dir


def run_stage(cfg: DictConfig, run_dir: Path, name: str) -> dict[str, Any]:
    if name not in STAGES:
        raise CostlabError(f"unknown stage '{name}' in config key 'stages'", f"known stages: {sorted(STAGES)}")
    stage = STAGES[name]
    out_dir = run_dir / stage.out
    status_path = out_dir / "stage.json"
    fp, subset = fingerprint(cfg, [k for k in stage.keys if OmegaConf.select(cfg, k) is not None])
    if status_path.exists():
        status = read_json(status_path)
        produced = [p for p in out_dir.iterdir() if p.name != "stage.json"]
        if status.get("fingerprint") != fp and status.get("status") != "done" and not produced:
            status = {}  # an attempt that failed before writing anything (e.g. bad input): nothing to protect
        elif status.get("fingerprint") != fp:
            old = status.get("config", {})
            changed = sorted(k for k in set(old) | set(subset) if old.get(k) != subset.get(k))
            raise CostlabError(
                f"stage '{name}': {out_dir} was made with a different config (changed: {changed})",
                "use a new run_id=... for the new config, or delete that folder to redo the stage",
            )
        if status.get("status") == "done":
            print(f"[costlab] stage {name}: outputs in {out_dir} match this config, skipped")
            return status.get("metrics", {})
        if status:
            print(f"[costlab] stage {name}: resuming unfinished stage in {out_dir}")
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_json(status_path, {"stage": name, "status": "running", "fingerprint": fp, "config": subset})
    prov = make_provenance(to_container(cfg), seed=int(cfg.seed), extra={"stage": name, "fingerprint": fp})
    t0 = time.time()
    metrics = _load_fn(stage.fn)(cfg, run_dir, out_dir) or {}
    metrics = {**metrics, "stage_seconds": round(time.time() - t0, 2)}
    write_provenance(out_dir, {**prov, "metrics": metrics})
    atomic_write_json(
        status_path, {"stage": name, "status": "done", "fingerprint": fp, "config": subset, "metrics": metrics}
    )
    return metrics


def run_stages(cfg: DictConfig, names: list[str] | None = None) -> dict[str, dict]:
    run_dir = open_run(cfg)
    results = {}
    for name in names if names is not None else list(cfg.stages):
        print(f"[costlab] === stage {name} ===")
        results[name] = run_stage(cfg, run_dir, name)
    atomic_write_json(run_dir / "metrics.json", results)
    return results


SUMMARY_FILES = ("student/healing.txt", "tables/cost_table.md")


def print_summary(run_dir: Path) -> None:
    """End-of-run recap: the healing table and the cost table, whichever this run produced."""
    for rel in SUMMARY_FILES:
        f = run_dir / rel
        if f.exists():
            print(f"\n== {rel} ==\n{f.read_text().rstrip()}")
    print(f"\n[costlab] run dir: {run_dir}")


def run_experiment(overrides: list[str], prog: str = "costlab run") -> None:
    """The one pipeline entry (`costlab run`, `scripts/distill.py`): Hydra composes configs/config.yaml with the
    overrides (+exp=NAME, stages=[...], key=value), then every stage in ``cfg.stages`` runs in order."""
    import hydra

    from costlab.config import CONFIG_DIR
    from costlab.paths import set_offline_env

    set_offline_env()

    @hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="config")
    def _task(cfg: DictConfig) -> None:
        with exit_on_error():
            run_stages(cfg)  # setup → run each stage → save metrics.json
        print_summary(Path(cfg.paths.run_dir))

    argv = sys.argv
    sys.argv = [prog, *overrides]  # Hydra reads its overrides (and --help, --cfg job, -m) from sys.argv
    try:
        _task()
    finally:
        sys.argv = argv
