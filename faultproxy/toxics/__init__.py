"""Toxics: what they are (definitions, JSON) and what they do (per-connection stages).

Laid out the way Toxiproxy lays out its toxics, one file each:

* :mod:`.model`: the :class:`Toxic` definition (Toxiproxy 2.x JSON, validation, defaults),
  :class:`ToxicError`, and the registry :data:`STAGES` with :func:`register`;
* :mod:`.stage`: :class:`Stage`, one toxic at work on one direction of one connection, and
  :class:`FrameStage`, the base of the WebSocket-aware ones;
* one module per toxic type, whose stage registers itself: Toxiproxy's byte toxics
  (``latency``, ``bandwidth``, ``slicer``, ``timeout`` (``timeout: 0`` is the half-open
  blackhole), ``reset_peer``, ``slow_close``, ``limit_data``) and our frame toxics
  (``drop_pongs``, ``cut_at_frame``, ``duplicate_frame``, ``corrupt_frame``).

A new toxic is a new module here with a ``@register("type")`` stage, imported below. Import
from this package (``from wsresilience.faultproxy.toxics import Toxic, STAGES, Stage``): it
has every toxic registered.
"""

from wsresilience.faultproxy.toxics.model import FIELDS, STAGES, STREAMS, Toxic, ToxicError, check_fields, register
from wsresilience.faultproxy.toxics.stage import ConnectionControl, Emit, FrameStage, Stage

# Each toxic module registers its stage on import, in this order (Toxiproxy's, then ours):
# STAGES, and so faultproxy.TOXIC_TYPES, follow it.
from wsresilience.faultproxy.toxics.latency import Latency
from wsresilience.faultproxy.toxics.bandwidth import Bandwidth
from wsresilience.faultproxy.toxics.slicer import Slicer
from wsresilience.faultproxy.toxics.timeout import Timeout
from wsresilience.faultproxy.toxics.reset_peer import ResetPeer
from wsresilience.faultproxy.toxics.slow_close import SlowClose
from wsresilience.faultproxy.toxics.limit_data import LimitData
from wsresilience.faultproxy.toxics.drop_pongs import DropPongs
from wsresilience.faultproxy.toxics.cut_at_frame import CutAtFrame
from wsresilience.faultproxy.toxics.duplicate_frame import DuplicateFrame
from wsresilience.faultproxy.toxics.corrupt_frame import CorruptFrame

__all__ = [
    "Bandwidth",
    "ConnectionControl",
    "CorruptFrame",
    "CutAtFrame",
    "DropPongs",
    "DuplicateFrame",
    "Emit",
    "FIELDS",
    "FrameStage",
    "Latency",
    "LimitData",
    "ResetPeer",
    "STAGES",
    "STREAMS",
    "Slicer",
    "SlowClose",
    "Stage",
    "Timeout",
    "Toxic",
    "ToxicError",
    "check_fields",
    "register",
]
