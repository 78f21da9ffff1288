"""The research entry point: run an experiment's stages in order into runs/<exp>/<run_id>/ (= `costlab run`).

    python scripts/distill.py +exp=demo                        # the CPU demo: every stage the experiment lists
    python scripts/distill.py +exp=smoke run_id=t1             # toy scale
    python scripts/distill.py +exp=demo 'stages=[evaluate]'    # one stage on its own (same run dir)

Stages whose outputs already exist for the same resolved config are skipped; an interrupted stage resumes.
"""

import sys

from costlab.pipeline import run_experiment

if __name__ == "__main__":
    run_experiment(sys.argv[1:], prog=sys.argv[0])
