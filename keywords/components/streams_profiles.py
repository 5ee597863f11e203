"""Which stream adapter a session speaks, from the protocol profile (``WS_PROTOCOL``).

With the reference profile (the default) sessions speak docs/protocol.md's ``stream/1``
(:class:`~wsresilience.core.streams.adapter.ReferenceAdapter`). A profile whose framework
has its own streams has a stream adapter of its own (``socketio``: events after the event
convention, resumed by connection state recovery); the event names come from variables
through `Use Stream Events`. A profile with no stream adapter (``rfc6455``, ``graphql-ws``)
makes the stream tests SKIP with the reason (`Skip Unless Protocol Offers Streams`). An
adapter selected by name (the ``adapter`` import argument, `Use Stream Protocol Adapter`)
wins over the profile's.

:class:`StreamProfileKeywords` is a base of
:class:`~wsresilience.components.streams.StreamKeywords`; the two are one component.
"""

from __future__ import annotations

from robot.api import SkipExecution, logger
from robot.api.deco import keyword

from wsresilience.components.base import LibraryComponent
from wsresilience.components.streams_checks import TAG
from wsresilience.context import LibraryContext
from wsresilience.errors import StreamRefused
from wsresilience.core.streams.adapter import (
    UNSUPPORTED,
    EventConvention,
    StreamAdapter,
    StreamRequest,
    adapter_for_profile,
    load_adapter,
)


class StreamProfileKeywords(LibraryComponent):
    """The stream adapter per session: chosen by name, or the protocol profile's."""

    def __init__(self, ctx: LibraryContext) -> None:
        super().__init__(ctx)
        #: The adapter chosen by name (``reference`` until one is).
        self.adapter: StreamAdapter = load_adapter("reference")
        #: Whether an adapter was chosen by name: it then wins over the profile's.
        self.adapter_chosen = False
        #: The event names of frameworks that stream as events (`Use Stream Events`).
        self.convention = EventConvention()

    def select_adapter(self, adapter: str | StreamAdapter) -> StreamAdapter:
        """Load ``adapter`` for sessions opened from now on (what a library's ``adapter``
        import argument calls); fails in one line naming what could not be loaded."""
        self.adapter = load_adapter(adapter)
        self.adapter_chosen = adapter not in (None, "", "reference")
        return self.adapter

    @keyword(tags=[TAG, "Setter"])
    def use_stream_events(self, start: str = "stream", chunk: str = "chunk", end: str = "end") -> str:
        """Names the events of a service that streams as events (``WS_PROTOCOL`` ``socketio``),
        for sessions opened from now on; returns the convention as text.

        The client emits ``start`` with ``{"n": N, "size": B}`` (N chunks of B characters);
        the service emits ``chunk`` events ``{"id", "seq", "data"}``, seq from 1, then ``end``
        ``{"id", "n", "sha256"}`` (the hex SHA-256 of the data in seq order). The suites
        take the names from ``SIO_STREAM_EVENT``, ``SIO_CHUNK_EVENT`` and ``SIO_END_EVENT``
        (docs/profiles.md).

        | Use Stream Events    start=generate    chunk=token    end=done
        """
        names = [str(name).strip() for name in (start, chunk, end)]
        if not all(names) or len(set(names)) < 3:
            raise ValueError(f"Stream events must be three different names, got {', '.join(map(repr, names))}.")
        self.convention = EventConvention(*names)
        said = f"start {names[0]!r}, chunks {names[1]!r}, end {names[2]!r}"
        logger.info(f"Stream events: {said}.")
        return said

    @keyword(tags=[TAG])
    def skip_unless_protocol_offers_streams(self) -> None:
        """Skips, with the reason, when the chosen protocol profile has no resumable streams
        (``rfc6455``, ``graphql-ws``) and no adapter was chosen by name. In a suite setup it
        skips every test of the suite.

        | Skip Unless Protocol Offers Streams
        """
        reason = self.no_streams()
        if reason:
            raise SkipExecution(reason)

    def no_streams(self) -> str | None:
        """Why sessions cannot stream with the chosen profile, or ``None`` when they can."""
        profile = self.ctx.profile
        if self.adapter_chosen or profile.reference_protocol:
            return None
        if adapter_for_profile(profile.name, self.convention, None) is not None:
            return None
        return (f"Resumable streams need the reference protocol (docs/protocol.md) or a stream adapter "
                f"(docs/adapters.md); WS_PROTOCOL is {profile.name} ({profile.description}), which has "
                "neither.")

    def session_adapter(self, session: str) -> StreamAdapter:
        """The adapter a new session named ``session`` speaks: the one chosen by name, else the
        profile's (with the auth payload, ``{user}`` being the session's name); SKIPs with the
        reason when the profile has none."""
        reason = self.no_streams()
        if reason:
            raise SkipExecution(reason)
        profile = self.ctx.profile
        if self.adapter_chosen or profile.reference_protocol:
            return self.adapter
        adapter = adapter_for_profile(profile.name, self.convention, self.ctx.auth_payload(session))
        assert adapter is not None  # no_streams said so
        return adapter

    @staticmethod
    def skip_unless_expressible(adapter: StreamAdapter, request: StreamRequest) -> None:
        """SKIP, with the reason, when ``adapter``'s protocol cannot ask for ``request``."""
        reason = adapter.cannot_express(request)
        if reason:
            raise SkipExecution(f"The {adapter.name} streams cannot run this check: {reason}.")

    @staticmethod
    def skip_if_unsupported(refused: StreamRefused) -> None:
        """SKIP, with the reason, when a start was refused because the target has no streams."""
        if refused.refusal.code in UNSUPPORTED:
            raise SkipExecution(f"The target does not offer resumable streams: it answered the start "
                                f"request with {refused.refusal.code!r}.") from None
