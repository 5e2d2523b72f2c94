"""Bytes on the wire, counted by Chromium itself (DevTools protocol): every response's encodedDataLength when it
finishes (body as sent plus headers), and which requests are still in flight, to wait for a quiet network."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class NetworkMeter:
    bytes: int = 0
    responses: int = 0
    images: int = 0  # finished responses of type Image
    failed: list[str] = field(default_factory=list)
    in_flight: dict[str, str] = field(default_factory=dict)  # request id -> URL
    _types: dict[str, str] = field(default_factory=dict)
    _last_activity: float = field(default_factory=time.monotonic)

    @classmethod
    def attach(cls, context, page) -> "NetworkMeter":
        """Start counting for ``page`` (before it navigates)."""
        meter = cls()
        cdp = context.new_cdp_session(page)
        cdp.on("Network.requestWillBeSent", meter._sent)
        cdp.on("Network.responseReceived", meter._received)
        cdp.on("Network.loadingFinished", meter._finished)
        cdp.on("Network.loadingFailed", meter._failed)
        cdp.send("Network.enable")
        return meter

    def _sent(self, e: dict) -> None:
        if not e["request"]["url"].startswith("data:"):
            self.in_flight[e["requestId"]] = e["request"]["url"]
            self._last_activity = time.monotonic()

    def _received(self, e: dict) -> None:
        self._types[e["requestId"]] = e.get("type", "")

    def _finished(self, e: dict) -> None:
        if self.in_flight.pop(e["requestId"], None) is None:
            return
        self.bytes += int(e.get("encodedDataLength", 0))
        self.responses += 1
        self.images += self._types.get(e["requestId"]) == "Image"
        self._last_activity = time.monotonic()

    def _failed(self, e: dict) -> None:
        url = self.in_flight.pop(e["requestId"], None)
        if url is not None and not e.get("canceled"):
            self.failed.append(f"{url}: {e.get('errorText', 'failed')}")
        self._last_activity = time.monotonic()

    def settle(self, page, quiet_ms: int = 500, timeout_ms: int = 30_000) -> bool:
        """Wait until nothing has been in flight for ``quiet_ms``; False when it never went quiet. Playwright
        delivers the protocol's events while it waits, so the counts are complete when this returns."""
        deadline = time.monotonic() + timeout_ms / 1000
        while time.monotonic() < deadline:
            page.wait_for_timeout(50)
            if not self.in_flight and time.monotonic() - self._last_activity >= quiet_ms / 1000:
                return True
        return False
