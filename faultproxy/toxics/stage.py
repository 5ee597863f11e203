"""What a toxic does: a :class:`Stage` at work on one direction of one connection.

Each connection draws, once per toxic, whether the toxic applies to it (``toxicity`` is that
probability), from the proxy's seeded generator, so a run can be repeated. Two kinds of stage:

* byte stages (Toxiproxy's toxics) see chunks of bytes and pass them on through ``emit``,
  possibly later, in pieces, or not at all;
* frame stages (:class:`FrameStage`, ours) see whole RFC 6455 frames and return the frames to
  send.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, Protocol

from wsresilience.faultproxy.toxics.model import Toxic, int_attr
from wsresilience.faultproxy.wsframes import Frame

Emit = Callable[[bytes], Awaitable[None]]


class ConnectionControl(Protocol):
    """What a stage may do to the connection it works on."""

    def close(self) -> None:
        """Close both sides gracefully (FIN)."""

    def reset(self) -> None:
        """Close both sides abruptly (RST, via SO_LINGER 0)."""


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
                attributes[name] = int_attr(attributes, name)
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
