"""A TCP forwarder that tests stop, black-hole and restart to simulate a database outage."""

from __future__ import annotations

import asyncio
import contextlib


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target; stop() refuses and cuts, blackhole() stalls, start() heals."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._forwarding = asyncio.Event()
        self._cut_marker: bytes | None = None

    async def start(self) -> None:
        """Listen (on the same port as before, if there was one) and forward traffic."""
        self._forwarding.set()
        if self._server is None:
            self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
            self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Refuse new connections and cut every open one, as a stopped database server does."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def cut_on(self, marker: bytes) -> None:
        """Cut every connection, unforwarded, when a client next sends `marker` (the port stays open)."""
        self._cut_marker = marker

    def _cut(self) -> None:
        self._cut_marker = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    def blackhole(self) -> None:
        """Keep connections open but forward nothing, as an unreachable network does."""
        self._forwarding.clear()

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        self._writers.add(client_writer)
        try:
            await self._forwarding.wait()
            upstream_reader, upstream_writer = await asyncio.open_connection(
                self.target_host, self.target_port
            )
        except (OSError, asyncio.CancelledError):
            client_writer.transport.abort()
            return
        self._writers.add(upstream_writer)
        for reader, writer, from_client in (
            (client_reader, upstream_writer, True),
            (upstream_reader, client_writer, False),
        ):
            task = asyncio.create_task(self._pipe(reader, writer, from_client))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, from_client: bool
    ) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await reader.read(65536):
                if from_client and self._cut_marker is not None and self._cut_marker in data:
                    self._cut()
                    return
                await self._forwarding.wait()
                writer.write(data)
                await writer.drain()
        writer.transport.abort()
        self._writers.discard(writer)
