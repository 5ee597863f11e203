"""WebSocket-aware toxics on real websockets connections, the frame parser on its own,
and the proxy's hygiene: garbage in, no crash; stop, nothing left behind."""

from __future__ import annotations

import asyncio
import json
import os
import random
import time

import pytest
import websockets
from websockets.exceptions import ConnectionClosed, ConnectionClosedError

from wsresilience.faultproxy import FaultProxy
from wsresilience.faultproxy.wsframes import (
    OP_BINARY,
    OP_CLOSE,
    OP_PING,
    OP_TEXT,
    Frame,
    FrameParser,
    encode_frame,
    parse_frames,
)
from support.fp_helpers import echo_server, open_fds, proxy_to, round_trip, run, ws_url

# ------------------------------------------------------------------ frame toxics


def test_drop_pongs_starves_server_keepalive_while_data_flows() -> None:
    interval, timeout = 0.2, 0.3

    async def scenario(with_toxic: bool) -> tuple[int, float | None, int | None]:
        async with echo_server(ping_interval=interval, ping_timeout=timeout) as port, proxy_to(port) as proxy:
            if with_toxic:
                await proxy.add_toxic("drop_pongs", stream="upstream")
            echoes = 0
            start = time.monotonic()
            async with websockets.connect(ws_url(proxy), ping_interval=None) as ws:
                try:
                    while time.monotonic() - start < 1.5:
                        await round_trip(ws, f"data {echoes}")
                        echoes += 1
                        await asyncio.sleep(0.05)  # pacing the sender, not synchronisation
                except ConnectionClosed as closed:
                    return echoes, time.monotonic() - start, closed.rcvd.code if closed.rcvd else None
            return echoes, None, None

    echoes, closed_after, code = run(lambda: scenario(True))
    assert closed_after is not None, "expected the server to give up on keepalive"
    assert code == 1011, f"expected close 1011 (keepalive ping timeout), got {code}"
    assert closed_after <= interval + timeout + 0.3, f"closed after {closed_after:.3f} s"
    assert echoes >= 3, f"expected data to keep flowing until then, got {echoes} echoes"
    # Control: the same exchange without the toxic keeps the connection.
    echoes, closed_after, _ = run(lambda: scenario(False))
    assert closed_after is None and echoes >= 10


def test_cut_at_frame_resets_instead_of_the_nth_data_frame() -> None:
    async def scenario() -> list[str]:
        async with echo_server() as port, proxy_to(port) as proxy:
            await proxy.add_toxic("cut_at_frame", stream="upstream", attributes={"frame": 3})
            got: list[str] = []
            async with websockets.connect(ws_url(proxy)) as ws:
                with pytest.raises(ConnectionClosedError) as caught:
                    for text in ("one", "two", "three", "four"):
                        await ws.send(text)
                        async with asyncio.timeout(3):
                            got.append(str(await ws.recv()))
                assert caught.value.rcvd is None, "expected an abrupt end (1006)"
            return got

    assert run(scenario) == ["one", "two"]


def test_cut_at_json_field_value() -> None:
    async def streamer(ws: websockets.ServerConnection) -> None:
        for seq in range(1, 11):
            await ws.send(json.dumps({"seq": seq, "data": "x"}))
        await ws.wait_closed()

    async def scenario() -> list[int]:
        async with echo_server(streamer, compression=None) as port, proxy_to(port) as proxy:
            await proxy.add_toxic("cut_at_frame", attributes={"field": "seq", "value": 5})
            seqs: list[int] = []
            async with websockets.connect(ws_url(proxy), compression=None) as ws:
                with pytest.raises(ConnectionClosedError):
                    async with asyncio.timeout(3):
                        async for message in ws:
                            seqs.append(json.loads(message)["seq"])
            return seqs

    assert run(scenario) == [1, 2, 3, 4]


def test_duplicate_frame_sends_the_nth_twice() -> None:
    async def scenario() -> list[str]:
        async with echo_server() as port, proxy_to(port) as proxy:
            async with websockets.connect(ws_url(proxy)) as ws:
                await round_trip(ws, "before")  # the toxic joins an open connection
                await proxy.add_toxic("duplicate_frame", attributes={"frame": 2})
                for text in ("a", "b", "c"):
                    await ws.send(text)
                got = []
                async with asyncio.timeout(3):
                    for _ in range(4):
                        got.append(str(await ws.recv()))
                return got

    assert run(scenario) == ["a", "b", "b", "c"]


@pytest.mark.parametrize("stream", ["upstream", "downstream"])
def test_corrupt_frame_flips_one_payload_byte(stream: str) -> None:
    async def scenario() -> list[bytes]:
        async with echo_server() as port, proxy_to(port) as proxy:
            await proxy.add_toxic("corrupt_frame", stream=stream, attributes={"frame": 2, "offset": 1})
            async with websockets.connect(ws_url(proxy), compression=None) as ws:
                got = []
                for payload in (b"\x00\x01\x02\x03", b"\x10\x11\x12\x13", b"\x20\x21"):
                    await ws.send(payload)
                    async with asyncio.timeout(3):
                        got.append(bytes(await ws.recv()))
                return got

    assert run(scenario) == [b"\x00\x01\x02\x03", b"\x10\xee\x12\x13", b"\x20\x21"]


def test_corrupting_text_makes_the_server_close_1007() -> None:
    async def scenario() -> int | None:
        async with echo_server() as port, proxy_to(port) as proxy:
            await proxy.add_toxic("corrupt_frame", stream="upstream", attributes={"offset": 0})
            async with websockets.connect(ws_url(proxy), compression=None) as ws:
                await ws.send("hello")
                with pytest.raises(ConnectionClosed) as caught:
                    async with asyncio.timeout(3):
                        await ws.recv()
                return caught.value.rcvd.code if caught.value.rcvd else None

    assert run(scenario) == 1007  # invalid UTF-8 after the flip: the server noticed


# ------------------------------------------------------------------ frame parser


def _frames_stream(rng: random.Random, masked: bool) -> tuple[bytes, list[bytes]]:
    frames = []
    for _ in range(40):
        size = rng.choice([0, 1, 125, 126, 127, 1000, 65535, 65536, 70000])
        opcode = rng.choice([OP_TEXT, OP_BINARY, OP_PING])
        payload = bytes(rng.getrandbits(8) for _ in range(min(size, 125) if opcode == OP_PING else 0)) or b"p" * (
            min(size, 125) if opcode == OP_PING else size
        )
        mask = bytes(rng.getrandbits(8) for _ in range(4)) if masked else b""
        frames.append(encode_frame(opcode, payload, mask_key=mask))
    head = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" if masked else b"HTTP/1.1 101 Switching Protocols\r\n\r\n"
    return head + b"".join(frames), frames


@pytest.mark.parametrize("masked", [True, False])
def test_parser_reassembles_frames_across_any_split_and_switches_modes(masked: bool) -> None:
    rng = random.Random(5)
    stream, frames = _frames_stream(rng, masked)
    for trial in range(20):
        parser = FrameParser()
        out = bytearray()
        seen: list[bytes] = []
        pos = 0
        while pos < len(stream):
            step = rng.choice([1, 2, 3, 7, 100, 5000, 70000])
            assemble = trial % 2 == 0 or rng.random() < 0.5
            for piece in parser.feed(stream[pos : pos + step], assemble=assemble):
                if isinstance(piece, Frame):
                    seen.append(piece.to_bytes())
                    out += piece.to_bytes()
                else:
                    out += piece.data
            pos += step
        assert bytes(out) == stream, "pieces must add up to the input, byte for byte"
        assert all(f in frames for f in seen)
        if trial % 2 == 0:
            assert seen == frames, "always assembling must yield every frame once, in order"


def test_parser_turns_opaque_on_garbage_and_non_upgrade() -> None:
    for data in (b"\x16\x03\x01garbage-tls", b"HTTP/1.1 404 Not Found\r\n\r\n\x81\x05hello", b"\xff" * 70000):
        parser = FrameParser()
        pieces = parser.feed(data, assemble=True)
        assert b"".join(p.data for p in pieces if not isinstance(p, Frame)) == data
        assert parser.opaque or not any(isinstance(p, Frame) for p in pieces)


def test_parse_frames_finds_pings_and_close_codes() -> None:
    data = (encode_frame(OP_PING, b"1234") + encode_frame(OP_TEXT, b"x" * 300)
            + encode_frame(OP_CLOSE, (1011).to_bytes(2, "big") + b"keepalive ping timeout"))
    frames = parse_frames(data)
    assert [f.opcode for f in frames] == [OP_PING, OP_TEXT, OP_CLOSE]
    assert frames[2].close_code == 1011
    assert frames[2].close_reason == "keepalive ping timeout"
    assert frames[0].close_code is None and frames[0].close_reason == ""


def test_parse_frames_ignores_a_partial_frame_and_unmasks() -> None:
    whole = encode_frame(OP_TEXT, b"hello", mask_key=b"\x01\x02\x03\x04")
    assert parse_frames(whole)[0].unmasked_payload() == b"hello"
    assert parse_frames(whole[:-1]) == []
    assert parse_frames(whole[:1]) == []
    big = encode_frame(OP_TEXT, b"y" * 70000)
    assert parse_frames(big)[0].payload == b"y" * 70000
    assert parse_frames(big + big[:3])[0].payload == b"y" * 70000
    assert parse_frames(encode_frame(OP_CLOSE, b""))[0].close_code == 1005
    masked_close = encode_frame(OP_CLOSE, (1001).to_bytes(2, "big") + b"bye", mask_key=b"abcd")
    assert (parse_frames(masked_close)[0].close_code, parse_frames(masked_close)[0].close_reason) == (1001, "bye")


# ------------------------------------------------------------------ hygiene


def test_garbage_through_the_proxy_does_not_crash_it() -> None:
    async def scenario() -> None:
        async with echo_server() as port, proxy_to(port) as proxy:
            await proxy.add_toxic("drop_pongs", stream="upstream")
            await proxy.add_toxic("corrupt_frame", stream="downstream")
            rng = random.Random(9)
            for blob in (b"", b"\r\n\r\n", bytes(rng.getrandbits(8) for _ in range(5000)),
                         b"GET / HTTP/1.1\r\n\r\n" + b"\x8f\xff" + b"\xff" * 20):
                reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
                writer.write(blob)
                await writer.drain()
                writer.close()
                async with asyncio.timeout(3):
                    await reader.read()
            await proxy.remove_all_toxics()
            async with websockets.connect(ws_url(proxy)) as ws:
                await round_trip(ws)

    run(scenario)


def test_stop_closes_every_socket_and_task() -> None:
    async def scenario() -> None:
        async with echo_server() as port:
            baseline_fds = open_fds()
            baseline_tasks = len(asyncio.all_tasks())
            proxy = FaultProxy("leak", upstream=f"127.0.0.1:{port}", seed=1)
            await proxy.start()
            clients = [await websockets.connect(ws_url(proxy), ping_interval=None) for _ in range(10)]
            await proxy.add_toxic("latency", attributes={"latency": 10})
            await proxy.add_toxic("timeout", stream="upstream", name="hole", toxicity=0.5)
            await proxy.add_toxic("drop_pongs", stream="upstream")
            for ws in clients:
                await ws.send("in flight")
            await proxy.flap(down=5, up=5)  # cuts all ten
            await proxy.stop_flapping()
            await proxy.remove_toxic("hole")  # (a blackhole would swallow the next handshakes)
            clients += [await websockets.connect(ws_url(proxy), ping_interval=None) for _ in range(5)]
            await proxy.add_toxic("timeout", stream="upstream", name="hole", toxicity=0.5)
            for ws in clients[-5:]:
                await ws.send("in flight")
            assert proxy.connections == 5
            await proxy.stop()
            assert proxy.connections == 0 and not proxy.enabled
            for ws in clients:
                async with asyncio.timeout(3):
                    await ws.wait_closed()
            with pytest.raises(ConnectionRefusedError):
                await asyncio.open_connection("127.0.0.1", proxy.port)
            # The echo server needs a moment to notice its peers left; wait for it, bounded.
            async with asyncio.timeout(5):
                while open_fds() > baseline_fds or len(asyncio.all_tasks()) > baseline_tasks:
                    await asyncio.sleep(0.01)
            leftovers = [t for t in asyncio.all_tasks() if "faultproxy" in repr(t.get_coro())]
            assert leftovers == []

    run(scenario)
    assert os.path.exists("/proc/self/fd")
