"""Library-wide settings and plain helpers for suites.

The one default timeout and the largest message a client accepts; the run's secrets, read by
name so Robot never logs them (the target URL, signing keys); what a suite reports about its
run (the library version, a target URL with its secrets masked); and the arithmetic suites need
to derive bounds from their thresholds (interval + timeout + tolerance, half a TTL, one more
connection than the baseline), so resource files never compute with inline Python.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from datetime import timedelta
from pathlib import Path

from robot.api import logger
from robot.api.deco import keyword
from robot.api.types import Secret
from robot.libraries.BuiltIn import BuiltIn

from wsresilience.components.base import LibraryComponent
from wsresilience.core.client.tls import check_tls
from wsresilience.core.masking import SecretOrStr, SecretUrl, mask_url, protect_url, reveal

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

    @keyword(tags=["Getter", TAG])
    def replace_port_placeholder(self, template: SecretOrStr, url: SecretOrStr) -> str | SecretUrl:
        """Returns ``template`` with ``{port}`` replaced by the port of ``url``.

        For a ``METRICS_URL`` such as ``http://127.0.0.1:{port}/metrics`` when ``SERVER_COMMAND``
        started the service on a port the OS chose. A template with secrets stays a secret URL.

        | ${metrics} =    Replace Port Placeholder    ${template}    ${url}
        """
        filled = reveal(template).replace("{port}", str(urlsplit(reveal(url)).port or ""))
        return protect_url(filled) if filled else ""

    # -- the run's secrets ------------------------------------------------------------------

    @keyword(tags=["Getter", TAG])
    def get_target_url(self, variable: str = "WS_URL") -> str | SecretUrl:
        """Returns the URL in the variable named ``variable``, held so Robot never logs its secrets.

        Takes the variable's *name*, not its value: at ``--loglevel TRACE`` Robot logs every
        keyword's arguments, and it logs every assignment (``VAR``, ``${x} =``), so
        ``${WS_URL}`` passed or assigned anywhere would be written in full to output.xml and
        log.html before a keyword could mask it. Read here, the URL comes back as a secret
        URL when it carries a password, a secret-looking query value (``token=``, ``key=``
        …) or was given as a Robot secret (``--variable "WS_URL: Secret:wss://…"``): Robot
        then logs it as ``wss://qa:***@host/ws?token=***``, and every keyword of this library
        that takes a URL connects with the real one. A URL without secrets comes back as the
        plain string; an empty variable as an empty string.

        | ${url} =    Get Target Url
        | ${metrics} =    Get Target Url    METRICS_URL
        """
        value = _suite_variable(variable)
        if isinstance(value, SecretUrl):
            return value
        if isinstance(value, Secret):
            return SecretUrl(value.value)
        if not isinstance(value, str):
            raise TypeError(f"Expected variable ${{{variable}}} to hold a URL, got {type(value).__name__}.")
        return protect_url(value) if value else ""

    @keyword(tags=["Getter", TAG])
    def get_secret_variable(self, variable: str) -> Secret:
        """Returns the variable named ``variable`` as a Robot ``Secret``, which every log shows as ``<secret>``.

        For signing keys, passwords and tokens the run is given (``AUTH_JWT_SECRET``): read
        by name, for the reason `Get Target Url` gives, and passed on as the returned object to
        keywords that accept a ``Secret`` (they read its ``value``). A variable that already
        holds a ``Secret`` (``--variable "AUTH_JWT_SECRET: Secret:…"``) is returned as it is.

        | ${signing} =    Get Secret Variable    AUTH_JWT_SECRET
        """
        value = _suite_variable(variable)
        if isinstance(value, Secret):
            return value
        if not isinstance(value, str):
            raise TypeError(f"Expected variable ${{{variable}}} to hold text, got {type(value).__name__}.")
        return Secret(value)

    @keyword(tags=["Setter", TAG])
    def configure_target_tls(self, url: SecretOrStr = "", ca_file: str = "", verify_tls: bool = True,
                             timeout: timedelta | None = None) -> None:
        """Sets how every connection to a ``wss://`` target (and ``https://`` metrics) is verified.

        ``ca_file`` is a PEM bundle of CAs to trust instead of the system's (a private CA, a
        self-signed certificate); ``verify_tls=False`` accepts any certificate and host name,
        and the log says so with a warning. Every keyword that connects (heartbeat, flapping,
        streams, conversations, proxies, the server probes) uses these settings unless given
        its own.

        With a ``wss://`` ``url`` the keyword also completes one TLS handshake with it, so a
        target that cannot be trusted fails here, in one line naming the certificate problem,
        instead of in every test. The suites call it from ``Start Target Service`` with
        ``WS_CA_FILE`` and ``WS_VERIFY_TLS``:

        | Configure Target TLS    ${url}    ca_file=${WS_CA_FILE}    verify_tls=${WS_VERIFY_TLS}
        """
        if ca_file and not Path(ca_file).is_file():
            raise ValueError(f"Expected WS_CA_FILE to be a PEM file of CAs to trust; {ca_file!r} is not a file.")
        url = reveal(url)
        target = self.ctx.target
        target.url, target.ca_file, target.verify_tls = url, ca_file, bool(verify_tls)
        if not target.verify_tls:
            logger.warn("TLS certificate verification is OFF (WS_VERIFY_TLS=False): wss:// and https:// "
                        "connections accept any certificate and host name.")
        elif ca_file:
            logger.info(f"TLS: trusting the CAs in {ca_file} for wss:// and https:// connections.")
        context = target.ssl_context(url)
        if context is not None:
            limit = self.timeout_or_default(timeout)
            self.run(check_tls(url, context, limit), "a TLS handshake", limit + 1, target=url)
            logger.info(f"TLS handshake with {target.masked_url} succeeded.")

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
    def get_masked_url(self, url: SecretOrStr) -> str:
        """Returns ``url`` with its password and secret-looking query values replaced by ``***``.

        The same masking the library applies to every URL it prints, for URLs a suite
        writes into its metadata or log itself. ``url`` may be a secret URL (`Get Target Url`).

        | ${shown} =    Get Masked Url    wss://user:pw@host/ws?token=abc
        | Should Be Equal    ${shown}    wss://user:***@host/ws?token=***
        """
        url = reveal(url)
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


def _suite_variable(name: str) -> object:
    """The value of Robot variable ``${name}``, never logged; fails if the name is not a name.

    A value passed where the name belongs (``${WS_URL}`` instead of ``WS_URL``) has already
    been logged by Robot: the failure says so without repeating it.
    """
    name = name.strip()
    if name.startswith("${") and name.endswith("}"):
        name = name[2:-1]
    if not name or not name.replace("_", "").isalnum():
        raise ValueError("Expected the name of a variable (e.g. WS_URL), got a value: pass the name "
                         "without ${…}, or Robot logs the value before this keyword can hide it.")
    missing = object()
    value = BuiltIn().get_variable_value(f"${{{name}}}", missing)
    if value is missing:
        raise ValueError(f"Expected a variable ${{{name}}}; none is set (resources/thresholds.resource "
                         "defines the run contract).")
    return value
