"""Runtime: the library's own event loop thread, time arguments, named choices, and the
event log.

Imports nothing else from the core: every other sub-package builds on it."""
