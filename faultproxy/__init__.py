"""A fault-injecting TCP proxy for WebSocket resilience tests, modelled on Toxiproxy.

Toxiproxy's toxics (latency, bandwidth, slicer, timeout, reset_peer, slow_close,
limit_data) plus WebSocket-aware ones (drop_pongs, cut_at_frame, duplicate_frame,
corrupt_frame), a loop-agnostic asyncio API (:class:`FaultProxy`,
:class:`ProxyCollection`) and a Toxiproxy-compatible HTTP API
(``python -m wsresilience.faultproxy --api-port 0``).
"""

from wsresilience.faultproxy.collection import ProxyCollection
from wsresilience.faultproxy.errors import AlreadyExists, BadRequest, FaultProxyError, NotFound
from wsresilience.faultproxy.proxy import FaultProxy
from wsresilience.faultproxy.toxics import STAGES, Toxic, ToxicError

__version__ = "0.1.0"

TOXIC_TYPES = tuple(STAGES)

__all__ = [
    "AlreadyExists",
    "BadRequest",
    "FaultProxy",
    "FaultProxyError",
    "NotFound",
    "ProxyCollection",
    "TOXIC_TYPES",
    "Toxic",
    "ToxicError",
    "__version__",
]
