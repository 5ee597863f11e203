"""Toxiproxy's ``reset_peer``: the connection reset (TCP RST) after a time."""

from __future__ import annotations

from typing import Any, ClassVar

from wsresilience.faultproxy.toxics.model import register
from wsresilience.faultproxy.toxics.stage import Emit, Stage


@register("reset_peer")
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
