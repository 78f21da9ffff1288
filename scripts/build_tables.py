"""Build tables/ from a run's eval results: cost_table.{json,csv,md}, routing_table.json, break_even.*,
litellm_model_prices.json, pareto.png, latency.png.

    python scripts/build_tables.py +exp=demo
    python scripts/build_tables.py +exp=demo eval.tables.quality_floor=0.8 eval.tables.utilization=0.3 run_id=floor08

See docs/measurement.md for the cost formula and the routing rule.
"""

import hydra
from omegaconf import DictConfig

import costlab.config  # noqa: F401  (registers the config resolvers)
from costlab.pipeline import main_guard, open_run, run_stage


@hydra.main(version_base="1.3", config_path="../configs", config_name="config")
def main(cfg: DictConfig) -> dict:
    return main_guard(lambda: run_stage(cfg, open_run(cfg), "build_tables"))


if __name__ == "__main__":
    main()
