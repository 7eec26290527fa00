"""Where continuous KPIs are read from: SQL databases, Prometheus and MLflow (I/O adapters).

Each reader returns one finite number or raises :class:`bot.domain.kpis.SourceFailure` with a
reason that says what came back and never holds a secret.
"""
