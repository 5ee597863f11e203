"""A small stream server of our own that speaks ``stream/1`` well enough, then misbehaves.

``python tests/support/stream_servers.py --start MODE --resume MODE`` prints ``listening on
ws://127.0.0.1:PORT/`` and serves until SIGTERM. It is a plain ``websockets`` server, nothing
of the library or the reference server inside, so what the stream keywords make of its
answers is what they would make of any service's.

How it answers a ``stream-start`` (``--start``) and a ``stream-resume`` (``--resume``):

- ``ok``: a start is accepted (epoch ``EPOCH``) and streamed as one chunk and the end; a
  resume is refused as ``unknown-stream`` (this server forgets everything);
- ``open`` (start only): accepted, one chunk, and never an end, so there is something to resume;
- ``invalid-json``: a text frame that is not JSON, with a URL holding a password and a token
  in it, which a client must mask;
- ``unknown-type``: a JSON object of a type the protocol does not have;
- ``oversized``: a ``chunk`` message of ``--oversized-bytes`` (default 3 MiB), more than the
  client accepts when its limit is set to 1 MiB (the tests set it; the default is 64 MiB);
- ``error:CODE``: an error with that code (``error:stream-complete``).

With ``--chunks MODE`` a start is streamed as the six :data:`CHUNKS` instead (``whole``), or
with seq 3 left out (``skip``) or sent twice (``duplicate``), always ending with the count
and hash of the whole six. With ``--stream2`` it takes a client's offer of ``stream/2``
(docs/protocol.md, section 8.1) and sends them as one batch frame, the fault inside it;
otherwise it answers ``stream/1`` and sends a JSON message per chunk, the fault among them.
Its batch encoder is its own, written from the protocol text.

Tests start it with :func:`running`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

EPOCH = "epoch-of-the-test-server"
#: Secrets the invalid JSON carries in a URL: a client must never print them.
SECRETS = ("hunter2", "s3cr3t-t0ken")
#: What ``--chunks`` streams, seq 1 to 6; the faults are at seq 3.
CHUNKS = ("alpha ", "beta ", "gamma ", "delta ", "epsilon ", "zeta")
#: The seqs each ``--chunks`` mode sends, in order.
SEQS = {"whole": [1, 2, 3, 4, 5, 6], "skip": [1, 2, 4, 5, 6], "duplicate": [1, 2, 3, 3, 4, 5, 6]}
GARBAGE = "{not JSON: wss://qa:hunter2@example.test/ws?token=s3cr3t-t0ken " + "x" * 200


@contextmanager
def running(*options: str) -> Iterator[str]:
    """Start the server as a process with ``options``; yields its URL; stops it (SIGTERM)."""
    # Imported here: this file also runs as a script, where the support package is not on the path.
    from support.echo_server import server_process

    with server_process([sys.executable, __file__, *options], r"ws://127\.0\.0\.1:(\d+)/",
                        "stream server") as server:
        yield server.url


def bad_answer(mode: str, message: dict[str, Any], oversized: int) -> str | None:
    """The misbehaving answer of ``mode`` to ``message``, or ``None`` for ``ok``."""
    if mode == "invalid-json":
        return GARBAGE
    if mode == "unknown-type":
        return json.dumps({"type": "surprise", "ref": message.get("ref"), "stream": message.get("stream")})
    if mode == "oversized":
        return json.dumps({"type": "chunk", "stream": message.get("stream", "s-1"), "seq": 1,
                           "data": "x" * oversized})
    if mode.startswith("error:"):
        return json.dumps({"type": "error", "code": mode.split(":", 1)[1],
                           "message": "this server answers so", "stream": message.get("stream")})
    return None


def batch(stream: str, seqs: list[int]) -> bytes:
    """A ``stream/2`` chunk frame: a JSON header line naming each seq and byte length, then the data."""
    bodies = [CHUNKS[seq - 1].encode() for seq in seqs]
    header = {"type": "chunks", "stream": stream, "seq": seqs, "len": [len(b) for b in bodies]}
    return json.dumps(header).encode() + b"\n" + b"".join(bodies)


async def send_chunks(ws: ServerConnection, stream: str, mode: str, protocol: str) -> None:
    """The six chunks as ``mode`` sends them, then the end of all six."""
    if protocol == "stream/2":
        await ws.send(batch(stream, SEQS[mode]))
    else:
        for seq in SEQS[mode]:
            await ws.send(json.dumps({"type": "chunk", "stream": stream, "seq": seq, "data": CHUNKS[seq - 1]}))
    payload = "".join(CHUNKS).encode()
    await ws.send(json.dumps({"type": "stream-end", "stream": stream, "chunks": len(CHUNKS),
                              "bytes": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}))


async def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--start", default="ok")
    parser.add_argument("--resume", default="ok")
    parser.add_argument("--oversized-bytes", type=int, default=3 << 20)
    parser.add_argument("--chunks", choices=sorted(SEQS))
    parser.add_argument("--stream2", action="store_true", help="take a client's offer of stream/2")
    args = parser.parse_args(argv)
    streams = 0

    async def handle(ws: ServerConnection) -> None:
        with contextlib.suppress(ConnectionClosed):  # clients cut and give up on purpose
            await answer(ws)

    async def answer(ws: ServerConnection) -> None:
        nonlocal streams
        async for raw in ws:
            message = json.loads(raw)
            kind = message.get("type")
            mode = args.start if kind == "stream-start" else args.resume if kind == "stream-resume" else ""
            bad = bad_answer(mode, message, args.oversized_bytes)
            if bad is not None:
                await ws.send(bad)
            elif kind == "stream-start":
                streams += 1
                stream, data = f"s-{streams}", "hello"
                offered = args.stream2 and "stream/2" in (message.get("protocols") or [])
                protocol = "stream/2" if offered else "stream/1"
                size = len("".join(CHUNKS)) if args.chunks else len(data)
                await ws.send(json.dumps({"type": "stream-started", "ref": message.get("ref"),
                                          "stream": stream, "epoch": EPOCH, "protocol": protocol,
                                          "kind": "text", "bytes": size, "window_ms": 5000}))
                if args.chunks:
                    await send_chunks(ws, stream, args.chunks, protocol)
                    continue
                await ws.send(json.dumps({"type": "chunk", "stream": stream, "seq": 1, "data": data}))
                if args.start == "open":
                    continue
                await ws.send(json.dumps({"type": "stream-end", "stream": stream, "chunks": 1,
                                          "bytes": len(data),
                                          "sha256": hashlib.sha256(data.encode()).hexdigest()}))
            elif kind == "stream-resume":
                await ws.send(json.dumps({"type": "error", "code": "unknown-stream",
                                          "message": "no such stream", "stream": message.get("stream")}))

    async with serve(handle, "127.0.0.1", 0, ping_interval=None) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"listening on ws://127.0.0.1:{port}/", flush=True)
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
