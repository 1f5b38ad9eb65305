"""The HTTP API (FastAPI): the same case actions as the CLI, scoped by principal."""
