"""Flapping clients: connect, hold, drop, wait, again, many clients at once.

May import ``runtime``, ``client``, ``masking``, ``stats`` and ``profiles``."""
