"""Temporal activities: all I/O of a case lives here."""
