"""The base of every keyword component, and the library class they are assembled into.

A component is a plain class whose ``@keyword`` methods become library keywords; it gets
the shared :class:`~wsresilience.context.LibraryContext` and keeps no state another component
needs. :class:`ResilienceLibrary` assembles components with robotframework-pythonlibcore's
``DynamicCore``, the way robotframework-browser assembles its keyword classes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine, Sequence
from datetime import timedelta
from typing import Any, ClassVar, TypeVar

from robot.api import logger
from robot.api.deco import keyword
from robotlibcore import DynamicCore

from wsresilience.context import LibraryContext
from wsresilience.core.evidence.figures import Figure, figure_table
from wsresilience.core.runtime.timeouts import TimeLike
from wsresilience.errors import ResilienceFailure

T = TypeVar("T")
C = TypeVar("C", bound="LibraryComponent")


class LibraryComponent:
    """A set of keywords for one concern, on the shared context."""

    def __init__(self, ctx: LibraryContext) -> None:
        self.ctx = ctx

    def run(self, coro: Coroutine[Any, Any, T], what: str, timeout: float | None = None,
            target: str = "") -> T:
        """Run ``coro`` on the shared loop (see :meth:`LibraryContext.run`)."""
        return self.ctx.run(coro, what, timeout, target)

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a plain function on the loop thread."""
        return self.ctx.call(fn, *args)

    def timeout_or_default(self, timeout: TimeLike | None) -> float:
        """``timeout`` in seconds, or the library default."""
        return self.ctx.timeout_or_default(timeout)

    @staticmethod
    def judge(figures: Sequence[Figure], title: str, failure: str | Callable[[], str]) -> None:
        """The one way to judge figures: log them beside their thresholds, fail if one misses.

        ``failure`` is the one-line message (or a function wording it) raised when any
        figure is off its threshold; the table is logged either way, so the report shows
        the margin, not just PASS.
        """
        logger.info(figure_table(list(figures), title), html=True)
        if not all(f.passed for f in figures):
            raise ResilienceFailure(failure() if callable(failure) else failure)

    @staticmethod
    def deprecated(old: str, new: str) -> None:
        """Warn that keyword ``old`` is deprecated in favour of ``new``."""
        logger.warn(f"Keyword '{old}' is deprecated and will be removed: use '{new}' instead.")


def deprecated_alias(old: str, replacement: type[LibraryComponent], method: str, doc: str,
                     tags: Sequence[str]) -> Callable[..., Any]:
    """A deprecated keyword ``old`` that does what ``replacement``'s keyword ``method`` does.

    It takes the replacement's arguments (names, defaults and types: libdoc and Robot's
    conversions read them through ``__wrapped__``), warns that ``old`` is deprecated naming
    the replacement, and runs the replacement on the same context, so the two can never
    drift apart. ``doc`` and ``tags`` are the deprecated keyword's own. ``replacement``
    must keep no state of its own (a settings or configuration component): it is made
    afresh on the context for each call, which is what lets a view without that component
    keep the old keyword.

    | set_heartbeat_timeout = deprecated_alias("Set Heartbeat Timeout", SettingsKeywords,
    |                                          "set_library_timeout", doc=..., tags=[...])
    """
    does = getattr(replacement, method)
    new = method.replace("_", " ").title()

    @functools.wraps(does)
    def alias(self: LibraryComponent, *args: Any, **kwargs: Any) -> Any:
        self.deprecated(old, new)
        return getattr(replacement(self.ctx), method)(*args, **kwargs)

    alias.__name__ = alias.__qualname__ = old.lower().replace(" ", "_")
    alias.__doc__ = doc
    return keyword(tags=list(tags))(alias)


class ResilienceLibrary(DynamicCore):
    """A Robot library assembled from keyword components on one shared context.

    Subclasses name their components in :attr:`COMPONENTS`; every component gets the same
    context, so a timeout set once, a proxy created by one component and a probe configured
    by another are seen by all. The context closes everything at the end of the scope.
    """

    ROBOT_LIBRARY_SCOPE = "SUITE"
    COMPONENTS: ClassVar[tuple[type[LibraryComponent], ...]] = ()

    def __init__(self, timeout: timedelta = timedelta(seconds=10), toxiproxy_url: str = "",
                 max_message_size: str = "64 MiB", gc_freeze_at: int = 1000) -> None:
        """``timeout`` is the default for every wait; ``toxiproxy_url`` (``http://host:port``)
        makes the network-fault keywords drive a Toxiproxy server instead of the in-process
        fault proxy; ``max_message_size`` is the largest message a client accepts (bytes, or
        with a unit: ``64 MiB``, ``1 MB``); from ``gc_freeze_at`` heartbeat connections held
        on, the garbage collector stops visiting their objects, so a full collection does
        not pause the client past a ping timeout (``0``: never)."""
        self.ctx = LibraryContext(timeout, toxiproxy_url=toxiproxy_url, max_message_size=max_message_size,
                                  gc_freeze_at=gc_freeze_at)
        self.ROBOT_LIBRARY_LISTENER = self.ctx
        self._components = [cls(self.ctx) for cls in self.COMPONENTS]
        DynamicCore.__init__(self, self._components)

    def component(self, kind: type[C]) -> C:
        """The component of class ``kind`` (for import arguments that configure one)."""
        for component in self._components:
            if isinstance(component, kind):
                return component
        raise LookupError(f"{type(self).__name__} has no {kind.__name__} component.")
