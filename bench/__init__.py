"""The benchmark: how close whistle runs to Temporal's own ceiling on this machine."""
