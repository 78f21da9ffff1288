"""`python -m costlab ...` = the `costlab` command (src/costlab/cli.py)."""

from costlab.cli import main

main()
