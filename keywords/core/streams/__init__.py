"""Resumable streams: the protocol adapter seam, the client session, assembly and backoff.

May import ``runtime``, ``client``, ``masking`` and ``profiles`` (the Socket.IO codec). The
adapter API is public through ``wsresilience.extend``. The profiles' stream adapters register
themselves when imported here (``socketio``: Socket.IO events and connection state recovery).
"""

from wsresilience.core.streams import socketio  # noqa: F401  (registration)
