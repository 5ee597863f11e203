"""Every toxic type has its measured effect on real traffic, however it was added.

A toxic that is accepted and then does nothing is a false PASS for every scenario that uses
it. Each case of :mod:`support.toxic_effects` is run with the toxic added in-process
(``FaultProxy.add_toxic``, as the library's in-process backend does) and through the HTTP API
of ``python -m wsresilience.faultproxy`` (as a Toxiproxy client does), on a connection opened
after the toxic and on one already open and carrying data (Toxiproxy applies a new toxic to
open connections too; so does ours). Each probe runs once more with nothing added, and must
then report the effect missing: a probe that cannot fail proves nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest

from wsresilience.faultproxy import Toxic
from wsresilience.faultproxy.toxics import STAGES

from support.fp_api import Api, api_running
from support.fp_helpers import echo_server, proxy_to, run
from support.toxic_effects import CASES, AddToxic, EffectCase

#: Every probe finishes well within this (the longest waits about 1.5 s).
SCENARIO_TIMEOUT = 30.0


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    with api_running() as (_process, client):
        yield client


async def tcp_echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Echo bytes; close when the client half-closes (so its FIN is answered by ours)."""
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


@asynccontextmanager
async def upstream(kind: str) -> AsyncIterator[int]:
    """The echo a case needs, on an OS-chosen port of 127.0.0.1."""
    if kind == "ws":
        async with echo_server() as port:
            yield port
        return
    server = await asyncio.start_server(tcp_echo, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1]


async def in_process(case: EffectCase, already_open: bool) -> str | None:
    async with upstream(case.upstream) as port, proxy_to(port) as proxy:
        async def add() -> None:
            await proxy.add_toxic(Toxic.from_json(case.spec))

        return await case.probe(proxy.port, add, already_open)


async def over_http(api: Api, case: EffectCase, already_open: bool) -> str | None:
    async with upstream(case.upstream) as port:
        status, proxy = await asyncio.to_thread(
            api.call, "POST", "/proxies", {"name": case.id, "upstream": f"127.0.0.1:{port}", "listen": "127.0.0.1:0"})
        assert status == 201, f"POST /proxies answered {status}: {proxy}"
        try:
            async def add() -> None:
                status, toxic = await asyncio.to_thread(api.call, "POST", f"/proxies/{case.id}/toxics", case.spec)
                assert status == 200, f"POST /proxies/{case.id}/toxics {case.spec} answered {status}: {toxic}"
                sent = case.spec.get("attributes", {})
                assert {k: toxic["attributes"][k] for k in sent} == sent, f"attributes sent {sent}, kept {toxic}"

            return await case.probe(int(proxy["listen"].rsplit(":", 1)[1]), add, already_open)
        finally:
            await asyncio.to_thread(api.call, "DELETE", f"/proxies/{case.id}")


@pytest.mark.parametrize("already_open", [False, True], ids=["new-connection", "open-connection"])
@pytest.mark.parametrize("path", ["in-process", "http"])
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_the_toxic_has_its_effect(case: EffectCase, path: str, already_open: bool, api: Api) -> None:
    async def scenario() -> str | None:
        if path == "http":
            return await over_http(api, case, already_open)
        return await in_process(case, already_open)

    missing = run(scenario, SCENARIO_TIMEOUT)
    added = "over HTTP" if path == "http" else "in-process"
    when = "to an open connection" if already_open else "before connecting"
    assert missing is None, f"{case.spec} added {added} {when}: {missing}"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_without_the_toxic_the_probe_reports_the_effect_missing(case: EffectCase) -> None:
    async def nothing() -> None:
        return None

    add: AddToxic = nothing

    async def scenario() -> str | None:
        async with upstream(case.upstream) as port, proxy_to(port) as proxy:
            return await case.probe(proxy.port, add, False)

    assert run(scenario, SCENARIO_TIMEOUT) is not None, f"the {case.id} probe passed with no toxic at all"


def test_every_toxic_type_has_an_effect_case() -> None:
    assert sorted(STAGES) == sorted({c.type for c in CASES})


# A definition with a misspelt or misplaced attribute used to be accepted with the attribute
# ignored, so the toxic ran on its defaults (a bandwidth of rate 0 is unlimited, a latency of
# 0 ms is none): accepted, and inert. It is refused now, saying what it expected.
MISSPELT = [
    pytest.param({"type": "bandwidth", "stream": "downstream", "attributes": {"Rate": 100}},
                 "unknown attribute 'Rate' of a bandwidth toxic: expected rate", id="capitalised"),
    pytest.param({"type": "bandwidth", "attributes": {"rate_kbps": 100}},
                 "unknown attribute 'rate_kbps' of a bandwidth toxic: expected rate", id="renamed"),
    pytest.param({"type": "bandwidth", "stream": "downstream", "rate": 100},
                 "unknown field 'rate' of a toxic: expected", id="outside-attributes"),
    pytest.param({"type": "latency", "attributes": {"delay": 300}},
                 "unknown attribute 'delay' of a latency toxic: expected latency, jitter", id="other-toxic's"),
    pytest.param({"type": "drop_pongs", "attributes": {"frame": 1}},
                 "unknown attribute 'frame' of a drop_pongs toxic: expected matcher", id="drop-pongs-matcher-only"),
]


@pytest.mark.parametrize(("spec", "message"), MISSPELT)
def test_a_misspelt_toxic_is_refused_in_process(spec: dict[str, object], message: str) -> None:
    from wsresilience.faultproxy import ToxicError

    with pytest.raises(ToxicError) as refused:
        Toxic.from_json(spec)
    assert message in str(refused.value)


@pytest.mark.parametrize(("spec", "message"), MISSPELT)
def test_a_misspelt_toxic_is_refused_over_http(spec: dict[str, object], message: str, api: Api) -> None:
    assert api.call("POST", "/proxies", {"name": "misspelt", "upstream": "127.0.0.1:9"})[0] == 201
    try:
        status, body = api.call("POST", "/proxies/misspelt/toxics", spec)
        assert (status, message in str(body)) == (400, True), f"{spec} answered {status}: {body}"
        assert api.call("GET", "/proxies/misspelt/toxics") == (200, [])
    finally:
        api.call("DELETE", "/proxies/misspelt")


def test_a_misspelt_update_is_refused_and_the_toxic_kept() -> None:
    async def scenario() -> None:
        from wsresilience.faultproxy import FaultProxy, ToxicError

        proxy = FaultProxy("p", upstream="127.0.0.1:9")
        await proxy.add_toxic("bandwidth", attributes={"rate": 100})
        with pytest.raises(ToxicError, match="unknown attribute 'Rate' of a bandwidth toxic: expected rate"):
            await proxy.update_toxic("bandwidth_downstream", attributes={"Rate": 5})
        assert proxy.get_toxic("bandwidth_downstream").attributes == {"rate": 100}

    run(scenario)


def test_a_misspelt_update_over_http_is_refused_and_a_full_toxic_object_accepted(api: Api) -> None:
    assert api.call("POST", "/proxies", {"name": "update", "upstream": "127.0.0.1:9"})[0] == 201
    try:
        status, toxic = api.call("POST", "/proxies/update/toxics", {"type": "bandwidth", "attributes": {"rate": 100}})
        assert status == 200
        for change, message in (({"rate": 5}, "unknown field 'rate' of a toxic update"),
                                ({"attributes": {"Rate": 5}}, "unknown attribute 'Rate' of a bandwidth toxic")):
            status, body = api.call("PATCH", "/proxies/update/toxics/bandwidth_downstream", change)
            assert (status, message in str(body)) == (400, True), f"{change} answered {status}: {body}"
        # What GET answers may be sent back as an update, as Toxiproxy clients do.
        status, body = api.call("PATCH", "/proxies/update/toxics/bandwidth_downstream",
                                {**toxic, "attributes": {"rate": 50}})
        assert (status, body["attributes"]) == (200, {"rate": 50})
    finally:
        api.call("DELETE", "/proxies/update")
