"""Toxiproxy's ``limit_data``: the connection closed once so many bytes have passed."""

from __future__ import annotations

from typing import Any, ClassVar

from wsresilience.faultproxy.toxics.model import register
from wsresilience.faultproxy.toxics.stage import Emit, Stage


@register("limit_data")
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
