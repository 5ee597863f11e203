"""Toxiproxy's ``slow_close``: a close (FIN) held back for a time."""

from __future__ import annotations

import asyncio

from typing import Any, ClassVar

from wsresilience.faultproxy.toxics.model import register
from wsresilience.faultproxy.toxics.stage import Stage


@register("slow_close")
class SlowClose(Stage):
    """Hold a close (FIN) for ``delay`` ms before passing it on."""

    DEFAULTS: ClassVar[dict[str, Any]] = {"delay": 0}

    async def on_eof(self) -> None:
        await self._sleep_until(asyncio.get_running_loop().time() + self.attrs["delay"] / 1000.0)
