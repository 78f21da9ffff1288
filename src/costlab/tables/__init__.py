"""Cost table, routing table, LiteLLM price export, break-even and plots — built from eval/*.json only."""
