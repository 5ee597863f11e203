"""The fault proxy's Toxiproxy HTTP API as a real process, and a tiny client for it.

:func:`api_running` starts ``python -m wsresilience.faultproxy --api-port 0`` (the way a QA
engineer or a CI job would), waits for its first line, yields the process and an :class:`Api`,
and kills the process on exit. :class:`Api` speaks plain ``urllib``, as any Toxiproxy client
would: nothing of the library is between the test and the HTTP API.
"""

from __future__ import annotations

import json
import select
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from support import REPO

#: The API must print its first line within this many seconds.
START_TIMEOUT = 10.0


class Api:
    """A tiny Toxiproxy client: JSON in, (status, JSON or text) out."""

    def __init__(self, url: str) -> None:
        self.url = url

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode()


@contextmanager
def api_running(*options: str) -> Iterator[tuple[subprocess.Popen[str], Api]]:
    """The API as a process on an OS-chosen port (``options`` added, e.g. ``--seed 1``)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "wsresilience.faultproxy", "--api-port", "0", *options],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT)
        assert ready, f"faultproxy printed nothing within {START_TIMEOUT} s"
        line = process.stdout.readline().strip()  # type: ignore[union-attr]
        assert line.startswith("faultproxy API listening on http://127.0.0.1:"), f"unexpected first line {line!r}"
        yield process, Api(line.rsplit(" ", 1)[1])
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
