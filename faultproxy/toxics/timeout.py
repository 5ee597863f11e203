"""Toxiproxy's ``timeout``: nothing passes; closed after a time, or never (the blackhole)."""

from __future__ import annotations

from typing import Any, ClassVar

from wsresilience.faultproxy.toxics.model import register
from wsresilience.faultproxy.toxics.stage import Emit, Stage


@register("timeout")
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
