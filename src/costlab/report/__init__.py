"""Comparison report (report.md/html), per-variant wandb runs and the routing-quality curve."""
