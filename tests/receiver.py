"""A real HTTP receiver of webhooks for the tests: an asyncio server that verifies every delivery's
signature with the standardwebhooks library and answers with the status the test sets."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from standardwebhooks import Webhook


@dataclass
class Received:
    """One request the receiver got: its headers, body, and whether the signature verified."""

    headers: dict[str, str]
    body: bytes
    verified: Any  # the parsed payload, or None when verification failed
    answered: int


@dataclass
class Receiver:
    """Listens on 127.0.0.1:`port`; `status` is what it answers (set `secret` to verify signatures)."""

    port: int
    secret: str | None = None
    status: int = 200
    received: list[Received] = field(default_factory=list)
    _server: asyncio.Server | None = None

    async def start(self) -> Receiver:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def delivered(self) -> list[Received]:
        """The requests answered 2xx with a valid signature."""
        return [r for r in self.received if 200 <= r.answered < 300 and r.verified is not None]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            verified = None
            if self.secret is not None:
                try:
                    verified = Webhook(self.secret).verify(body, headers)
                except Exception:
                    verified = None
            status = self.status
            self.received.append(Received(headers, body, verified, status))
            writer.write(f"HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".encode())
            await writer.drain()
        finally:
            writer.close()


async def eventually(condition: Callable[[], Any], what: str, seconds: float = 20) -> Any:
    """Wait until `condition()` is truthy (checking every 50 ms), failing after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def payloads(receiver: Receiver) -> list[dict[str, Any]]:
    """The verified payloads delivered, in arrival order."""
    return [json.loads(r.body) for r in receiver.delivered()]
