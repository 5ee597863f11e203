"""The observed client connection: opens, records, plays dead, and reads its own socket.

May import ``runtime``, ``masking``, ``wsresilience.errors`` and ``wsresilience.faultproxy.wsframes`` (the one
RFC 6455 frame parser)."""
