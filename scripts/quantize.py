"""Quantize the teacher and/or the student of a run into variants/<name>/ (GGUF, bitsandbytes, GPTQ, AWQ).

    python scripts/quantize.py +exp=demo                      # what the experiment selects
    python scripts/quantize.py +quant=gguf quant.bases=[teacher]
    python scripts/quantize.py +quant=all                     # GGUF + bnb + GPTQ + AWQ (gptq/awq: make venv-gptq)

Each variant gets variant.json (format, size, bits/weight, build seconds, sanity perplexity) and provenance.json;
a variant that fails is recorded as failed with its reason, the others are still built. See docs/quantization.md.
"""

import hydra
from omegaconf import DictConfig

import costlab.config  # noqa: F401  (registers the config resolvers)
from costlab.pipeline import main_guard, open_run, run_stage


@hydra.main(version_base="1.3", config_path="../configs", config_name="config")
def main(cfg: DictConfig) -> dict:
    return main_guard(lambda: run_stage(cfg, open_run(cfg), "quantize"))


if __name__ == "__main__":
    main()
