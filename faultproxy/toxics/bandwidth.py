"""Toxiproxy's ``bandwidth``: the stream limited to a rate in KB/s."""

from __future__ import annotations

import asyncio

from typing import Any, ClassVar

from wsresilience.faultproxy.toxics.model import register
from wsresilience.faultproxy.toxics.stage import Emit, Stage


@register("bandwidth")
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
