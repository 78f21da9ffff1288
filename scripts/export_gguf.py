"""Write a serving-ready GGUF + a serving snippet (llama-cpp-python server / llama-server) + an OpenAI SDK call.

    python scripts/export_gguf.py +exp=demo quant.export.variant=student-Q4_K_M   # a variant the quantize stage built
    python scripts/export_gguf.py +quant=gguf quant.export.base=teacher quant.export.type=Q5_K_M   # quantize now

Output: quant.export.out_dir (default <run_dir>/export/): <name>.gguf, serve.sh, client.py, export.json.
"""

from pathlib import Path

import hydra
from omegaconf import DictConfig

import costlab.config  # noqa: F401  (registers the config resolvers)
from costlab.config import to_container
from costlab.errors import exit_on_error
from costlab.paths import set_offline_env
from costlab.pipeline import open_run
from costlab.provenance import make_provenance, write_provenance


def export(cfg: DictConfig) -> dict:
    from costlab.quant.export import export_gguf
    from costlab.quant.gguf import GGUFMethod
    from costlab.quant.stage import find_bases, quant_config

    qc = quant_config(cfg)  # setup (open_run validates the whole config)
    run_dir = open_run(cfg)
    exp = qc.export.model_dump()
    hf_dirs = None
    if not qc.export.variant:
        hf_dirs, skipped = find_bases(cfg, run_dir, [qc.export.base])
        for why in skipped.values():
            print(f"[costlab] export: {why}")
    gguf = GGUFMethod(**qc.methods["gguf"].params).p if "gguf" in qc.methods else None
    info = export_gguf(run_dir, exp, hf_dirs, gguf.converter if gguf else None, gguf.outtype if gguf else "f16")  # run
    out_dir = Path(qc.export.out_dir)  # save
    write_provenance(
        out_dir,
        make_provenance(
            to_container(cfg),
            seed=int(cfg.seed),
            inputs={"gguf": info["gguf"]},
            extra={"stage": "export", "export": info},
        ),
    )
    print(f"[costlab] exported {info['name']} ({info['size_mb']} MB, {info['how']}) → {info['gguf']}")
    print(f"[costlab] serve:  bash {info['serve']}")
    print(f"[costlab] client: python {info['client']}")
    return info  # metrics


@hydra.main(version_base="1.3", config_path="../configs", config_name="config")
def main(cfg: DictConfig) -> dict:
    set_offline_env()
    with exit_on_error():
        return export(cfg)


if __name__ == "__main__":
    main()
