"""Run the cost gateway on a run's tables.

    python scripts/serve.py +exp=demo                                  # runs/demo/main/tables
    python scripts/serve.py serve.tables_dir=tests/serving/fixtures +serve.endpoints._default=http://127.0.0.1:8080/v1
    python scripts/serve.py +exp=demo serve.backend=redis serve.budget.global.daily_usd=5

The `serve` group is not in configs/config.yaml's defaults (the pipeline stages don't need it); this script
adds `+serve=default` when the command line names no serve config. Keys: configs/serve/default.yaml.
"""

import sys

import hydra
from omegaconf import DictConfig

import costlab.config  # noqa: F401  (registers the config resolvers)
from costlab.config import to_container
from costlab.pipeline import main_guard

if not any(a.split("=")[0].lstrip("+") == "serve" for a in sys.argv[1:]):
    sys.argv.append("+serve=default")


def serve(cfg: DictConfig) -> dict:
    import logging

    import uvicorn

    from costlab.serving.gateway import Gateway, Settings

    s = to_container(cfg.serve)
    server = s.pop("server")
    s.setdefault("threads", cfg.get("threads", 1))
    logging.basicConfig(level=str(server["log_level"]).upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    gw = Gateway(Settings.from_dict(s))
    uvicorn.run(gw.app, host=server["host"], port=int(server["port"]), log_level=server["log_level"], access_log=False)
    return {"served": True}


@hydra.main(version_base="1.3", config_path="../configs", config_name="config")
def main(cfg: DictConfig) -> dict:
    return main_guard(lambda: serve(cfg))


if __name__ == "__main__":
    main()
