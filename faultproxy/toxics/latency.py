"""Toxiproxy's ``latency``: every chunk delayed, with jitter."""

from __future__ import annotations

from typing import Any, ClassVar

from wsresilience.faultproxy.toxics.model import register
from wsresilience.faultproxy.toxics.stage import Emit, Stage


@register("latency")
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
