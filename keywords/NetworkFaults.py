"""Network faults between a WebSocket client and its server, as keywords."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from robot.api import SkipExecution, logger
from robot.api.deco import keyword, library

from faultproxy import FaultProxyError, ToxicError
from faultproxy.connection import Connection
from keywords import __version__
from keywords.core.evidence.figures import Figure, figure_table
from keywords.core.faults.backends import Backend, InProcessBackend, ToxiproxyBackend
from keywords.core.runtime.library import LoopLibrary
from keywords.core.faults.server_end import server_end, wait_server_ends
from keywords.core.masking import mask_url
from keywords.core.runtime.timeouts import TimeLike, seconds

Direction = str
FaultNames = str | list[str]

_STREAMS = {"upstream": ("upstream",), "downstream": ("downstream",), "both": ("upstream", "downstream")}
_RATE_UNITS = {"kb/s": 1.0, "mb/s": 1000.0, "b/s": 0.001}  # longest suffix first


@dataclass
class _Proxy:
    """One proxy this library created."""

    name: str
    url: str
    listen: str
    upstream: str
    target: str
    backend: Backend
    faulted_at: float | None = None  # loop time the latest fault was added
    faulted: list[Connection] = field(default_factory=list)  # connections open at that moment


@library(scope="SUITE", version=__version__, doc_format="ROBOT")
class NetworkFaults(LoopLibrary):
    """Puts a fault-injecting proxy between a WebSocket client and its server.

    Real networks fail in ways a client cannot fake by closing its own socket: a peer
    that vanishes without FIN or RST (half-open), latency spikes, resets in the middle
    of a frame, a link that goes down and up. This library creates a TCP proxy in front
    of a target, hands you the proxied URL to connect to, and adds *faults* to it in
    plain language. The vocabulary is [https://github.com/Shopify/toxiproxy|Toxiproxy]'s
    (each fault is a *toxic*), plus WebSocket-aware faults no TCP proxy offers.

    = Proxies =

    `Create Proxy` starts a proxy in front of a ``ws://`` or ``wss://`` URL and returns
    the URL to connect to instead: same scheme, path and query; host ``127.0.0.1``; a
    port the OS chose, so parallel runs never collide. Every other keyword takes the
    proxy by its name or by that URL. Proxies are stopped when the library goes out of
    scope (the end of the suite): no socket or task is left behind.

    = Faults =

    | =Keyword=              | =Toxic=           | =Effect=                                                  |
    | `Add Latency`          | latency           | each chunk delayed by latency ± jitter                    |
    | `Limit Bandwidth`      | bandwidth         | at most the given rate                                     |
    | `Slice Data`           | slicer            | chunks cut into small pieces, optionally delayed          |
    | `Blackhole Proxy`      | timeout 0         | half-open: nothing passes, no FIN, no RST is sent          |
    | `Close After Timeout`  | timeout           | nothing passes; the connection closes after the timeout  |
    | `Reset Connections`    | —                 | open connections get a TCP RST now                         |
    | `Reset Connections After` | reset_peer     | connections get an RST after a delay                      |
    | `Slow Close`           | slow_close        | a FIN is held before it is passed on                       |
    | `Limit Data`           | limit_data        | the connection closes after so many bytes                 |
    | `Drop Pong Frames`     | drop_pongs        | PONG frames dropped, nothing else (WebSocket-aware)        |
    | `Cut At Frame`         | cut_at_frame      | RST instead of the Nth data frame, or when a JSON field reaches K |
    | `Duplicate Frame`      | duplicate_frame   | the Nth data frame sent twice                              |
    | `Corrupt Frame`        | corrupt_frame     | one payload byte of the Nth data frame flipped             |

    Each *Add* keyword returns the fault's name (``latency_downstream`` …), for
    `Remove Fault`. Faults apply to connections already open as well as new ones.
    `Get Proxy Faults` lists them; `Remove All Faults` heals the proxy.

    = Directions =

    ``direction`` is ``downstream`` (server to client, the default for most faults),
    ``upstream`` (client to server) or ``both``. With ``both``, two faults are added and
    a list of two names is returned.

    = Toxicity and seeds =

    ``toxicity`` is the probability (0 to 1) that a fault applies to a given
    connection, drawn once per connection. ``seed`` (per proxy, or for all at import)
    fixes the generator behind those draws, jitter and slicing, so a run repeats.

    = In-process or Toxiproxy =

    By default the proxies run inside this process, on the library's event loop.
    Given a Toxiproxy API (``toxiproxy_url`` at import, or `Use Toxiproxy Server`), the
    same keywords drive it instead: ``python -m faultproxy --api-port 0`` (ours) or a
    real Toxiproxy. Over HTTP, the WebSocket-aware faults need the server to be ours
    (checked through ``GET /version``) and fail plainly otherwise; ``seed`` is then the
    server's own ``--seed``.

    = Observing the server =

    Behind a blackhole the client sees nothing, yet the server must give up on it.
    The in-process proxy sees the server's side: `Upstream Should Be Closed By Server
    Within` waits until the server sends a close frame, a FIN or an RST on every
    connection that was open when the latest fault was added, and logs the time beside
    its bound.

    = Timeouts =

    Every wait has a timeout, the library default (``timeout`` at import, 10 s) unless
    the keyword takes its own, and fails in one line saying what it waited for, where,
    and how long.

    = Example =

    | ${url} =    Create Proxy    ${TARGET_URL}    name=zombie
    | ${conn} =    Open Heartbeat Connection    ${url}
    | Add Latency    zombie    200 ms    jitter=50 ms
    | Remove All Faults    zombie
    | Blackhole Proxy    zombie
    | Upstream Should Be Closed By Server Within    zombie    1.25 s    criterion=AC-007.6
    """

    def __init__(
        self,
        toxiproxy_url: str = "",
        seed: int | None = None,
        timeout: TimeLike = timedelta(seconds=10),
    ) -> None:
        """``toxiproxy_url`` (``http://host:port``) drives a Toxiproxy API instead of the
        in-process proxy; ``seed`` seeds every in-process proxy; ``timeout`` is the
        default for every wait."""
        super().__init__(timeout)
        self._seed = seed
        self._in_process: InProcessBackend | None = None
        self._http: ToxiproxyBackend | None = ToxiproxyBackend(toxiproxy_url) if toxiproxy_url else None
        self._backends: list[Backend] = [self._http] if self._http else []
        self._proxies: dict[str, _Proxy] = {}

    # -- bookkeeping ---------------------------------------------------------------------

    def _cleanup(self) -> None:
        if self._loop is not None and self._backends:
            backends, self._backends = self._backends, []

            async def stop_all() -> None:
                for backend in backends:
                    await backend.close()

            self._run(stop_all(), "every fault proxy to stop", timeout=15)
        self._proxies.clear()
        self._in_process = None
        super()._cleanup()

    def _backend(self) -> Backend:
        if self._http is not None:
            return self._http
        if self._in_process is None:
            self._in_process = InProcessBackend(self._seed)
            self._backends.append(self._in_process)
        return self._in_process

    def _get(self, proxy: str) -> _Proxy:
        found = self._proxies.get(proxy)
        if found is None:
            found = next((p for p in self._proxies.values() if _same_endpoint(p.url, proxy)), None)
        if found is None:
            known = ", ".join(self._proxies) or "none"
            raise ValueError(f"No proxy named or listening at {mask_url(proxy)!r}; proxies: {known}.")
        return found

    def _do(self, coro: Any, what: str, p: _Proxy | None = None, timeout: float | None = None) -> Any:
        """Run a backend call; its errors become one plain line naming the proxy."""
        where = f" on proxy {p.name!r} ({p.backend.where})" if p else ""
        try:
            return self._run(coro, f"{what}{where}", timeout)
        except (ToxicError, FaultProxyError) as error:
            raise AssertionError(f"Cannot {what}{where}: {error}") from None

    # -- proxies -------------------------------------------------------------------------

    @keyword
    def use_toxiproxy_server(self, url: str) -> str:
        """Makes proxies created from now on live on the Toxiproxy API at ``url``.

        ``url`` is ``http://host:port`` of ``python -m faultproxy --api-port …`` or of a
        real Toxiproxy; empty goes back to in-process proxies. Returns the previous URL
        (empty for in-process). Proxies already created stay where they are.
        """
        old = self._http.where if self._http else ""
        self._http = ToxiproxyBackend(url) if url else None
        if self._http is not None:
            self._backends.append(self._http)
        return old

    @keyword
    def create_proxy(self, target_url: str, name: str | None = None, seed: int | None = None) -> str:
        """Starts a proxy in front of ``target_url`` and returns the URL to connect to.

        The returned URL keeps the scheme, path and query of ``target_url``, with host
        ``127.0.0.1`` and an OS-chosen port. ``name`` defaults to ``proxy-1``, ``proxy-2``
        …; ``seed`` fixes this proxy's random choices (in-process only).

        | ${url} =    Create Proxy    ${TARGET_URL}    name=zombie    seed=7
        """
        parts = urlsplit(target_url)
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise ValueError(f"Expected a ws:// or wss:// target URL, got {mask_url(target_url)!r}.")
        try:
            port = parts.port or (443 if parts.scheme == "wss" else 80)
        except ValueError:
            raise ValueError(f"Expected a numeric port in {mask_url(target_url)!r}.") from None
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        name = name or f"proxy-{len(self._proxies) + 1}"
        if name in self._proxies:
            raise ValueError(f"A proxy named {name!r} exists already ({self._proxies[name].url}).")
        backend = self._backend()
        if seed is not None and isinstance(backend, ToxiproxyBackend):
            logger.info(f"seed={seed} ignored: the Toxiproxy API at {backend.where} draws with its own --seed.")
        upstream = f"{host}:{port}"
        try:
            listen = self._run(backend.create(name, upstream, seed), f"proxy {name!r} to start")
        except FaultProxyError as error:
            raise AssertionError(f"Cannot create proxy {name!r} in front of {upstream}: {error}") from None
        listen_host, _, listen_port = listen.rpartition(":")
        url = urlunsplit((parts.scheme, f"{listen_host}:{listen_port}", parts.path, parts.query, ""))
        self._proxies[name] = _Proxy(name, url, listen, upstream, target_url, backend)
        logger.info(f"Proxy {name!r} ({backend.where}) listens on {listen}, in front of {mask_url(target_url)}.")
        return url

    @keyword
    def delete_proxy(self, proxy: str = "ALL") -> None:
        """Stops ``proxy`` (or ``ALL``): its connections are cut and its port closed."""
        targets = list(self._proxies.values()) if proxy == "ALL" else [self._get(proxy)]
        for p in targets:
            self._do(p.backend.delete(p.name), "delete the proxy", p)
            del self._proxies[p.name]

    @keyword
    def disable_proxy(self, proxy: str, reset: bool = False) -> None:
        """Takes ``proxy`` down: it refuses new connections and cuts open ones.

        Open connections get a FIN, or an RST with ``reset=True`` (in-process only;
        Toxiproxy always closes them). Stops a flapping schedule.
        """
        p = self._get(proxy)
        self._do(p.backend.set_enabled(p.name, False, reset), "disable", p)
        logger.info(f"Proxy {p.name!r} is down: connections to {p.listen} are refused.")

    @keyword
    def enable_proxy(self, proxy: str) -> None:
        """Brings ``proxy`` up again on the same port. Stops a flapping schedule."""
        p = self._get(proxy)
        self._do(p.backend.set_enabled(p.name, True), "enable", p)
        logger.info(f"Proxy {p.name!r} is up on {p.listen}.")

    @keyword
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
        p = self._get(proxy)
        if down.total_seconds() <= 0 or up.total_seconds() < 0 or (times is not None and times < 1):
            raise ValueError(f"Expected down > 0, up >= 0 and times >= 1, got down={down} up={up} times={times}.")
        self._do(p.backend.flap(p.name, down.total_seconds(), up.total_seconds(), times, reset),
                 "flap", p)
        logger.info(f"Proxy {p.name!r} flapping: down {down.total_seconds():.3f} s, up "
                    f"{up.total_seconds():.3f} s, {times if times else 'until stopped'} times"
                    f"{', cutting with RST' if reset else ''}.")

    @keyword
    def wait_until_proxy_stops_flapping(self, proxy: str, timeout: timedelta | None = None) -> None:
        """Waits until a bounded `Flap Proxy` schedule has run its course (proxy up)."""
        p = self._get(proxy)
        limit = seconds(timeout, self._timeout)
        if not self._do(p.backend.wait_flapping(p.name, limit), "the flapping schedule to end", p, limit + 1):
            raise AssertionError(f"Expected proxy {p.name!r} to stop flapping within {limit:.3f} s; "
                                 "it was still flapping.")

    # -- faults --------------------------------------------------------------------------

    def _add(self, proxy: str, kind: str, attributes: dict[str, Any], direction: Direction,
             toxicity: float, name: str | None, label: str = "") -> FaultNames:
        p = self._get(proxy)
        streams = _STREAMS.get(str(direction).strip().lower())
        if streams is None:
            raise ValueError(f"Expected direction upstream, downstream or both, got {direction!r}.")
        base = name or label or kind
        toxics = [{"type": kind, "name": f"{base}_{s}" if (len(streams) > 1 or not name) else base,
                   "stream": s, "toxicity": float(toxicity), "attributes": attributes} for s in streams]

        async def add_all() -> list[str]:
            names = [str((await p.backend.add(p.name, t))["name"]) for t in toxics]
            p.faulted_at = asyncio.get_running_loop().time()  # the clock of Link.peer_ends
            if isinstance(p.backend, InProcessBackend):
                p.faulted = p.backend.open_connections(p.name)
            return names

        names = self._do(add_all(), f"add {kind}", p)
        shown = ", ".join(f"{k} {v}" for k, v in attributes.items()) or "no attributes"
        logger.info(f"Proxy {p.name!r}: added {', '.join(names)} ({shown}; toxicity {float(toxicity):g}).")
        return names if len(names) > 1 else names[0]

    @keyword
    def add_latency(self, proxy: str, latency: timedelta, jitter: timedelta = timedelta(0),
                    direction: Direction = "downstream", toxicity: float = 1.0,
                    name: str | None = None) -> FaultNames:
        """Delays data through ``proxy`` by ``latency`` ± ``jitter``.

        | Add Latency    ${proxy}    200 ms    jitter=50 ms    direction=both
        """
        return self._add(proxy, "latency", {"latency": _ms(latency), "jitter": _ms(jitter)},
                         direction, toxicity, name)

    @keyword
    def limit_bandwidth(self, proxy: str, rate: str | float, direction: Direction = "downstream",
                        toxicity: float = 1.0, name: str | None = None) -> FaultNames:
        """Caps the data rate: ``rate`` in KB/s (``64``), or with a unit (``64 KB/s``, ``2 MB/s``).

        1 KB is 1000 bytes, as in Toxiproxy.
        """
        return self._add(proxy, "bandwidth", {"rate": _rate_kb(rate)}, direction, toxicity, name)

    @keyword
    def slice_data(self, proxy: str, average_size: int, size_variation: int = 0,
                   delay: timedelta = timedelta(0), direction: Direction = "downstream",
                   toxicity: float = 1.0, name: str | None = None) -> FaultNames:
        """Cuts data into pieces of about ``average_size`` ± ``size_variation`` bytes,
        ``delay`` apart, as a fragmenting network would. Frames arrive split."""
        attributes = {"average_size": int(average_size), "size_variation": int(size_variation),
                      "delay": round(delay.total_seconds() * 1_000_000)}
        return self._add(proxy, "slicer", attributes, direction, toxicity, name)

    @keyword
    def blackhole_proxy(self, proxy: str, direction: Direction = "both", toxicity: float = 1.0,
                        name: str | None = None) -> FaultNames:
        """Makes the connection half-open: no data passes, and the proxy sends no FIN and
        no RST, so only the peers' own timers can notice.

        Default ``direction`` is ``both``: the client neither reads nor is read. A FIN
        or RST a peer sends itself is still passed on, as in Toxiproxy. Returns the fault
        names (``blackhole_upstream``, ``blackhole_downstream``).
        """
        return self._add(proxy, "timeout", {"timeout": 0}, direction, toxicity, name, label="blackhole")

    @keyword
    def close_after_timeout(self, proxy: str, timeout: timedelta, direction: Direction = "downstream",
                            toxicity: float = 1.0, name: str | None = None) -> FaultNames:
        """Lets no data through and closes the connection (FIN) after ``timeout``."""
        if timeout.total_seconds() <= 0:
            raise ValueError("Expected a timeout > 0; use Blackhole Proxy for a connection that never closes.")
        return self._add(proxy, "timeout", {"timeout": _ms(timeout)}, direction, toxicity, name)

    @keyword
    def reset_connections(self, proxy: str) -> int | None:
        """Resets (TCP RST) every connection open through ``proxy`` now; new ones are not
        affected. Returns how many there were (``None`` over a Toxiproxy API, where a
        ``reset_peer`` toxic is added and removed again)."""
        p = self._get(proxy)
        count = self._do(p.backend.reset_connections(p.name), "reset connections", p)
        logger.info(f"Proxy {p.name!r}: reset {'its' if count is None else count} open connection(s).")
        return count

    @keyword
    def reset_connections_after(self, proxy: str, timeout: timedelta, direction: Direction = "downstream",
                                toxicity: float = 1.0, name: str | None = None) -> FaultNames:
        """Resets (TCP RST) each connection ``timeout`` after the fault meets it, dropping
        data until then; connections opened later are reset too."""
        return self._add(proxy, "reset_peer", {"timeout": _ms(timeout)}, direction, toxicity, name)

    @keyword
    def slow_close(self, proxy: str, delay: timedelta, direction: Direction = "downstream",
                   toxicity: float = 1.0, name: str | None = None) -> FaultNames:
        """Holds a FIN for ``delay`` before passing it on."""
        return self._add(proxy, "slow_close", {"delay": _ms(delay)}, direction, toxicity, name)

    @keyword
    def limit_data(self, proxy: str, limit: int, direction: Direction = "downstream",
                   toxicity: float = 1.0, name: str | None = None) -> FaultNames:
        """Closes the connection once ``limit`` bytes have passed in ``direction``."""
        return self._add(proxy, "limit_data", {"bytes": int(limit)}, direction, toxicity, name)

    @keyword
    def drop_pong_frames(self, proxy: str, direction: Direction = "upstream", toxicity: float = 1.0,
                         name: str | None = None) -> FaultNames:
        """Drops WebSocket PONG frames, and only them (default: the client's, on their way
        to the server). Data still flows, but the server's keepalive starves."""
        return self._add(proxy, "drop_pongs", {}, direction, toxicity, name)

    @keyword
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

    @keyword
    def duplicate_frame(self, proxy: str, frame: int = 1, direction: Direction = "downstream",
                        toxicity: float = 1.0, name: str | None = None) -> FaultNames:
        """Sends the ``frame``-th data frame twice."""
        return self._add(proxy, "duplicate_frame", {"frame": int(frame)}, direction, toxicity, name)

    @keyword
    def corrupt_frame(self, proxy: str, frame: int = 1, offset: int = 0, xor: int = 255,
                      direction: Direction = "downstream", toxicity: float = 1.0,
                      name: str | None = None) -> FaultNames:
        """XORs one payload byte (``offset``) of the ``frame``-th data frame with ``xor``.
        A flipped text frame usually breaks UTF-8, and a correct peer closes 1007."""
        attributes = {"frame": int(frame), "offset": int(offset), "xor": int(xor)}
        return self._add(proxy, "corrupt_frame", attributes, direction, toxicity, name)

    @keyword
    def remove_fault(self, proxy: str, fault: FaultNames) -> None:
        """Removes a fault (or a list of them) by name; data it held goes on at once."""
        p = self._get(proxy)
        for name in [fault] if isinstance(fault, str) else list(fault):
            self._do(p.backend.remove(p.name, name), f"remove fault {name!r}", p)
        logger.info(f"Proxy {p.name!r}: removed {fault}.")

    @keyword
    def remove_all_faults(self, proxy: str = "ALL") -> int:
        """Removes every fault from ``proxy`` (or from ``ALL`` proxies); returns how many."""
        targets = list(self._proxies.values()) if proxy == "ALL" else [self._get(proxy)]
        removed = 0
        for p in targets:
            for toxic in self._do(p.backend.toxics(p.name), "list faults", p):
                self._do(p.backend.remove(p.name, toxic["name"]), f"remove fault {toxic['name']!r}", p)
                removed += 1
        logger.info(f"Removed {removed} fault(s) from {proxy}.")
        return removed

    @keyword
    def get_proxy_faults(self, proxy: str) -> list[dict[str, Any]]:
        """Returns the faults of ``proxy`` as Toxiproxy shows them: ``name``, ``type``,
        ``stream``, ``toxicity`` and ``attributes``.

        | ${faults} =    Get Proxy Faults    ${proxy}
        | Should Be Empty    ${faults}
        """
        p = self._get(proxy)
        return list(self._do(p.backend.toxics(p.name), "list faults", p))

    # -- observing the server ------------------------------------------------------------

    @keyword
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
        p = self._get(proxy)
        backend = p.backend
        if not isinstance(backend, InProcessBackend):
            raise SkipExecution(
                f"Observing how the server ends connections needs the in-process proxy; the "
                f"Toxiproxy API at {backend.where} does not report it."
            )
        if p.faulted_at is None:
            raise ValueError(f"Add a fault to proxy {p.name!r} first; the clock starts when it is added.")
        if not p.faulted:
            raise AssertionError(f"Expected a connection open through proxy {p.name!r} when its latest "
                                 "fault was added; there was none.")
        limit = bound.total_seconds()
        since, conns = p.faulted_at, p.faulted

        async def observe() -> list[Any]:
            await wait_server_ends(conns, since + limit)
            return [server_end(c, since) for c in conns]

        ends = self._run(observe(), f"the server to end connections through {p.name!r}", limit + 5,
                         mask_url(p.target))
        return self._judge_server_ends(p, ends, limit, criterion)

    def _judge_server_ends(self, p: _Proxy, ends: list[Any], limit: float, criterion: str) -> float:
        times = [e.took for e in ends if e.took is not None]
        worst = max(times) if len(times) == len(ends) else float("nan")
        held = sum(e.held_bytes for e in ends)
        notes = "; ".join(e.describe() for e in ends)
        figure = Figure("server ended the faulted connection after", worst, "s", limit, "<=", criterion,
                        note=f"{len(ends)} connection(s) via {p.name}: {notes}; "
                             f"{held} server bytes held by the proxy")
        logger.info(figure_table([figure], "Server termination seen at the proxy's upstream socket"),
                    html=True)
        by_proxy = [e for e in ends if e.took is None and e.closed_by_proxy]
        if by_proxy:
            raise AssertionError(
                f"Expected the server to end the connection(s) through proxy {p.name!r}; "
                f"{len(by_proxy)} were closed by the proxy itself ({by_proxy[0].closed_by_proxy}) first."
            )
        if not figure.passed:
            silent = sum(1 for e in ends if e.took is None)
            seen = (f"{silent} of {len(ends)} got no close frame, FIN or RST" if silent
                    else f"the slowest took {worst:.3f} s")
            raise AssertionError(
                f"Expected the server to end the connection(s) through proxy {p.name!r} within "
                f"{limit:.3f} s of the fault; {seen} ({mask_url(p.target)})."
            )
        logger.info(f"The server ended {len(ends)} connection(s) through {p.name!r}: {notes}.")
        return worst


def _ms(value: timedelta) -> int:
    milliseconds = value.total_seconds() * 1000
    if milliseconds < 0:
        raise ValueError(f"Expected a time >= 0, got {value}.")
    return round(milliseconds)


def _rate_kb(rate: str | int | float) -> int:
    text = str(rate).strip().lower().replace(" ", "")
    factor = 1.0
    for unit, scale in _RATE_UNITS.items():
        if text.endswith(unit):
            text, factor = text[: -len(unit)], scale
            break
    try:
        kb = float(text) * factor
    except ValueError:
        raise ValueError(f"Expected a rate such as 64, '64 KB/s' or '2 MB/s', got {rate!r}.") from None
    if kb < 0:
        raise ValueError(f"Expected a rate >= 0, got {rate!r}.")
    return round(kb)


def _same_endpoint(url: str, candidate: str) -> bool:
    try:
        a, b = urlsplit(url), urlsplit(candidate)
        return bool(b.hostname) and (a.hostname, a.port) == (b.hostname, b.port)
    except ValueError:
        return False
