"""Run an experiment's stages in order into runs/<exp>/<run_id>/.

    python scripts/distill.py +exp=demo            # the CPU demo
    python scripts/distill.py +exp=smoke run_id=t1 # toy scale

Stages whose outputs already exist for the same resolved config are skipped; an interrupted stage resumes.
"""

from pathlib import Path

import hydra
from omegaconf import DictConfig

import costlab.config  # noqa: F401  (registers the config resolvers)
from costlab.pipeline import main_guard, print_summary, run_stages


@hydra.main(version_base="1.3", config_path="../configs", config_name="config")
def main(cfg: DictConfig) -> dict:
    results = main_guard(lambda: run_stages(cfg))  # setup → run each stage → save metrics.json
    print_summary(Path(cfg.paths.run_dir))
    return results


if __name__ == "__main__":
    main()
