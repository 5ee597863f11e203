"""Conversations that survive reconnects: the client's transcript and the session protocol.

May import ``runtime``, ``client`` and ``masking``."""
