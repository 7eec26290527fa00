"""Executors run one stage (or one wave of it): webhook, command, dry-run."""
