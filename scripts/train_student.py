"""Build the student (pruned or pretrained), train it with KD, export merged weights, report healing.

    python scripts/train_student.py +exp=demo
"""

import hydra
from omegaconf import DictConfig

import costlab.config  # noqa: F401  (registers the config resolvers)
from costlab.pipeline import main_guard, open_run, run_stage


@hydra.main(version_base="1.3", config_path="../configs", config_name="config")
def main(cfg: DictConfig) -> dict:
    return main_guard(lambda: run_stage(cfg, open_run(cfg), "train_student"))


if __name__ == "__main__":
    main()
