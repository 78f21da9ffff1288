"""``python -m costlab.eval.worker SPEC.json``: measure one variant in a fresh process (see costlab.eval.stage)."""

import sys

from costlab.eval.stage import worker_main

if __name__ == "__main__":
    sys.exit(worker_main(sys.argv[1]))
