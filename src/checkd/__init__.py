"""checkd: host health checks with SQL history, an HTTP API, dashboard, metrics and CLI."""
