"""The observed client connection: opens, records, plays dead, and reads its own socket.

May import ``runtime``, ``masking`` and ``keywords.errors``."""
