"""Compare variants (and runs) in one report: report.md + report.html, plots, routing-quality curve.

    python scripts/report.py runs/demo/main                      # one run → runs/demo/main/report/
    python scripts/report.py runs/demo/main runs/demo/q8only -o reports/cmp   # several runs side by side
    python scripts/report.py runs/demo/main --wandb              # also one offline wandb run per variant

Reads only the runs' eval/ and tables/ files (run evaluate + build_tables first). The routing-quality curve
uses the eval config of the first run (eval.report.routing_curve) unless --cheap/--strong/--classifier are given.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from omegaconf import OmegaConf

import costlab.config  # noqa: F401  (registers the config resolvers)
from costlab.errors import CostlabError
from costlab.pipeline import main_guard
from costlab.provenance import make_provenance, write_provenance


def main() -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", type=Path, help="run dirs (runs/<exp>/<run_id>)")
    ap.add_argument("-o", "--out", type=Path, default=None, help="output dir (default: <first run>/report)")
    ap.add_argument("--cheap", default=None, help="cheap variant of the routing curve (default: cheapest measured)")
    ap.add_argument("--strong", default=None, help="strong variant (default: the eval reference)")
    ap.add_argument("--classifier", default=None, help="router's task classifier: keyword | oracle | module:attr")
    ap.add_argument("--wandb", action="store_true", help="log one wandb run per variant")
    ap.add_argument("--wandb-mode", default="offline", choices=["offline", "online", "disabled"],
                    help="wandb mode for --wandb (offline needs no login; `wandb sync` later)")
    args = ap.parse_args()

    def run() -> dict:
        from costlab.report.report import load_run, write_report
        from costlab.report.stage import top_level_copy

        for r in args.runs:
            if not r.is_dir():
                raise CostlabError(f"{r}: not a directory", "pass run dirs such as runs/demo/main")
        first = args.runs[0]
        cfg_path = first / "config.yaml"
        rcfg = {}
        if cfg_path.exists():
            rcfg = OmegaConf.to_container(OmegaConf.select(OmegaConf.load(cfg_path), "eval.report.routing_curve",
                                                           default=OmegaConf.create({}))) or {}
        for k in ("cheap", "strong", "classifier"):
            if getattr(args, k):
                rcfg[k] = getattr(args, k)
        out = args.out or first / "report"
        metrics = write_report(list(args.runs), out, rcfg)
        write_provenance(out, make_provenance({"runs": [str(r) for r in args.runs], "routing_curve": rcfg}, seed=None,
                                              inputs={f"run{i}_tables": r / "tables" for i, r in enumerate(args.runs)},
                                              extra={"stage": "report (scripts/report.py)", "metrics": metrics}))
        if args.out is None and len(args.runs) == 1:
            top_level_copy(first, out)
        if args.wandb:
            from costlab.report.wandb_log import log_variants

            for r in args.runs:
                lr = load_run(r)
                metrics.update(log_variants(r, lr["evals"], lr["cost"]["rows"], {"project": "costlab-eval",
                                                                                 "mode": args.wandb_mode}))
        print(f"[costlab] wrote {out / 'report.md'} and {out / 'report.html'}")
        return metrics

    return main_guard(run)


if __name__ == "__main__":
    main()
