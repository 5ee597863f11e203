"""The stable public API for extending the library: import from here, not from ``wsresilience.core``.

``wsresilience.core`` is the library's inside and is rearranged as the library grows; what this
module exports keeps its names and meaning across releases. Today it is the stream-protocol
adapter API (docs/adapters.md): subclass :class:`StreamAdapter` so the stream keywords can
speak your service's protocol, and select it by dotted path with the ``adapter`` import
argument of ``wsresilience.StreamResume`` or the `Use Stream Protocol Adapter` keyword. Protocol
profiles for the other concerns will join it here.

| name | what it is |
| :class:`StreamAdapter` | the base class: ``start_message``, ``resume_message``, ``ack_message``, ``parse`` |
| :class:`ReferenceAdapter` | the reference server's protocol (``stream/2`` offered, ``stream/1`` read), a worked example |
| :class:`ReferenceStream1Adapter` | the same, offering ``stream/1`` only (a JSON message per chunk) |
| :class:`StreamRequest` | what a test asks for: kind, size, chunk size, seed, pacing, window |
| :class:`Started`, :class:`ChunkIn`, :class:`Ended`, :class:`Resumed`, :class:`Refused` | the events ``parse`` returns |
| :class:`Reply`, :class:`Connected` | events of adapters with a handshake: a message to send back, the handshake's end (``recovered``) |
| :class:`EventConvention`, :func:`register_for_profile` | the event names of event streams; a profile's own stream adapter |
| ``Event`` | the union of those events |
| :class:`UnexpectedMessage` | what ``parse`` raises for a message the protocol does not allow |
| ``UNSUPPORTED`` | error codes meaning "no resumable streams here": tests SKIP |
| :func:`load_adapter` | an adapter from ``reference``, a dotted path, a class or an instance |
"""

from __future__ import annotations

from wsresilience.core.streams.adapter import (
    UNSUPPORTED,
    ChunkIn,
    Connected,
    Ended,
    Event,
    EventConvention,
    ReferenceAdapter,
    ReferenceStream1Adapter,
    Refused,
    Reply,
    Resumed,
    Started,
    StreamAdapter,
    StreamRequest,
    UnexpectedMessage,
    load_adapter,
    register_for_profile,
)

__all__ = [
    "UNSUPPORTED",
    "ChunkIn",
    "Connected",
    "Ended",
    "Event",
    "EventConvention",
    "ReferenceAdapter",
    "ReferenceStream1Adapter",
    "Refused",
    "Reply",
    "Resumed",
    "Started",
    "StreamAdapter",
    "StreamRequest",
    "UnexpectedMessage",
    "load_adapter",
    "register_for_profile",
]
