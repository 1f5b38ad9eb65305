"""Temporal workflows: pure logic and state, no I/O."""
