"""A minimal headless Chromium driver over the Chrome DevTools Protocol, using ``websockets``.

No Playwright or Selenium: Chromium is started with ``--remote-debugging-port=0``, the port it
chose is read from ``<user-data-dir>/DevToolsActivePort``, and commands go over one WebSocket
to the browser endpoint, addressed to a page target with a flat ``sessionId``.

Every wait is on a condition with a deadline: the port file appearing, a command's reply, the
page's ``load`` event, or a JavaScript predicate (evaluated *in the page* as a promise that
resolves when the predicate holds and rejects at its timeout).
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--remote-debugging-port=0",
)


class CDPError(RuntimeError):
    """A DevTools command failed, timed out, or the browser went away."""


class Page:
    """One browser tab driven through a flat CDP session."""

    def __init__(self, ws: ClientConnection, session_id: str, timeout: float) -> None:
        self._ws = ws
        self._session = session_id
        self._ids = itertools.count(1000)
        self._events: list[dict[str, Any]] = []
        self.timeout = timeout
        self.width = 1280

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Send a command to this page and wait for its reply (events seen meanwhile are kept)."""
        message_id = next(self._ids)
        self._ws.send(json.dumps({"id": message_id, "method": method, "params": params, "sessionId": self._session}))
        deadline = time.monotonic() + self.timeout
        while True:
            message = self._receive(deadline, f"reply to {method}")
            if message.get("id") == message_id:
                if "error" in message:
                    raise CDPError(f"{method} failed: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self._events.append(message)

    def wait_for_event(self, method: str) -> dict[str, Any]:
        """Wait for a page event (e.g. ``Page.loadEventFired``), including one already received."""
        for index, event in enumerate(self._events):
            if event["method"] == method:
                return self._events.pop(index)
        deadline = time.monotonic() + self.timeout
        while True:
            message = self._receive(deadline, f"event {method}")
            if message.get("method") == method:
                return message
            if "method" in message:
                self._events.append(message)

    def navigate(self, url: str) -> None:
        """Open ``url`` and wait for its ``load`` event."""
        self._events = [e for e in self._events if e["method"] != "Page.loadEventFired"]
        result = self.send("Page.navigate", url=url)
        if result.get("errorText"):
            raise CDPError(f"navigation to {url} failed: {result['errorText']}")
        self.wait_for_event("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        """Evaluate JavaScript in the page (promises awaited) and return its JSON value."""
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise CDPError(f"JavaScript failed: {details.get('exception', {}).get('description') or details}")
        return result["result"].get("value")

    def wait_until(self, predicate_js: str, what: str, timeout_s: float | None = None) -> Any:
        """Wait in the page until ``predicate_js`` is truthy (checked every animation frame)."""
        limit = int(1000 * (timeout_s or self.timeout * 0.8))
        script = f"""new Promise((resolve, reject) => {{
            const started = performance.now();
            const check = () => {{
                let value; try {{ value = ({predicate_js}); }} catch (e) {{ value = undefined; }}
                if (value) return resolve(typeof value === 'object' ? true : value);
                if (performance.now() - started > {limit}) return reject(new Error({json.dumps('timed out waiting for ' + what)}));
                requestAnimationFrame(check);
            }};
            check();
        }})"""
        return self.evaluate(script)

    def set_viewport(self, width: int, height: int = 900) -> None:
        """Emulate a window of ``width`` x ``height`` CSS pixels (a desktop browser by default)."""
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
        self.width = width

    def screenshot(self, path: Path, clip: dict[str, float] | None = None) -> Path:
        """Save a PNG of the whole page, or of ``clip`` (page coordinates, CSS pixels)."""
        metrics = self.send("Page.getLayoutMetrics")
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        area = clip or {"x": 0, "y": 0, "width": self.width, "height": min(size["height"], 16000)}
        shot = self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True, clip={**area, "scale": 1})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def _receive(self, deadline: float, what: str) -> dict[str, Any]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise CDPError(f"timed out after {self.timeout} s waiting for {what}")
        try:
            raw = self._ws.recv(timeout=remaining)
        except TimeoutError:
            raise CDPError(f"timed out after {self.timeout} s waiting for {what}") from None
        message = json.loads(raw)
        if message.get("sessionId") not in (None, self._session):
            return {}
        return message


def _wait_for_port_file(path: Path, process: subprocess.Popen[bytes], timeout: float) -> tuple[int, str]:
    """Wait for Chromium to write ``DevToolsActivePort`` (port, then browser endpoint path)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CDPError(f"chromium exited with code {process.returncode} before DevTools was ready")
        lines = path.read_text().splitlines() if path.exists() else []
        if len(lines) >= 2:
            return int(lines[0]), lines[1]
        time.sleep(0.05)  # polling a file: there is no event to wait on
    raise CDPError(f"chromium wrote no {path.name} within {timeout} s")


@contextmanager
def chromium(timeout: float = 20.0) -> Iterator[Page]:
    """Start headless Chromium, yield a :class:`Page`, and always stop the browser afterwards."""
    profile = Path(tempfile.mkdtemp(prefix="wsr-chromium-"))
    process = subprocess.Popen(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        port, endpoint = _wait_for_port_file(profile / "DevToolsActivePort", process, timeout)
        with connect(f"ws://127.0.0.1:{port}{endpoint}", max_size=None, open_timeout=timeout) as ws:
            ws.send(json.dumps({"id": 1, "method": "Target.createTarget", "params": {"url": "about:blank"}}))
            target = _reply(ws, 1, timeout)["targetId"]
            ws.send(json.dumps({"id": 2, "method": "Target.attachToTarget",
                                "params": {"targetId": target, "flatten": True}}))
            page = Page(ws, _reply(ws, 2, timeout)["sessionId"], timeout)
            page.send("Page.enable")
            page.send("Runtime.enable")
            page.set_viewport(1280)
            yield page
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        shutil.rmtree(profile, ignore_errors=True)


def _reply(ws: ClientConnection, message_id: int, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while (remaining := deadline - time.monotonic()) > 0:
        message = json.loads(ws.recv(timeout=remaining))
        if message.get("id") == message_id:
            if "error" in message:
                raise CDPError(str(message["error"]))
            return message["result"]
    raise CDPError(f"no reply to browser command {message_id} within {timeout} s")
