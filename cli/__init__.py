"""The ``whistle`` command."""
