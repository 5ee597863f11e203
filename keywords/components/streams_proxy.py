"""The degraded-network proxy of the stream keywords, deprecated for the network-fault keywords.

`Start Degraded Network Proxy` predates the shared proxy registry: it now makes an in-process
fault proxy through :class:`~wsresilience.core.faults.backends.InProcessBackend` and adds it to
the context's ``proxies``, where `Connect To Stream Service` finds it like any proxy made by
`Create Proxy`. It goes once the suites use `Create Proxy`, `Add Latency` and `Limit
Bandwidth`; this module goes with it.
"""

from __future__ import annotations

import ssl
from datetime import timedelta
from typing import TYPE_CHECKING

from robot.api import SkipExecution, logger
from robot.api.deco import keyword

from wsresilience.components.base import LibraryComponent
from wsresilience.context import LibraryContext
from wsresilience.core.faults.toxics import toxic_specs
from wsresilience.components.streams_checks import TAG
from wsresilience.core.masking import SecretOrStr, SecretUrl, protect_url, reveal

if TYPE_CHECKING:
    from wsresilience.core.faults.backends import InProcessBackend


class DegradedProxyKeywords(LibraryComponent):
    """`Start Degraded Network Proxy` and `Stop Degraded Network Proxy` (both deprecated)."""

    def __init__(self, ctx: LibraryContext) -> None:
        super().__init__(ctx)
        #: The proxy `Start Degraded Network Proxy` made, by its name in ``ctx.proxies``.
        self._degraded: str | None = None
        ctx.on_close(self._stop_degraded)

    @keyword(tags=[TAG, "Deprecated"])
    def start_degraded_network_proxy(
        self,
        upstream_url: SecretOrStr,
        latency: timedelta = timedelta(milliseconds=20),
        jitter: timedelta = timedelta(milliseconds=10),
        rate_kbps: int = 2000,
        seed: int = 0,
    ) -> str | SecretUrl:
        """Deprecated: use `Create Proxy`, `Add Latency` (``direction=both``) and `Limit Bandwidth`.

        Starts an in-process fault proxy in front of ``upstream_url`` and returns the URL to
        use instead. Both directions get ``latency`` ± ``jitter``; the server-to-client
        direction is capped at ``rate_kbps`` KB/s. The proxy joins the library's proxies
        (named ``proxy-N``), so sessions connected through it are cut *by the proxy* (a
        TCP reset from the network, not a client abort). SKIPs when the ``faultproxy``
        package is not installed. The proxy stops at the end of the suite or with `Stop
        Degraded Network Proxy`.
        """
        given, upstream_url = upstream_url, reveal(upstream_url)
        self.deprecated("Start Degraded Network Proxy", "Create Proxy, Add Latency and Limit Bandwidth")
        try:
            from wsresilience.core.faults.backends import InProcessBackend
            from wsresilience.core.faults.handle import ProxyHandle, client_url, upstream_of
        except ImportError:  # pragma: no cover - depends on the installation
            raise SkipExecution("The fault proxy (package faultproxy) is not installed.") from None
        if self._degraded is not None:
            raise RuntimeError("A degraded network proxy is already running; stop it first.")
        upstream = upstream_of(upstream_url)
        lat, jit = round(latency.total_seconds() * 1000), round(jitter.total_seconds() * 1000)
        name, backend = self.ctx.proxies.next_name(), InProcessBackend()
        try:
            tls = self.ctx.target.ssl_context(upstream_url)
            listen = self.run(_start_degraded(backend, name, upstream, lat, jit, int(rate_kbps), int(seed), tls),
                              "the fault proxy to start", target=upstream_url)
        except BaseException:
            self.run(backend.close(), "the fault proxy to stop", timeout=10)
            raise
        url = client_url(upstream_url, listen)
        self.ctx.proxies.add(name, ProxyHandle(name, url, listen, upstream, upstream_url, backend))
        self._degraded = name
        logger.info(f"Fault proxy {name!r} on {listen} in front of {upstream}: latency "
                    f"{lat} ± {jit} ms both ways, downstream capped at {rate_kbps} KB/s, seed {seed}.")
        return protect_url(url, given)

    @keyword(tags=[TAG, "Deprecated"])
    def stop_degraded_network_proxy(self) -> None:
        """Deprecated: use `Delete Proxy`. Stops the proxy `Start Degraded Network Proxy` made (safe to repeat)."""
        self.deprecated("Stop Degraded Network Proxy", "Delete Proxy")
        self._stop_degraded()

    def _stop_degraded(self) -> None:
        name, self._degraded = self._degraded, None
        handle = self.ctx.proxies.pop(name) if name is not None else None
        if handle is not None and self.ctx.loop_started:
            self.run(handle.backend.close(), "the fault proxy to stop", timeout=10)


async def _start_degraded(backend: InProcessBackend, name: str, upstream: str, latency_ms: int,
                          jitter_ms: int, rate_kbps: int, seed: int, tls: ssl.SSLContext | None) -> str:
    """Start proxy ``name`` with latency ± jitter both ways and a downstream bandwidth cap;
    returns its listening address (loop-side)."""
    latency = {"latency": latency_ms, "jitter": jitter_ms}
    listen = await backend.create(name, upstream, seed, tls)
    for toxic in (*toxic_specs("latency", latency, "downstream", 1.0, None),
                  *toxic_specs("latency", latency, "upstream", 1.0, None),
                  *toxic_specs("bandwidth", {"rate": rate_kbps}, "downstream", 1.0, None)):
        await backend.add(name, toxic)
    return listen
