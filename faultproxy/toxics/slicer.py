"""Toxiproxy's ``slicer``: chunks cut into small pieces, as TCP segmentation might."""

from __future__ import annotations

import asyncio

from typing import Any, ClassVar

from wsresilience.faultproxy.toxics.model import ToxicError, register
from wsresilience.faultproxy.toxics.stage import Emit, Stage


@register("slicer")
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
