"""Toxics: what they are (definitions, JSON) and what they do (per-connection stages).

A :class:`Toxic` is the definition a user adds to a proxy, with the same JSON shape
as Toxiproxy 2.x::

    {"name": "latency_downstream", "type": "latency", "stream": "downstream",
     "toxicity": 1.0, "attributes": {"latency": 200, "jitter": 50}}

A :class:`Stage` is that toxic at work on one direction of one connection. Each
connection draws, once per toxic, whether the toxic applies to it (``toxicity`` is
that probability), from the proxy's seeded generator, so a run can be repeated.

Two kinds of stage:

* byte stages (Toxiproxy's toxics) see chunks of bytes and pass them on through
  ``emit``, possibly later, in pieces, or not at all;
* frame stages (ours) see whole RFC 6455 frames and return the frames to send.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from wsresilience.faultproxy.wsframes import OP_PONG, OP_TEXT, Frame

STREAMS = ("upstream", "downstream")

Emit = Callable[[bytes], Awaitable[None]]


class ToxicError(ValueError):
    """A toxic definition that cannot be used; the message says what was expected and seen."""


class ConnectionControl(Protocol):
    """What a stage may do to the connection it works on."""

    def close(self) -> None:
        """Close both sides gracefully (FIN)."""

    def reset(self) -> None:
        """Close both sides abruptly (RST, via SO_LINGER 0)."""


# --------------------------------------------------------------------------- definitions


@dataclass
class Toxic:
    """A named fault on one stream of a proxy, as Toxiproxy describes it."""

    type: str
    name: str = ""
    stream: str = "downstream"
    toxicity: float = 1.0
    attributes: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        stage_class = STAGES.get(self.type)
        if stage_class is None:
            raise ToxicError(f"invalid toxic type: expected one of {', '.join(sorted(STAGES))}, got {self.type!r}")
        if self.stream not in STREAMS:
            raise ToxicError(
                f"stream was invalid, can be either upstream or downstream: got {self.stream!r}"
            )
        if not self.name:
            self.name = f"{self.type}_{self.stream}"
        if not isinstance(self.name, str):
            raise ToxicError(f"toxic name: expected a string, got {self.name!r}")
        self.toxicity = _check_toxicity(self.toxicity)
        self.attributes = stage_class.check_attributes({**stage_class.DEFAULTS, **(self.attributes or {})})

    @classmethod
    def from_json(cls, data: Any) -> Toxic:
        """Build from a Toxiproxy toxic object (``type`` required, the rest defaulted)."""
        if not isinstance(data, dict):
            raise ToxicError(f"toxic: expected a JSON object, got {type(data).__name__}")
        attributes = data.get("attributes") or {}
        if not isinstance(attributes, dict):
            raise ToxicError(f"attributes: expected a JSON object, got {type(attributes).__name__}")
        return cls(
            type=str(data.get("type", "")),
            name=data.get("name") or "",
            stream=data.get("stream") or "downstream",
            toxicity=data.get("toxicity", 1.0),
            attributes=attributes,
        )

    def updated(self, data: Any) -> Toxic:
        """A copy with ``attributes`` merged and ``toxicity`` replaced, as Toxiproxy's update."""
        if not isinstance(data, dict):
            raise ToxicError(f"toxic update: expected a JSON object, got {type(data).__name__}")
        attributes = data.get("attributes") or {}
        if not isinstance(attributes, dict):
            raise ToxicError(f"attributes: expected a JSON object, got {type(attributes).__name__}")
        return Toxic(
            type=self.type,
            name=self.name,
            stream=self.stream,
            toxicity=data.get("toxicity", self.toxicity),
            attributes={**self.attributes, **attributes},
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "stream": self.stream,
            "toxicity": self.toxicity,
            "attributes": dict(self.attributes),
        }


def _check_toxicity(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ToxicError(f"toxicity: expected a number from 0 to 1, got {value!r}")
    return float(value)


def _int_attr(attributes: dict[str, Any], name: str, minimum: int = 0) -> int:
    value = attributes[name]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ToxicError(f"attribute {name}: expected an integer >= {minimum}, got {value!r}")
    return value


# --------------------------------------------------------------------------- stages


class Stage:
    """One toxic at work on one direction of one connection.

    ``active`` is the per-connection toxicity draw; an inactive stage does nothing.
    Timers are plain ``call_later`` handles, cancelled by :meth:`stop`, so a stage
    owns no task that could leak.
    """

    DEFAULTS: ClassVar[dict[str, Any]] = {}
    frames: ClassVar[bool] = False  # True for frame stages (WebSocket-aware)

    def __init__(self, toxic: Toxic, conn: ConnectionControl, rng: random.Random, active: bool) -> None:
        self.toxic = toxic
        self.conn = conn
        self.rng = rng
        self.active = active
        self._timers: list[asyncio.TimerHandle] = []
        self._woken = asyncio.Event()

    @classmethod
    def check_attributes(cls, attributes: dict[str, Any]) -> dict[str, Any]:
        """Validate and normalise attributes (defaults already merged in)."""
        for name in cls.DEFAULTS:
            if isinstance(cls.DEFAULTS[name], int):
                attributes[name] = _int_attr(attributes, name)
        return attributes

    @property
    def attrs(self) -> dict[str, Any]:
        return self.toxic.attributes

    def start(self) -> None:
        """Begin work (timers); called when the stage is attached and active."""

    def stop(self) -> None:
        """End work: cancel timers and release data held in a sleep."""
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        self._woken.set()

    def reconfigure(self, toxic: Toxic, active: bool) -> None:
        """Apply an updated definition, keeping per-connection state such as counters."""
        self.stop()
        self._woken = asyncio.Event()
        self.toxic = toxic
        self.active = active
        if active:
            self.start()

    def _later(self, delay_ms: float, callback: Callable[[], None]) -> None:
        loop = asyncio.get_running_loop()
        self._timers.append(loop.call_later(max(0.0, delay_ms) / 1000.0, callback))

    async def _sleep_until(self, deadline: float) -> None:
        """Sleep until ``deadline`` (loop time), or until the stage is stopped."""
        delay = deadline - asyncio.get_running_loop().time()
        if delay <= 0 or self._woken.is_set():
            return
        try:
            async with asyncio.timeout(delay):
                await self._woken.wait()
        except TimeoutError:
            pass

    # Byte stages override these.
    async def process(self, data: bytes, arrived: float, emit: Emit) -> None:
        """Pass ``data`` (read at loop time ``arrived``) on through ``emit``."""
        await emit(data)

    async def on_eof(self) -> None:
        """The source half-closed; return when the close may travel on."""

    # Frame stages override this.
    def on_frame(self, frame: Frame) -> list[Frame]:
        """Return the frames to send in place of ``frame``."""
        return [frame]


class Latency(Stage):
    """Delay every chunk by ``latency`` ms, plus or minus up to ``jitter`` ms.

    The delay counts from when the chunk was read, so chunks in flight overlap
    (a pipe with latency, not a queue of sleeps), and order is kept.
    """

    DEFAULTS: ClassVar[dict[str, Any]] = {"latency": 0, "jitter": 0}

    async def process(self, data: bytes, arrived: float, emit: Emit) -> None:
        delay = self.attrs["latency"]
        jitter = self.attrs["jitter"]
        if jitter > 0:
            delay += self.rng.randrange(-jitter, jitter)
        await self._sleep_until(arrived + delay / 1000.0)
        await emit(data)


class Bandwidth(Stage):
    """Limit the stream to ``rate`` KB/s (1 KB = 1000 bytes), in slices of at most 100 ms."""

    DEFAULTS: ClassVar[dict[str, Any]] = {"rate": 0}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._next = 0.0

    async def process(self, data: bytes, arrived: float, emit: Emit) -> None:
        rate = self.attrs["rate"] * 1000  # bytes per second
        if rate <= 0:
            await emit(data)
            return
        loop = asyncio.get_running_loop()
        slice_size = max(1, rate // 10)
        for start in range(0, len(data), slice_size):
            piece = data[start : start + slice_size]
            self._next = max(self._next, loop.time()) + len(piece) / rate
            await self._sleep_until(self._next)
            await emit(piece)


class Slicer(Stage):
    """Cut chunks into pieces of about ``average_size`` bytes (+/- ``size_variation``),
    ``delay`` microseconds apart, as TCP segmentation might."""

    DEFAULTS: ClassVar[dict[str, Any]] = {"average_size": 0, "size_variation": 0, "delay": 0}

    @classmethod
    def check_attributes(cls, attributes: dict[str, Any]) -> dict[str, Any]:
        attributes = super().check_attributes(attributes)
        if attributes["average_size"] and attributes["size_variation"] >= attributes["average_size"]:
            raise ToxicError(
                "attribute size_variation: expected less than average_size "
                f"({attributes['average_size']}), got {attributes['size_variation']}"
            )
        return attributes

    def _cuts(self, size: int) -> list[int]:
        average, variation = self.attrs["average_size"], self.attrs["size_variation"]
        bounds = [0]
        pending = [(0, size)]
        while pending:
            start, end = pending.pop()
            if (end - start) - average <= variation:
                bounds.append(end)
                continue
            mid = start + (end - start) // 2
            if variation:
                mid += self.rng.randrange(-variation, variation)
            pending.append((mid, end))
            pending.append((start, mid))
        return bounds

    async def process(self, data: bytes, arrived: float, emit: Emit) -> None:
        if self.attrs["average_size"] <= 0:
            await emit(data)
            return
        loop = asyncio.get_running_loop()
        bounds = self._cuts(len(data))
        for i in range(1, len(bounds)):
            await emit(data[bounds[i - 1] : bounds[i]])
            if i < len(bounds) - 1 and self.attrs["delay"]:
                await self._sleep_until(loop.time() + self.attrs["delay"] / 1e6)


class Timeout(Stage):
    """Let nothing through; close the connection after ``timeout`` ms.

    ``timeout: 0`` never closes: the half-open blackhole. The peer sees no data,
    no FIN and no RST, so only its own timers can notice.
    """

    DEFAULTS: ClassVar[dict[str, Any]] = {"timeout": 0}

    def start(self) -> None:
        if self.attrs["timeout"] > 0:
            self._later(self.attrs["timeout"], self.conn.close)

    async def process(self, data: bytes, arrived: float, emit: Emit) -> None:
        return  # dropped on the floor


class ResetPeer(Stage):
    """Reset the connection (TCP RST) after ``timeout`` ms (0: at once); drop data until then.

    Differs from Toxiproxy in one point: the timer starts when the toxic meets the
    connection, not at the next chunk of data, so an idle connection is reset too.
    """

    DEFAULTS: ClassVar[dict[str, Any]] = {"timeout": 0}

    def start(self) -> None:
        self._later(self.attrs["timeout"], self.conn.reset)

    async def process(self, data: bytes, arrived: float, emit: Emit) -> None:
        return


class SlowClose(Stage):
    """Hold a close (FIN) for ``delay`` ms before passing it on."""

    DEFAULTS: ClassVar[dict[str, Any]] = {"delay": 0}

    async def on_eof(self) -> None:
        await self._sleep_until(asyncio.get_running_loop().time() + self.attrs["delay"] / 1000.0)


class LimitData(Stage):
    """Close the connection once ``bytes`` bytes have passed in this direction."""

    DEFAULTS: ClassVar[dict[str, Any]] = {"bytes": 0}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.transmitted = 0

    async def process(self, data: bytes, arrived: float, emit: Emit) -> None:
        remaining = self.attrs["bytes"] - self.transmitted
        if remaining > 0:
            piece = data[:remaining]
            self.transmitted += len(piece)
            await emit(piece)
        if self.attrs["bytes"] - self.transmitted <= 0:
            self.conn.close()


# --------------------------------------------------------------------------- frame stages


class FrameStage(Stage):
    """Base of the WebSocket-aware toxics: counts data frames since it met the connection."""

    frames: ClassVar[bool] = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.data_frames = 0
        #: Set to have the link reset the connection once what came before is written.
        self.reset_requested = False

    def on_frame(self, frame: Frame) -> list[Frame]:
        if not frame.is_data:
            return self.on_control(frame)
        self.data_frames += 1
        return self.on_data(frame, self.data_frames)

    def on_control(self, frame: Frame) -> list[Frame]:
        return [frame]

    def on_data(self, frame: Frame, index: int) -> list[Frame]:
        return [frame]


class DropPongs(FrameStage):
    """Drop PONG frames, and only them: data still flows, but the peer's keepalive starves."""

    def on_control(self, frame: Frame) -> list[Frame]:
        return [] if frame.opcode == OP_PONG else [frame]


class CutAtFrame(FrameStage):
    """Reset the connection instead of delivering a chosen data frame.

    The frame is the ``frame``-th data frame (1-based), or, when ``field`` is set,
    the first JSON text frame whose top-level ``field`` is a number ``>= value``
    (e.g. ``{"field": "seq", "value": 5}``). Frames before it are delivered; it and
    everything after are not. Compressed (permessage-deflate) frames are opaque to
    the JSON match.
    """

    DEFAULTS: ClassVar[dict[str, Any]] = {"frame": 1, "field": "", "value": 0}

    @classmethod
    def check_attributes(cls, attributes: dict[str, Any]) -> dict[str, Any]:
        attributes["frame"] = _int_attr(attributes, "frame", minimum=1)
        if not isinstance(attributes["field"], str):
            raise ToxicError(f"attribute field: expected a string, got {attributes['field']!r}")
        value = attributes["value"]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ToxicError(f"attribute value: expected a number, got {value!r}")
        return attributes

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cut = False

    def _matches(self, frame: Frame, index: int) -> bool:
        field_name = self.attrs["field"]
        if not field_name:
            return index == self.attrs["frame"]
        if frame.opcode != OP_TEXT or not frame.fin or frame.rsv1:
            return False
        try:
            message = json.loads(frame.unmasked_payload())
        except (ValueError, UnicodeDecodeError):
            return False
        if not isinstance(message, dict):
            return False
        seen = message.get(field_name)
        return isinstance(seen, (int, float)) and not isinstance(seen, bool) and seen >= self.attrs["value"]

    def on_frame(self, frame: Frame) -> list[Frame]:
        if self.cut:
            return []
        return super().on_frame(frame)

    def on_data(self, frame: Frame, index: int) -> list[Frame]:
        if self._matches(frame, index):
            self.cut = True
            self.reset_requested = True
            return []
        return [frame]


class DuplicateFrame(FrameStage):
    """Send the ``frame``-th data frame (1-based) twice."""

    DEFAULTS: ClassVar[dict[str, Any]] = {"frame": 1}

    @classmethod
    def check_attributes(cls, attributes: dict[str, Any]) -> dict[str, Any]:
        attributes["frame"] = _int_attr(attributes, "frame", minimum=1)
        return attributes

    def on_data(self, frame: Frame, index: int) -> list[Frame]:
        return [frame, frame] if index == self.attrs["frame"] else [frame]


class CorruptFrame(FrameStage):
    """XOR one payload byte (``offset``, wrapped to the payload) of the ``frame``-th data
    frame with ``xor``. On masked (client) frames, flipping bits of the masked byte
    flips the same bits of the unmasked byte, so the corruption survives unmasking."""

    DEFAULTS: ClassVar[dict[str, Any]] = {"frame": 1, "offset": 0, "xor": 255}

    @classmethod
    def check_attributes(cls, attributes: dict[str, Any]) -> dict[str, Any]:
        attributes["frame"] = _int_attr(attributes, "frame", minimum=1)
        attributes["offset"] = _int_attr(attributes, "offset")
        attributes["xor"] = _int_attr(attributes, "xor", minimum=1)
        if attributes["xor"] > 255:
            raise ToxicError(f"attribute xor: expected 1 to 255, got {attributes['xor']}")
        return attributes

    def on_data(self, frame: Frame, index: int) -> list[Frame]:
        if index != self.attrs["frame"] or not frame.payload:
            return [frame]
        payload = bytearray(frame.payload)
        payload[self.attrs["offset"] % len(payload)] ^= self.attrs["xor"]
        return [Frame(frame.header, bytes(payload))]


STAGES: dict[str, type[Stage]] = {
    "latency": Latency,
    "bandwidth": Bandwidth,
    "slicer": Slicer,
    "timeout": Timeout,
    "reset_peer": ResetPeer,
    "slow_close": SlowClose,
    "limit_data": LimitData,
    "drop_pongs": DropPongs,
    "cut_at_frame": CutAtFrame,
    "duplicate_frame": DuplicateFrame,
    "corrupt_frame": CorruptFrame,
}
