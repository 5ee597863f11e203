"""Resumable streams: the protocol adapter seam, the client session, assembly and backoff.

May import ``runtime`` and ``client``. The adapter API is public through ``wsresilience.extend``."""
