"""Network faults between a client and its server: proxies, faults, and what the server did.

The keywords create a proxy in front of a target (in this process, or on a Toxiproxy API),
add faults to it in Toxiproxy's vocabulary, and observe from the proxy's upstream socket how
the server ended connections a fault had made silent.

Proxies live in ``ctx.proxies`` as :class:`~wsresilience.core.faults.handle.ProxyHandle`, so
any component can find one by name or by the URL a client was given. The backends (the
in-process proxy collection, one client per Toxiproxy API) belong to this component and are
stopped when the library goes out of scope. Loop-side work is done by the handle and the
backends, which return data; the keywords here word failures, one line naming the proxy.

The module runs a little over 400 lines because it is one vocabulary, Toxiproxy's: the
proxies and the faults added to them are documented and read together; the pure parts
(fault specs, units) are in :mod:`wsresilience.core.faults.toxics`.
"""

from __future__ import annotations

from collections.abc import Coroutine
from datetime import timedelta
from typing import Any, TypeVar

from assertionengine import AssertionOperator
from robot.api import SkipExecution, logger
from robot.api.deco import keyword

from wsresilience.faultproxy import FaultProxyError, ToxicError
from wsresilience.components.base import LibraryComponent
from wsresilience.components.heartbeat_keepalive import with_keepalive_note
from wsresilience.context import LibraryContext
from wsresilience.core.evidence.figures import Figure
from wsresilience.core.evidence.judge import check
from wsresilience.core.faults.backends import Backend, InProcessBackend, ToxiproxyBackend, close_all
from wsresilience.core.faults.handle import ProxyHandle, client_url, find_proxy, upstream_of
from wsresilience.core.faults.server_end import ServerEnd
from wsresilience.core.faults.toxics import milliseconds, rate_kb, toxic_specs
from wsresilience.core.masking import SecretOrStr, SecretUrl, mask_url, protect_url, reveal
from wsresilience.core.runtime.registry import ALL
from wsresilience.errors import ResilienceFailure, ToxiproxyError, Unsupported

T = TypeVar("T")
Direction = str
FaultNames = str | list[str]
TAG = "Network Faults"


class NetworkFaultsKeywords(LibraryComponent):
    """Fault-injecting proxies in front of a WebSocket target, and the faults they inject."""

    def __init__(self, ctx: LibraryContext) -> None:
        super().__init__(ctx)
        self._in_process: InProcessBackend | None = None
        #: One backend per Toxiproxy API used, by URL (``Use Toxiproxy Server`` may switch back).
        self._http: dict[str, ToxiproxyBackend] = {}
        if ctx.toxiproxy_url:
            self._toxiproxy(ctx.toxiproxy_url)  # a malformed URL fails the import, as before
        ctx.on_close(self._close)

    # -- plumbing --------------------------------------------------------------------------

    def _toxiproxy(self, url: str) -> ToxiproxyBackend:
        if url not in self._http:
            self._http[url] = ToxiproxyBackend(url)
        return self._http[url]

    def _backend(self) -> Backend:
        """Where a new proxy goes: the Toxiproxy API in use, else this process."""
        if self.ctx.toxiproxy_url:
            return self._toxiproxy(self.ctx.toxiproxy_url)
        if self._in_process is None:
            self._in_process = InProcessBackend()
        return self._in_process

    def _proxy(self, proxy: str) -> ProxyHandle:
        return find_proxy(self.ctx.proxies, proxy)

    def _each(self, proxy: str) -> list[ProxyHandle]:
        return self.ctx.proxies.many(ALL) if proxy == ALL else [self._proxy(proxy)]

    def _backend_call(self, coro: Coroutine[Any, Any, T], what: str, timeout: float | None = None) -> T:
        """Run a backend call; its errors become one plain line: ``Cannot <what>: <error>``."""
        try:
            return self.run(coro, what, timeout)
        except (ToxicError, FaultProxyError) as error:
            raise ResilienceFailure(f"Cannot {what}: {error}") from None
        except (ToxiproxyError, Unsupported) as error:
            raise type(error)(f"Cannot {what}: {error}") from None

    def _close(self) -> None:
        """End of scope: stop every proxy this component's backends run, forget their handles."""
        backends: list[Backend] = [*self._http.values()]
        if self._in_process is not None:
            backends.append(self._in_process)
        self._http.clear()
        self._in_process = None
        for name, handle in self.ctx.proxies.items():
            if any(handle.backend is backend for backend in backends):
                self.ctx.proxies.pop(name)
        if backends and self.ctx.loop_started:
            self.run(close_all(backends), "every fault proxy to stop", timeout=15)

    # -- proxies -----------------------------------------------------------------------------

    @keyword(tags=["Setter", TAG])
    def use_toxiproxy_server(self, url: str) -> str:
        """Makes proxies created from now on live on the Toxiproxy API at ``url``.

        ``url`` is ``http://host:port`` of ``python -m wsresilience.faultproxy --api-port …`` or of a
        real Toxiproxy; empty goes back to in-process proxies. Returns the previous URL
        (empty for in-process). Proxies already created stay where they are.
        """
        old = self._toxiproxy(self.ctx.toxiproxy_url).where if self.ctx.toxiproxy_url else ""
        url = url.strip()
        if url:
            self._toxiproxy(url)
        self.ctx.toxiproxy_url = url
        return old

    @keyword(tags=[TAG])
    def create_proxy(self, target_url: SecretOrStr, name: str | None = None,
                     seed: int | None = None) -> str | SecretUrl:
        """Starts a proxy in front of ``target_url`` and returns the URL to connect to.

        The returned URL keeps the path and query of ``target_url``, with host ``127.0.0.1``
        and an OS-chosen port. ``name`` defaults to ``proxy-1``, ``proxy-2`` …; ``seed``
        fixes this proxy's random choices (in-process only). When the URL carries a token
        (or ``target_url`` is a secret), it comes back as a secret URL that Robot logs
        masked; every keyword that takes a URL accepts it.

        In front of a ``wss://`` target the in-process proxy is the TLS client of the target
        (verified with the `Configure Target TLS` settings) and serves plain TCP, so the
        URL returned is ``ws://127.0.0.1:PORT/…`` and every fault sees WebSocket frames. A
        Toxiproxy API forwards the client's TLS instead (the URL stays ``wss://``; frame
        faults are refused there).

        | ${url} =    Create Proxy    ${TARGET_URL}    name=zombie    seed=7
        """
        given, target_url = target_url, reveal(target_url)
        upstream = upstream_of(target_url)
        name = name or self.ctx.proxies.next_name()
        if name in self.ctx.proxies:
            raise ValueError(f"A proxy named {name!r} exists already ({mask_url(self.ctx.proxies.get(name).url)}).")
        backend = self._backend()
        if seed is not None and isinstance(backend, ToxiproxyBackend):
            logger.info(f"seed={seed} ignored: the Toxiproxy API at {backend.where} draws with its own --seed.")
        listen = self._backend_call(backend.create(name, upstream, seed, self.ctx.target.ssl_context(target_url)),
                                    f"create proxy {name!r} in front of {upstream} ({backend.where})")
        url = client_url(target_url, listen, terminates_tls=isinstance(backend, InProcessBackend))
        self.ctx.proxies.add(name, ProxyHandle(name, url, listen, upstream, target_url, backend))
        logger.info(f"Proxy {name!r} ({backend.where}) listens on {listen}, in front of {mask_url(target_url)}.")
        return protect_url(url, given)

    @keyword(tags=[TAG])
    def delete_proxy(self, proxy: str = ALL) -> None:
        """Stops ``proxy`` (or ``ALL``): its connections are cut and its port closed."""
        for p in self._each(proxy):
            self._backend_call(p.backend.delete(p.name), f"delete {p.where}")
            self.ctx.proxies.pop(p.name)

    @keyword(tags=[TAG])
    def disable_proxy(self, proxy: str, reset: bool = False) -> None:
        """Takes ``proxy`` down: it refuses new connections and cuts open ones.

        Open connections get a FIN, or an RST with ``reset=True`` (in-process only;
        Toxiproxy always closes them). Stops a flapping schedule.
        """
        p = self._proxy(proxy)
        self._backend_call(p.backend.set_enabled(p.name, False, reset), f"disable {p.where}")
        logger.info(f"Proxy {p.name!r} is down: connections to {p.listen} are refused.")

    @keyword(tags=[TAG])
    def enable_proxy(self, proxy: str) -> None:
        """Brings ``proxy`` up again on the same port. Stops a flapping schedule."""
        p = self._proxy(proxy)
        self._backend_call(p.backend.set_enabled(p.name, True), f"enable {p.where}")
        logger.info(f"Proxy {p.name!r} is up on {p.listen}.")

    @keyword(tags=[TAG])
    def flap_proxy(self, proxy: str, down: timedelta, up: timedelta, times: int | None = None,
                   reset: bool = False) -> None:
        """Takes ``proxy`` down for ``down``, up for ``up``, ``times`` times (default: until
        `Enable Proxy`, `Disable Proxy` or the end of the suite), ending up.

        Going down refuses new connections and cuts open ones with a FIN, or with a TCP
        reset (RST, no close handshake) when ``reset=True`` (in-process proxy only).

        Returns once the proxy is down for the first time; the schedule goes on in the
        background. `Wait Until Proxy Stops Flapping` waits for a bounded one.

        | Flap Proxy    ${proxy}    down=200 ms    up=1 s    times=3
        """
        p = self._proxy(proxy)
        if down.total_seconds() <= 0 or up.total_seconds() < 0 or (times is not None and times < 1):
            raise ValueError(f"Expected down > 0, up >= 0 and times >= 1, got down={down} up={up} times={times}.")
        self._backend_call(p.backend.flap(p.name, down.total_seconds(), up.total_seconds(), times, reset),
                           f"flap {p.where}")
        logger.info(f"Proxy {p.name!r} flapping: down {down.total_seconds():.3f} s, up "
                    f"{up.total_seconds():.3f} s, {times if times else 'until stopped'} times"
                    f"{', cutting with RST' if reset else ''}.")

    @keyword(tags=["Assertion", TAG])
    def wait_until_proxy_stops_flapping(self, proxy: str, timeout: timedelta | None = None) -> None:
        """Waits until a bounded `Flap Proxy` schedule has run its course (proxy up).

        Fails if it is still flapping after ``timeout`` (default: the library timeout).
        """
        p = self._proxy(proxy)
        limit = self.timeout_or_default(timeout)
        ended = self._backend_call(p.backend.wait_flapping(p.name, limit),
                                   f"the flapping schedule of {p.where} to end", limit + 1)
        if not ended:
            raise ResilienceFailure(f"Expected proxy {p.name!r} to stop flapping within {limit:.3f} s; "
                                    "it was still flapping.")

    @keyword(tags=[TAG])
    def reset_connections(self, proxy: str) -> int | None:
        """Resets (TCP RST) every connection open through ``proxy`` now; new ones are not
        affected. Returns how many there were (``None`` over a Toxiproxy API, where a
        ``reset_peer`` toxic is added and removed again)."""
        p = self._proxy(proxy)
        count = self._backend_call(p.reset_connections(), f"reset connections of {p.where}")
        logger.info(f"Proxy {p.name!r}: reset {'its' if count is None else count} open connection(s).")
        return count

    # -- faults ------------------------------------------------------------------------------

    def _add(self, proxy: str, kind: str, attributes: dict[str, Any], direction: Direction,
             toxicity: float, name: str | None, label: str = "") -> FaultNames:
        p = self._proxy(proxy)
        toxics = toxic_specs(kind, attributes, direction, toxicity, name, label)
        names = self._backend_call(p.add_faults(toxics), f"add {kind} to {p.where}")
        shown = ", ".join(f"{k} {v}" for k, v in attributes.items()) or "no attributes"
        logger.info(f"Proxy {p.name!r}: added {', '.join(names)} ({shown}; toxicity {float(toxicity):g}).")
        return names if len(names) > 1 else names[0]

    @keyword(tags=[TAG])
    def add_latency(self, proxy: str, latency: timedelta, jitter: timedelta = timedelta(0),
                    direction: Direction = "downstream", toxicity: float = 1.0,
                    name: str | None = None) -> FaultNames:
        """Delays data through ``proxy`` by ``latency`` ± ``jitter``.

        | Add Latency    ${proxy}    200 ms    jitter=50 ms    direction=both
        """
        attributes = {"latency": milliseconds(latency), "jitter": milliseconds(jitter)}
        return self._add(proxy, "latency", attributes, direction, toxicity, name)

    @keyword(tags=[TAG])
    def limit_bandwidth(self, proxy: str, rate: str | float, direction: Direction = "downstream",
                        toxicity: float = 1.0, name: str | None = None) -> FaultNames:
        """Caps the data rate: ``rate`` in KB/s (``64``), or with a unit (``64 KB/s``, ``2 MB/s``).

        1 KB is 1000 bytes, as in Toxiproxy. The rate must be a whole number of KB/s, at least
        1: Toxiproxy reads 0 as unlimited, so a smaller rate would limit nothing and is refused.
        The cap applies to bytes on the wire, so compressed messages pass faster than their size.
        """
        return self._add(proxy, "bandwidth", {"rate": rate_kb(rate)}, direction, toxicity, name)

    @keyword(tags=[TAG])
    def slice_data(self, proxy: str, average_size: int, size_variation: int = 0,
                   delay: timedelta = timedelta(0), direction: Direction = "downstream",
                   toxicity: float = 1.0, name: str | None = None) -> FaultNames:
        """Cuts data into pieces of about ``average_size`` ± ``size_variation`` bytes,
        ``delay`` apart, as a fragmenting network would. Frames arrive split."""
        attributes = {"average_size": int(average_size), "size_variation": int(size_variation),
                      "delay": round(delay.total_seconds() * 1_000_000)}
        return self._add(proxy, "slicer", attributes, direction, toxicity, name)

    @keyword(tags=[TAG])
    def blackhole_proxy(self, proxy: str, direction: Direction = "both", toxicity: float = 1.0,
                        name: str | None = None) -> FaultNames:
        """Makes the connection half-open: no data passes, and the proxy sends no FIN and
        no RST, so only the peers' own timers can notice.

        Default ``direction`` is ``both``: the client neither reads nor is read. A FIN
        or RST a peer sends itself is still passed on, as in Toxiproxy. Returns the fault
        names (``blackhole_upstream``, ``blackhole_downstream``).
        """
        return self._add(proxy, "timeout", {"timeout": 0}, direction, toxicity, name, label="blackhole")

    @keyword(tags=[TAG])
    def close_after_timeout(self, proxy: str, timeout: timedelta, direction: Direction = "downstream",
                            toxicity: float = 1.0, name: str | None = None) -> FaultNames:
        """Lets no data through and closes the connection (FIN) after ``timeout``."""
        if timeout.total_seconds() <= 0:
            raise ValueError("Expected a timeout > 0; use Blackhole Proxy for a connection that never closes.")
        return self._add(proxy, "timeout", {"timeout": milliseconds(timeout)}, direction, toxicity, name)

    @keyword(tags=[TAG])
    def reset_connections_after(self, proxy: str, timeout: timedelta, direction: Direction = "downstream",
                                toxicity: float = 1.0, name: str | None = None) -> FaultNames:
        """Resets (TCP RST) each connection ``timeout`` after the fault meets it, dropping
        data until then; connections opened later are reset too."""
        return self._add(proxy, "reset_peer", {"timeout": milliseconds(timeout)}, direction, toxicity, name)

    @keyword(tags=[TAG])
    def slow_close(self, proxy: str, delay: timedelta, direction: Direction = "downstream",
                   toxicity: float = 1.0, name: str | None = None) -> FaultNames:
        """Holds a FIN for ``delay`` before passing it on."""
        return self._add(proxy, "slow_close", {"delay": milliseconds(delay)}, direction, toxicity, name)

    @keyword(tags=[TAG])
    def limit_data(self, proxy: str, limit: int, direction: Direction = "downstream",
                   toxicity: float = 1.0, name: str | None = None) -> FaultNames:
        """Closes the connection once ``limit`` bytes have passed in ``direction``."""
        return self._add(proxy, "limit_data", {"bytes": int(limit)}, direction, toxicity, name)

    @keyword(tags=[TAG])
    def drop_pong_frames(self, proxy: str, direction: Direction = "upstream", toxicity: float = 1.0,
                         name: str | None = None) -> FaultNames:
        """Drops the client's heartbeat answers, and only them (default: on their way to the
        server). Data still flows, but the server's keepalive starves.

        What an answer is follows the protocol profile (`Use Protocol Profile`): RFC 6455
        PONG frames; Socket.IO's pong packets (text ``3``); graphql-ws's PONG frames and
        ``{"type": "pong"}`` messages. The profile's matcher goes to the fault as its
        ``matcher`` attribute, in process and over a Toxiproxy API alike."""
        return self._add(proxy, "drop_pongs", {"matcher": self.ctx.profile.pong_matcher}, direction, toxicity, name)

    @keyword(tags=[TAG])
    def cut_at_frame(self, proxy: str, frame: int = 1, field: str = "", value: float = 0,
                     direction: Direction = "downstream", toxicity: float = 1.0,
                     name: str | None = None) -> FaultNames:
        """Resets the connection instead of delivering a data frame: the ``frame``-th, or
        with ``field`` the first JSON text frame whose ``field`` is a number >= ``value``.

        Frames before it are delivered. Compressed frames are opaque to the JSON match.

        | Cut At Frame    ${proxy}    5
        | Cut At Frame    ${proxy}    field=seq    value=10
        """
        attributes: dict[str, Any] = {"frame": int(frame), "field": field, "value": value}
        return self._add(proxy, "cut_at_frame", attributes, direction, toxicity, name)

    @keyword(tags=[TAG])
    def duplicate_frame(self, proxy: str, frame: int = 1, direction: Direction = "downstream",
                        toxicity: float = 1.0, name: str | None = None) -> FaultNames:
        """Sends the ``frame``-th data frame twice."""
        return self._add(proxy, "duplicate_frame", {"frame": int(frame)}, direction, toxicity, name)

    @keyword(tags=[TAG])
    def corrupt_frame(self, proxy: str, frame: int = 1, offset: int = 0, xor: int = 255,
                      direction: Direction = "downstream", toxicity: float = 1.0,
                      name: str | None = None) -> FaultNames:
        """XORs one payload byte (``offset``) of the ``frame``-th data frame with ``xor``.
        A flipped text frame usually breaks UTF-8, and a correct peer closes 1007."""
        attributes = {"frame": int(frame), "offset": int(offset), "xor": int(xor)}
        return self._add(proxy, "corrupt_frame", attributes, direction, toxicity, name)

    @keyword(tags=[TAG])
    def remove_fault(self, proxy: str, fault: FaultNames) -> None:
        """Removes a fault (or a list of them) by name; data it held goes on at once."""
        p = self._proxy(proxy)
        names = [fault] if isinstance(fault, str) else [str(f) for f in fault]
        self._backend_call(p.remove_faults(names), f"remove fault(s) {', '.join(names)} from {p.where}")
        logger.info(f"Proxy {p.name!r}: removed {fault}.")

    @keyword(tags=[TAG])
    def remove_all_faults(self, proxy: str = ALL) -> int:
        """Removes every fault from ``proxy`` (or from ``ALL`` proxies); returns how many."""
        removed = sum(self._backend_call(p.clear_faults(), f"remove the faults of {p.where}")
                      for p in self._each(proxy))
        logger.info(f"Removed {removed} fault(s) from {proxy}.")
        return removed

    @keyword(tags=["Getter", TAG])
    def get_proxy_faults(self, proxy: str, assertion_operator: AssertionOperator | None = None,
                         assertion_expected: Any = None, message: str | None = None) -> list[dict[str, Any]]:
        """Returns the faults of ``proxy`` as Toxiproxy shows them: ``name``, ``type``,
        ``stream``, ``toxicity`` and ``attributes``; optionally asserts on that list.

        | ${faults} =    Get Proxy Faults    ${proxy}
        | Get Proxy Faults    ${proxy}    ==    ${{ [] }}
        """
        p = self._proxy(proxy)
        faults = self._backend_call(p.faults(), f"list the faults of {p.where}")
        return check(faults, assertion_operator, assertion_expected, f"faults of proxy {p.name!r}",
                     message=message)

    # -- observing the server ------------------------------------------------------------------

    @keyword(tags=["Assertion", TAG])
    def upstream_should_be_closed_by_server_within(self, proxy: str, bound: timedelta,
                                                   criterion: str = "") -> float:
        """Fails unless the server ends every connection that was open through ``proxy``
        when its latest fault was added, within ``bound`` of that moment.

        "Ends" is the server's first close frame, FIN or RST, seen on the proxy's
        upstream socket even when a fault keeps it from the client. This is how a
        half-open (blackholed) connection's termination is observed. Logs the time
        beside the bound; returns the slowest, in seconds. In-process proxies only: over
        a Toxiproxy API the test is skipped, with the reason.

        | Blackhole Proxy    ${proxy}
        | Upstream Should Be Closed By Server Within    ${proxy}    1.25 s    criterion=AC-007.6
        """
        p = self._proxy(proxy)
        if not p.in_process:
            raise SkipExecution(
                f"Observing how the server ends connections needs the in-process proxy; the "
                f"Toxiproxy API at {p.backend.where} does not report it."
            )
        if p.faulted_at is None:
            raise ValueError(f"Add a fault to proxy {p.name!r} first; the clock starts when it is added.")
        if not p.faulted:
            raise ResilienceFailure(f"Expected a connection open through proxy {p.name!r} when its latest "
                                    "fault was added; there was none.")
        limit = bound.total_seconds()
        ends = self.run(p.server_ends(limit), f"the server to end connections through {p.name!r}",
                        limit + 5, p.target)
        figure, notes = _termination_figure(p, ends, limit, criterion)
        self.judge([figure], "Server termination seen at the proxy's upstream socket",
                   lambda: with_keepalive_note(self.ctx, _termination_failure(p, ends, limit, figure.value)))
        logger.info(f"The server ended {len(ends)} connection(s) through {p.name!r}: {notes}.")
        return figure.value


def _termination_figure(p: ProxyHandle, ends: list[ServerEnd], limit: float,
                        criterion: str) -> tuple[Figure, str]:
    """The slowest server end beside ``limit`` (NaN if one never ended), and the notes."""
    times = [e.took for e in ends if e.took is not None]
    worst = max(times) if len(times) == len(ends) else float("nan")
    held = sum(e.held_bytes for e in ends)
    notes = "; ".join(e.describe() for e in ends)
    figure = Figure("server ended the faulted connection after", worst, "s", limit, "<=", criterion,
                    note=f"{len(ends)} connection(s) via {p.name}: {notes}; "
                         f"{held} server bytes held by the proxy")
    return figure, notes


def _termination_failure(p: ProxyHandle, ends: list[ServerEnd], limit: float, worst: float) -> str:
    """Why the server did not end the faulted connections in time, in one line."""
    by_proxy = [e for e in ends if e.took is None and e.closed_by_proxy]
    if by_proxy:
        return (f"Expected the server to end the connection(s) through proxy {p.name!r}; "
                f"{len(by_proxy)} were closed by the proxy itself ({by_proxy[0].closed_by_proxy}) first.")
    silent = sum(1 for e in ends if e.took is None)
    seen = f"{silent} of {len(ends)} got no close frame, FIN or RST" if silent else f"the slowest took {worst:.3f} s"
    return (f"Expected the server to end the connection(s) through proxy {p.name!r} within "
            f"{limit:.3f} s of the fault; {seen} ({mask_url(p.target)}).")
