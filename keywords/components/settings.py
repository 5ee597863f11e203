"""Library-wide settings and plain helpers for suites.

The one default timeout and the largest message a client accepts; what a suite reports about its run (the library version, a target
URL with its secrets masked); and the arithmetic suites need to derive bounds from their
thresholds (interval + timeout + tolerance, half a TTL, one more connection than the
baseline), so resource files never compute with inline Python.
"""

from __future__ import annotations

from datetime import timedelta

from robot.api import logger
from robot.api.deco import keyword

from wsresilience.components.base import LibraryComponent
from wsresilience.core.masking import mask_url

TAG = "Settings"


class SettingsKeywords(LibraryComponent):
    """Settings shared by every component, and helpers for deriving suite values."""

    @keyword(tags=["Setter", TAG])
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

    @keyword(tags=["Getter", TAG])
    def get_library_timeout(self) -> str:
        """Returns the default timeout of every wait, as a Robot time string."""
        from robot.utils import secs_to_timestr

        return secs_to_timestr(self.ctx.timeout)

    @keyword(tags=["Setter", TAG])
    def set_max_message_size(self, size: str) -> int:
        """Sets the largest message, in bytes, a client of any component accepts from the
        server, for connections opened from now on; returns the old limit in bytes.

        ``size`` is a number of bytes or a number with a unit (``64 MiB``, ``1 MB``,
        ``512 KiB``). A larger message makes the client close the connection with 1009
        (Message Too Big), and the failure says it was the client's own limit. The default
        is 64 MiB (the suites pass ``WS_MAX_MESSAGE_SIZE``).

        | ${old} =    Set Max Message Size    256 MiB
        | [Teardown]    Set Max Message Size    ${old}
        """
        old = self.ctx.set_max_message_size(size)
        logger.info(f"Largest message a client accepts: {self.ctx.max_message_size} bytes (was {old}).")
        return old

    @keyword(tags=["Getter", TAG])
    def get_max_message_size(self) -> int:
        """Returns the largest message, in bytes, a client accepts (see `Set Max Message Size`)."""
        return self.ctx.max_message_size

    # -- what a run reports ------------------------------------------------------------------

    @keyword(tags=[TAG])
    def get_library_version(self) -> str:
        """Returns the version of this library (``wsresilience``), e.g. for suite metadata.

        | ${version} =    Get Library Version
        | Set Suite Metadata    Library version    ${version}
        """
        from wsresilience import __version__

        return __version__

    @keyword(tags=[TAG])
    def get_masked_url(self, url: str) -> str:
        """Returns ``url`` with its password and secret-looking query values replaced by ``***``.

        The same masking the library applies to every URL it prints, for URLs a suite
        writes into its metadata or log itself.

        | ${shown} =    Get Masked Url    wss://user:pw@host/ws?token=abc
        | Should Be Equal    ${shown}    wss://user:***@host/ws?token=***
        """
        return mask_url(url)

    # -- deriving values from thresholds -------------------------------------------------------

    @keyword(tags=[TAG])
    def add_times(self, *times: timedelta) -> float:
        """Returns the sum of ``times`` in seconds.

        Each time is a Robot time string (``500 ms``, ``1 s``) or a number of seconds, so a
        bound can be derived from the thresholds it is made of:

        | ${bound} =    Add Times    ${SERVER_PING_INTERVAL}    ${SERVER_PING_TIMEOUT}    ${TERMINATION_TOLERANCE}
        """
        if not times:
            raise ValueError("Expected at least one time to add, got none.")
        total = 0.0
        for time in times:
            total += time.total_seconds()
        return total

    @keyword(tags=[TAG])
    def multiply_time(self, time: timedelta, factor: float) -> float:
        """Returns ``time`` multiplied by ``factor``, in seconds.

        | ${half} =    Multiply Time    ${SESSION_TTL}    0.5
        | ${five} =    Multiply Time    ${SERVER_PING_INTERVAL}    5
        """
        return time.total_seconds() * float(factor)

    @keyword(tags=[TAG])
    def add_counts(self, *counts: int) -> int:
        """Returns the sum of the whole numbers ``counts``.

        | ${expected} =    Add Counts    ${baseline}    1
        """
        if not counts:
            raise ValueError("Expected at least one count to add, got none.")
        return sum(counts)

    @keyword(tags=[TAG])
    def divide_count(self, count: int, parts: int) -> int:
        """Returns ``count`` divided by ``parts``, rounded down to a whole number.

        | ${half} =    Divide Count    ${LOAD_SILENT}    2    # 5 of 10, 5 of 11
        """
        if parts <= 0:
            raise ValueError(f"Expected a number of parts > 0, got {parts}.")
        return count // parts
