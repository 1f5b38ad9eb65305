"""The client side of cases: raise, act, read. Shared by the CLI and the API."""
