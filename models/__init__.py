"""Plain data shared by workflows, activities and clients.

Everything here except ``tables`` is safe to import into workflow code: pure
dataclasses and functions, no I/O.
"""
