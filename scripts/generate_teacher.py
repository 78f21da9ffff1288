"""Generate teacher responses + top-k log-probs for the train and held-out prompts.

    python scripts/generate_teacher.py +exp=demo
"""

import hydra
from omegaconf import DictConfig

import costlab.config  # noqa: F401  (registers the config resolvers)
from costlab.pipeline import main_guard, open_run, run_stage


@hydra.main(version_base="1.3", config_path="../configs", config_name="config")
def main(cfg: DictConfig) -> dict:
    return main_guard(lambda: run_stage(cfg, open_run(cfg), "generate_teacher"))


if __name__ == "__main__":
    main()
