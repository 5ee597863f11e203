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
- ``--answer-status CODE``: answer the opening handshake with HTTP ``CODE`` (403, 404, 503…)
  instead of 101, a service that refuses the upgrade; with ``--accept-first N`` the first
  ``N`` handshakes are accepted before that (a service that turns a reconnect away);
- ``--send-on-connect BYTES``: send one text message of ``BYTES`` bytes as soon as a
  connection opens (the server's own limit does not apply to what it sends);
- ``--tls-cert PEM --tls-key PEM``: serve ``wss://`` with that certificate (tests make
  one with ``support.tls_certs``; it is not trusted by a default client).

Tests start it with :func:`running` (or the ``echo_process`` fixture of ``tests/conftest.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
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
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

leaked: list[int] = []


@dataclass(frozen=True)
class EchoProcess:
    """A running echo server process: its URL (``ws://`` or ``wss://127.0.0.1:PORT/``), port and pid."""

    url: str
    port: int
    pid: int


@contextmanager
def server_process(command: list[str], listening: str, name: str) -> Iterator[EchoProcess]:
    """Run a test server ``command`` until it prints ``listening on URL``; stop it on exit.

    ``listening`` is the URL pattern, with groups (URL, port). The one way every test
    server here (Python or Node) is started and stopped: SIGTERM, then SIGKILL after 10 s.
    """
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(rf"listening on ({listening})", line)
        assert match, f"{name} said {line!r}"
        yield EchoProcess(match.group(1), int(match.group(2)), proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def running(*options: str) -> Iterator[EchoProcess]:
    """Start the echo server as a process with ``options``; stop it (SIGTERM) on exit."""
    with server_process([sys.executable, __file__, *options], r"wss?://127\.0\.0\.1:(\d+)/",
                        "echo server") as server:
        yield server


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
    if args.answer_status:
        handshakes = itertools.count(1)

        def refuse(connection: ServerConnection, request: Request) -> Response | None:
            if next(handshakes) <= args.accept_first:
                return None
            return connection.respond(args.answer_status, f"refused with HTTP {args.answer_status}\n")

        options["process_request"] = refuse
    return options


async def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ping-interval", type=float, help="seconds between pings, 0 for none")
    parser.add_argument("--ping-timeout", type=float)
    parser.add_argument("--close-timeout", type=float)
    parser.add_argument("--no-compression", action="store_true")
    parser.add_argument("--leak-fd", action="store_true")
    parser.add_argument("--silent", action="store_true", help="never send: no echo")
    parser.add_argument("--answer-status", type=int, help="HTTP status answering the upgrade")
    parser.add_argument("--accept-first", type=int, default=0, help="handshakes accepted first")
    parser.add_argument("--send-on-connect", type=int, default=0, help="bytes sent on connect")
    parser.add_argument("--tls-cert", help="PEM certificate: serve wss://")
    parser.add_argument("--tls-key", help="PEM private key of --tls-cert")
    args = parser.parse_args(argv)
    scheme = "wss" if args.tls_cert else "ws"

    async def echo(ws: ServerConnection) -> None:
        if args.leak_fd:
            leaked.append(os.open(os.devnull, os.O_RDONLY))
        with contextlib.suppress(ConnectionClosed):  # a client may refuse the big one (close 1009)
            if args.send_on_connect:
                await ws.send("x" * args.send_on_connect)
            async for message in ws:
                if not args.silent:
                    await ws.send(message)

    async with serve(echo, "127.0.0.1", 0, **server_options(args)) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"listening on {scheme}://127.0.0.1:{port}/", flush=True)
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
