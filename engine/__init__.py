"""The embedded Temporal dev server and process signal handling, shared by the CLI, the worker, tests and bench."""
