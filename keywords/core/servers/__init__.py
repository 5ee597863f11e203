"""Servers the suites start themselves: a real process on an OS-chosen port.

May import ``runtime`` and ``wsresilience.errors``."""
