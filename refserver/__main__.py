"""Run the reference server: ``python -m wsresilience.refserver --port 8765 [--defect NAME]``.

Prints one line ``refserver listening on ws://HOST:PORT/ (pid N)`` once it accepts
connections (with ``--port 0`` the OS chooses the port), and stops cleanly on SIGTERM or
SIGINT. With ``--tls-cert PEM --tls-key PEM`` it serves ``wss://`` (its HTTP endpoints
``https://``) and says so in that line.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys

from . import __version__
from .app import ServerApp
from .config import ServerConfig
from .defects import DEFECTS, Defect, UnknownDefect


def parse_args(argv: list[str] | None = None) -> ServerConfig:
    """The server configuration from the command line."""
    parser = argparse.ArgumentParser(prog="python -m wsresilience.refserver", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 lets the OS choose")
    parser.add_argument("--ping-interval", type=float, default=20.0,
                        help="seconds between keepalive pings; 0 disables keepalive")
    parser.add_argument("--ping-timeout", type=float, default=20.0,
                        help="seconds to wait for a pong before closing with 1011")
    parser.add_argument("--close-timeout", type=float, default=10.0,
                        help="seconds to wait for the closing handshake before dropping TCP")
    parser.add_argument("--backlog", type=int, default=100,
                        help="listen backlog (pending connections the kernel queues)")
    parser.add_argument("--gc-freeze-every", type=int, default=0, metavar="N",
                        help="gc.freeze() after every N accepted connections (0: never; for "
                             "benchmarks holding thousands, never for leak checks)")
    parser.add_argument("--data-dir", default=None, help="where persistent state lives")
    parser.add_argument("--session-ttl", type=float, default=300.0,
                        help="seconds a session survives without a connection")
    parser.add_argument("--require-epoch", action="store_true",
                        help="refuse a stream resume that names no epoch (epoch-changed), "
                             "as a strict server may")
    parser.add_argument("--tls-cert", default=None, metavar="PEM",
                        help="serve wss:// with this certificate (chain first); needs --tls-key")
    parser.add_argument("--tls-key", default=None, metavar="PEM", help="the certificate's private key")
    parser.add_argument("--defect", action="append", default=[], metavar="NAME",
                        help="start with a seeded defect: " + ", ".join(sorted(DEFECTS)))
    parser.add_argument("--version", action="version", version=f"refserver {__version__}")
    args = parser.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.exit(2, "refserver: --tls-cert and --tls-key go together.\n")
    try:
        defects = Defect.parse_all(args.defect)
    except UnknownDefect as exc:
        parser.exit(2, f"refserver: {exc}\n")
    return ServerConfig(
        host=args.host,
        port=args.port,
        ping_interval=args.ping_interval or None,
        ping_timeout=args.ping_timeout,
        close_timeout=args.close_timeout,
        backlog=args.backlog,
        gc_freeze_every=args.gc_freeze_every,
        defects=defects,
        data_dir=args.data_dir,
        session_ttl=args.session_ttl,
        require_epoch=args.require_epoch,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
    )


async def run(config: ServerConfig) -> None:
    """Serve until SIGTERM or SIGINT."""
    server = ServerApp(config)
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    defects = f" with defects {', '.join(config.defects)}" if config.defects else ""
    print(f"refserver listening on {server.url} (pid {os.getpid()}){defects}", flush=True)
    await stop.wait()
    await server.stop()


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    main()
