"""The protocol adapter seam: how the stream keywords talk to a streaming service.

The library never builds or parses a message itself. It asks an adapter for the message
that starts, resumes or acknowledges a stream, and hands every incoming message to the
adapter, which turns it into a few plain events (:class:`Started`, :class:`ChunkIn`,
:class:`Ended`, :class:`Resumed`, :class:`Refused`). An adapter does no I/O and keeps no
connection: it is a translator, so it is short and easy to unit-test.

:class:`ReferenceAdapter` speaks the reference server's protocol (docs/protocol.md,
section 8): it offers ``stream/2`` (chunks batched in binary frames, section 8.1) and reads
``stream/1`` (a JSON message per chunk) from a service that does not take the offer. A service with another protocol gets its own subclass of
:class:`StreamAdapter` (see docs/adapters.md); select it with the library's ``adapter``
import argument or the `Use Stream Protocol Adapter` keyword, by dotted path. Extensions
import this API from ``wsresilience.extend``, its stable public home.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii
from typing import Any

from wsresilience.core.masking import mask_secret, mask_text


@dataclass(frozen=True)
class StreamRequest:
    """What to stream: kind (text, json, multipart), size, chunk size, seed, pacing, window."""

    kind: str = "text"
    size: int = 16 * 1024
    chunk_size: int = 1024
    seed: int = 0
    interval_ms: float = 0.0
    window_ms: float | None = None
    components: list[tuple[str, str]] | None = None
    #: Chunks the service may send beyond the last ack (0: no limit); ack at least this often.
    max_in_flight: int = 0


@dataclass(frozen=True)
class Started:
    """The service accepted a stream request (``ref`` is the client's correlation id)."""

    ref: str
    stream_id: str
    epoch: str = ""
    kind: str = "text"
    size: int | None = None
    schema: dict[str, Any] | None = None
    components: list[str] = field(default_factory=list)
    window_ms: float | None = None

    def __str__(self) -> str:
        size = f", {self.size} bytes" if self.size is not None else ""
        return f"a start accepted ({self.kind}{size})"


@dataclass(frozen=True)
class ChunkIn:
    """One chunk of a stream."""

    stream_id: str
    seq: int
    data: str
    component: str | None = None

    def __str__(self) -> str:
        return f"chunk {self.seq} ({len(self.data)} characters)"


@dataclass(frozen=True)
class Ended:
    """The end of a stream: chunk count, SHA-256 of the payload, per-component summaries."""

    stream_id: str
    chunks: int
    sha256: str
    size: int | None = None
    components: list[dict[str, Any]] = field(default_factory=list)

    def __str__(self) -> str:
        return f"the end of the stream ({self.chunks} chunks)"


@dataclass(frozen=True)
class Resumed:
    """The service accepted a resume and will replay from ``from_seq``."""

    stream_id: str
    from_seq: int

    def __str__(self) -> str:
        return f"a resume accepted from seq {self.from_seq}"


@dataclass(frozen=True)
class Refused:
    """An error answer: stable ``code``, human ``message``, which stream or request.

    Its text is a phrase for a sentence, ``error 'unknown-stream' (no such stream)``: the
    service's message shortened and masked, never the stream id (holding it is what
    entitles a client to resume).
    """

    code: str
    message: str
    stream_id: str | None = None
    ref: str | None = None

    def __str__(self) -> str:
        said = preview(self.message.rstrip(". "), 120)
        return f"error {self.code!r}" + (f" ({said})" if said else "")


@dataclass(frozen=True)
class Reply:
    """A message the protocol wants sent back at once on the same connection: the answer to
    the server's heartbeat (Engine.IO ``2`` → ``3``), or the next step of a handshake."""

    message: str | bytes

    def __str__(self) -> str:
        return "a message to answer"


@dataclass(frozen=True)
class Connected:
    """The application handshake on a connection finished (adapters with ``handshake``).

    ``recovered`` says whether the service restored the state of the session's previous
    connection (``resumes_connection`` adapters: Socket.IO connection state recovery), or is
    ``None`` on a first connection, where there was nothing to recover. ``detail`` says why
    in a phrase (``the service answered with the same pid``).
    """

    recovered: bool | None = None
    detail: str = ""

    def __str__(self) -> str:
        return "the end of the handshake"


Event = Started | ChunkIn | Ended | Resumed | Refused | Reply | Connected


class UnexpectedMessage(ValueError):
    """Raised by :meth:`StreamAdapter.parse` for a message the protocol does not allow.

    Its text says what the message is, as a phrase: ``a message that is not JSON``, ``a
    message of unknown type 'surprise'``. A start or resume waiting for its answer on that
    connection then fails at once, naming it (with the message shortened and masked).
    """

#: Error codes meaning "the service does not speak this protocol at all": tests SKIP.
UNSUPPORTED = frozenset({"unknown-type"})


class StreamAdapter:
    """Base class: translate between the library and one streaming protocol.

    Override the four methods. Messages are ``str`` (text frames) or ``bytes``. ``parse``
    returns a list (one message may carry several events, or none: return ``[]`` for
    messages the library should ignore), and raises :class:`UnexpectedMessage` (or any
    error) for a message the protocol does not allow, so that a wait for an answer fails
    at once instead of timing out.
    """

    #: Name shown in the log.
    name = "custom"
    #: Whether a connection is usable only once :meth:`parse` returned :class:`Connected`
    #: (an application handshake after the WebSocket one, answered through :class:`Reply`).
    handshake = False
    #: Whether a resume is the reconnect's handshake itself, for every stream at once
    #: (Socket.IO connection state recovery), instead of one :meth:`resume_message` per stream.
    resumes_connection = False

    def for_session(self) -> StreamAdapter:
        """The adapter one session uses: ``self`` (adapters keep no state), or a fresh copy
        for an adapter that remembers where a connection got to (Socket.IO: the session's
        pid and last offset)."""
        return self

    def connect_url(self, url: str) -> str:
        """The URL a connection opens for the service ``url`` names (Socket.IO adds its path)."""
        return url

    def cannot_express(self, request: StreamRequest) -> str | None:
        """Why this protocol cannot ask for ``request`` (``None`` when it can): the test then
        SKIPs with that reason, e.g. ``the event convention streams text only``."""
        return None

    def start_message(self, request: StreamRequest, ref: str) -> str | bytes:
        """The message that asks for a stream; answers must carry ``ref`` back."""
        raise NotImplementedError

    def resume_message(self, stream_id: str, last_seq: int, epoch: str) -> str | bytes:
        """The message that resumes ``stream_id`` after ``last_seq`` on a new connection."""
        raise NotImplementedError

    def ack_message(self, stream_id: str, seq: int) -> str | bytes | None:
        """A cumulative acknowledgement up to ``seq``, or ``None`` if the protocol has none."""
        return None

    def parse(self, message: str | bytes) -> list[Event]:
        """The events one incoming message carries."""
        raise NotImplementedError


#: The versions of the reference protocol this adapter reads, preferred first.
PROTOCOLS = ("stream/2", "stream/1")


class ReferenceAdapter(StreamAdapter):
    """The reference server's protocol (docs/protocol.md, section 8), ``stream/2`` offered.

    A start offers ``protocols`` (default: ``stream/2``, then ``stream/1``); the service
    picks one and says which in its ``stream-started``. A ``stream/1`` service ignores the
    offer and sends each chunk as a JSON message, as it always did. ``parse`` reads both
    forms either way: every chunk, batched or not, becomes one :class:`ChunkIn` with its own
    seq, so the session checks each exactly as it would in ``stream/1``. With
    ``protocols=("stream/1",)`` the start carries no offer at all: ``stream/1`` byte for byte.
    """

    name = "reference"

    def __init__(self, protocols: Sequence[str] = PROTOCOLS) -> None:
        unknown = [p for p in protocols if p not in PROTOCOLS]
        if unknown or not protocols:
            raise ValueError(f"Protocols must be some of {', '.join(PROTOCOLS)}, got {list(protocols)}.")
        self.protocols = tuple(protocols)

    def start_message(self, request: StreamRequest, ref: str) -> str:
        body: dict[str, Any] = {
            "kind": request.kind, "size": request.size, "chunk_size": request.chunk_size,
            "seed": request.seed, "interval_ms": request.interval_ms,
        }
        if request.window_ms is not None:
            body["window_ms"] = request.window_ms
        if request.components:
            body["components"] = [list(c) for c in request.components]
        if request.max_in_flight:
            body["max_in_flight"] = request.max_in_flight
        message: dict[str, Any] = {"type": "stream-start", "ref": ref, "request": body}
        if self.protocols != ("stream/1",):
            message["protocols"] = list(self.protocols)
        return _dump(message)

    def resume_message(self, stream_id: str, last_seq: int, epoch: str) -> str:
        message: dict[str, Any] = {"type": "stream-resume", "stream": stream_id, "last_seq": last_seq}
        if epoch:
            message["epoch"] = epoch
        return _dump(message)

    def ack_message(self, stream_id: str, seq: int) -> str:
        # Formatted, not dumped: one per few chunks; the same text as _dump would give.
        return f'{{"type":"stream-ack","stream":{encode_basestring_ascii(stream_id)},"seq":{int(seq):d}}}'

    def parse(self, message: str | bytes) -> list[Event]:
        """The events of one message: a text frame is a JSON object with a known ``type``, a
        binary frame a ``stream/2`` batch of chunks (:func:`parse_batch`); anything else
        raises :class:`UnexpectedMessage`."""
        if isinstance(message, bytes):
            if "stream/2" not in self.protocols:
                raise UnexpectedMessage("a binary message")
            return parse_batch(message)  # type: ignore[return-value]
        try:
            m = _loads(message)
        except ValueError:
            raise UnexpectedMessage("a message that is not JSON") from None
        if not isinstance(m, dict):
            raise UnexpectedMessage(f"a JSON {type(m).__name__}, not an object with a type")
        try:
            if m.get("type") == "chunk":  # most messages: no further call
                return [ChunkIn(m["stream"], int(m["seq"]), m["data"], m.get("component"))]
            return self._events(m)
        except UnexpectedMessage:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise UnexpectedMessage(f"a {m.get('type')!r} message with a missing or bad field "
                                    f"({type(exc).__name__}: {exc})") from None

    def _events(self, m: dict[str, Any]) -> list[Event]:
        kind = m.get("type")
        if kind == "chunk":
            return [ChunkIn(m["stream"], int(m["seq"]), m["data"], m.get("component"))]
        if kind == "stream-started":
            return [Started(
                str(m.get("ref", "")), m["stream"], m.get("epoch", ""), m.get("kind", "text"),
                m.get("bytes"), m.get("schema"), [c["name"] for c in m.get("components", [])],
                m.get("window_ms"),
            )]
        if kind == "stream-end":
            return [Ended(m["stream"], int(m["chunks"]), m["sha256"], m.get("bytes"),
                          list(m.get("components", [])))]
        if kind == "stream-resumed":
            return [Resumed(m["stream"], int(m["from_seq"]))]
        if kind == "error":
            ref = m.get("ref")
            return [Refused(str(m.get("code", "error")), str(m.get("message", "")),
                            m.get("stream"), None if ref is None else str(ref))]
        raise UnexpectedMessage(f"a message of unknown type {kind!r}")


@dataclass(frozen=True)
class EventConvention:
    """Which events a service that streams as named events (Socket.IO) uses: the client emits
    ``start`` with the request, the service emits ``chunk`` events ``{"id", "seq", "data"}``
    and then ``end`` ``{"id", "n", "sha256"}``. Set from variables (docs/profiles.md)."""

    start: str = "stream"
    chunk: str = "chunk"
    end: str = "end"


#: Builds a profile's stream adapter from the event convention and the handshake's auth.
AdapterFactory = Callable[[EventConvention, "dict[str, Any] | None"], StreamAdapter]

#: Stream adapters of the protocol profiles (``WS_PROTOCOL``) whose streams are not the
#: reference protocol's, by profile name; a module registers its own (:func:`register_for_profile`).
_BY_PROFILE: dict[str, AdapterFactory] = {}


def register_for_profile(profile: str, factory: AdapterFactory) -> None:
    """Make ``factory`` the stream adapter of the protocol profile named ``profile``."""
    _BY_PROFILE[profile] = factory


def adapter_for_profile(profile: str, convention: EventConvention,
                        auth: dict[str, Any] | None) -> StreamAdapter | None:
    """The stream adapter of the profile named ``profile``, or ``None`` when it has none
    (the reference profile uses :class:`ReferenceAdapter`, chosen by the caller)."""
    factory = _BY_PROFILE.get(profile)
    return None if factory is None else factory(convention, auth)
class ReferenceStream1Adapter(ReferenceAdapter):
    """The reference protocol offering ``stream/1`` only: a JSON text message per chunk, as
    before ``stream/2``. For a fault that must find each chunk's seq in a frame of its own
    (``Cut At Frame    field=seq``), select it with ``Use Stream Protocol Adapter
    wsresilience.extend.ReferenceStream1Adapter``."""

    def __init__(self) -> None:
        super().__init__(("stream/1",))


def parse_batch(frame: bytes) -> list[ChunkIn]:
    """The chunks of a ``stream/2`` frame, each with the seq its header names, in order.

    The frame is a one-line JSON header, ``\n``, then the chunks' UTF-8 data back to back:
    ``{"type": "chunks", "stream": ID, "seq": [n, …], "len": [bytes, …]}`` (+ ``"component":
    [name, …]``). Seqs are taken as the header gives them, never derived, so a skipped or
    repeated seq inside a batch reaches the assembly as it would in ``stream/1``. A header
    whose lists disagree, or lengths that do not add up to the data, raise
    :class:`UnexpectedMessage`.
    """
    header, newline, body = frame.partition(b"\n")
    if not newline or not header.startswith(b"{"):
        raise UnexpectedMessage("a binary message")
    try:
        h = json.loads(header)
        stream, seqs, lengths = h["stream"], h["seq"], h["len"]
        components = h.get("component") or [None] * len(seqs)
        if h.get("type") != "chunks":
            raise UnexpectedMessage(f"a binary message of type {h.get('type')!r}, not 'chunks'")
        if not len(seqs) == len(lengths) == len(components) or sum(lengths) != len(body):
            raise UnexpectedMessage(f"a 'chunks' frame whose header ({len(seqs)} seqs, "
                                    f"{len(lengths)} lengths adding up to {sum(lengths)} bytes) "
                                    f"does not match its {len(body)} bytes of data")
        chunks = []
        at = 0
        for seq, length, component in zip(seqs, lengths, components):
            chunks.append(ChunkIn(stream, int(seq), body[at:at + length].decode(), component))
            at += length
        return chunks
    except UnexpectedMessage:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # UnicodeDecodeError is a ValueError
        raise UnexpectedMessage(f"a 'chunks' frame with a missing or bad field "
                                f"({type(exc).__name__}: {exc})") from None


def preview(text: str, limit: int = 80, hide: list[str] | None = None) -> str:
    """``text`` on one line, URLs, known secrets and ``hide`` masked, cut to ``limit`` characters."""
    one_line = " ".join(mask_secret(mask_text(text), hide or []).split())
    return one_line if len(one_line) <= limit else one_line[:limit] + "…"


_scan = json.JSONDecoder().scan_once


def _loads(text: str) -> Any:
    """``json.loads(text)``, a little faster for a message with no whitespace around it (every
    chunk message of ``stream/1``): the C scanner straight away, without the two whitespace
    matches of :meth:`json.JSONDecoder.decode`. Anything else, an error included, goes
    through ``json.loads``, so what is accepted and how an error reads stay the same."""
    try:
        value, end = _scan(text, 0)
    except StopIteration:
        end = -1
    return value if end == len(text) else json.loads(text)


def _dump(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"))


def load_adapter(spec: str | StreamAdapter | type[StreamAdapter] | None) -> StreamAdapter:
    """An adapter from ``reference`` (default), a dotted path ``pkg.module.Class``, a class
    or an instance. Fails in one line naming what could not be loaded."""
    if spec is None or spec == "" or spec == "reference":
        return ReferenceAdapter()
    if isinstance(spec, StreamAdapter):
        return spec
    if isinstance(spec, type) and issubclass(spec, StreamAdapter):
        return spec()
    path = str(spec)
    module_name, _, class_name = path.rpartition(".")
    if not module_name:
        raise ValueError(f"Adapter {path!r} is not 'reference' or a dotted path like "
                         "'mypkg.adapters.MyAdapter'.")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"Cannot load stream adapter {path!r}: {exc}.") from None
    adapter = cls()
    if not isinstance(adapter, StreamAdapter):
        raise ValueError(f"{path!r} is not a StreamAdapter subclass.")
    return adapter
