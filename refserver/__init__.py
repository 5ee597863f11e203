"""The reference WebSocket service the suites run against by default.

It implements heartbeat, resume and session semantics for real, and can be started with
seeded defects (``--defect NAME``) so the suites can prove they catch them.
"""

__version__ = "0.1.0"
