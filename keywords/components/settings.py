"""Library-wide settings: the one default timeout, and the target every component connects to."""

from __future__ import annotations

from datetime import timedelta

from robot.api import logger
from robot.api.deco import keyword

from wsresilience.components.base import LibraryComponent


class SettingsKeywords(LibraryComponent):
    """Settings shared by every component."""

    @keyword(tags=["Setter", "Settings"])
    def set_library_timeout(self, timeout: timedelta) -> str:
        """Sets the default timeout of every wait in every component; returns the old one.

        The old value comes back as a Robot time string, so it can be restored:

        | ${old} =    Set Library Timeout    30 s
        | Open Heartbeat Connection    ${URL}
        | [Teardown]    Set Library Timeout    ${old}
        """
        old = self.ctx.set_timeout(timeout)
        logger.info(f"Library timeout set to {timeout.total_seconds():g} s (was {old}).")
        return old

    @keyword(tags=["Getter", "Settings"])
    def get_library_timeout(self) -> str:
        """Returns the default timeout of every wait, as a Robot time string."""
        from robot.utils import secs_to_timestr

        return secs_to_timestr(self.ctx.timeout)
