"""A third-party stand-in: a plain ``websockets`` echo server, nothing of ours inside.

``python tests/support/echo_server.py [options]`` prints ``listening on ws://127.0.0.1:PORT/``
(``wss://`` with TLS) and serves until SIGTERM. Without options it is websockets' defaults throughout; options:

- ``--ping-interval S`` / ``--ping-timeout S`` / ``--close-timeout S``: keepalive and closing
  (``--ping-interval 0`` turns keepalive off);
- ``--no-compression``: no permessage-deflate (websockets offers it by default);
- ``--leak-fd``: every connection opens a file descriptor (``/dev/null``) that is never
  closed, the resource leak the WS-RESILIENCE-006 leak checks must catch;
- ``--silent``: accept connections and never send anything (no echo; with
  ``--ping-interval 0``, no ping either): a server that never answers;
- ``--tls-cert PEM --tls-key PEM``: serve ``wss://`` with that certificate (tests make one
  with ``support.tls_certs``).

Tests start it with :func:`running` (or the ``echo_process`` fixture of ``tests/conftest.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import ssl
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.server import ServerConnection, serve

leaked: list[int] = []


@dataclass(frozen=True)
class EchoProcess:
    """A running echo server process: its URL (``ws://`` or ``wss://127.0.0.1:PORT/``), port
    and pid."""

    url: str
    port: int
    pid: int


@contextmanager
def running(*options: str) -> Iterator[EchoProcess]:
    """Start the echo server as a process with ``options``; stop it (SIGTERM) on exit."""
    proc = subprocess.Popen([sys.executable, __file__, *options], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"listening on (wss?://127\.0\.0\.1:(\d+)/)", line)
        assert match, f"echo server said {line!r}"
        yield EchoProcess(match.group(1), int(match.group(2)), proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def server_options(args: argparse.Namespace) -> dict[str, Any]:
    """websockets ``serve`` arguments for the options given (the rest keep their defaults)."""
    options: dict[str, Any] = {}
    if args.ping_interval is not None:
        options["ping_interval"] = args.ping_interval or None
    if args.ping_timeout is not None:
        options["ping_timeout"] = args.ping_timeout
    if args.close_timeout is not None:
        options["close_timeout"] = args.close_timeout
    if args.no_compression:
        options["compression"] = None
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        options["ssl"] = context
    return options


async def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ping-interval", type=float, help="seconds between pings, 0 for none")
    parser.add_argument("--ping-timeout", type=float)
    parser.add_argument("--close-timeout", type=float)
    parser.add_argument("--no-compression", action="store_true")
    parser.add_argument("--leak-fd", action="store_true")
    parser.add_argument("--silent", action="store_true", help="never send: no echo")
    parser.add_argument("--tls-cert", help="serve wss:// with this certificate (PEM)")
    parser.add_argument("--tls-key", help="the certificate's private key (PEM)")
    args = parser.parse_args(argv)

    async def echo(ws: ServerConnection) -> None:
        if args.leak_fd:
            leaked.append(os.open(os.devnull, os.O_RDONLY))
        async for message in ws:
            if not args.silent:
                await ws.send(message)

    async with serve(echo, "127.0.0.1", 0, **server_options(args)) as server:
        port = server.sockets[0].getsockname()[1]
        scheme = "wss" if args.tls_cert else "ws"
        print(f"listening on {scheme}://127.0.0.1:{port}/", flush=True)
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
