"""Measure every variant of a run: quality per task class (lm-eval, local tasks), fidelity to the teacher,
latency/throughput and memory -> eval/<variant>.json.

    python scripts/evaluate.py +exp=demo                    # the experiment's run (the experiment adds the eval group)
    python scripts/evaluate.py +eval=default run_id=main eval.quality.limit=null   # every item of every task

Failed variants are written as failed (never measured); a variant whose backend is not installed is an error
entry naming the fix. See docs/measurement.md.
"""

import hydra
from omegaconf import DictConfig

import costlab.config  # noqa: F401  (registers the config resolvers)
from costlab.pipeline import main_guard, open_run, run_stage


@hydra.main(version_base="1.3", config_path="../configs", config_name="config")
def main(cfg: DictConfig) -> dict:
    return main_guard(lambda: run_stage(cfg, open_run(cfg), "evaluate"))


if __name__ == "__main__":
    main()
