"""Open-loop constant-rate HTTP/1.1 load driver (wrk2-style latency, which wrk itself lacks).

Request i is due at start + i / rate and is released into a queue as soon as the driver's timer
fires; released requests wait for one of `--connections` keep-alive connections. Latency is measured
from the release, not from the send, so a stalled server is charged for the requests it kept waiting
for a connection (no coordinated omission), while the driver's own timer lateness (release − due,
reported as timer_lag) is not charged to the server. Prints one JSON line.

    python benchmarks/constant_rate.py --url http://127.0.0.1:8000/api/v1/progress --rate 100 \
        --duration 10 --token "$TOKEN"
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import time
from typing import Any
from urllib.parse import urlsplit


def percentile(sorted_values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


async def read_response(reader: asyncio.StreamReader) -> int:
    """Read one HTTP/1.1 response (Content-Length or chunked); return its status code."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed by server")
    status = int(status_line.split()[1])
    length = 0
    chunked = False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if not chunked:
        await reader.readexactly(length)
        return status
    while True:
        size = int((await reader.readline()).split(b";")[0], 16)
        await reader.readexactly(size + 2)
        if size == 0:
            return status


async def drive(
    url: str, token: str | None, rate: float, duration: float, connections: int
) -> dict[str, Any]:
    """Send `rate` requests per second for `duration` seconds; return latency statistics in ms."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAccept: application/json\r\n"
    if token:
        headers += f"Authorization: Bearer {token}\r\n"
    raw = (headers + "\r\n").encode()
    queue: asyncio.Queue[tuple[float, float] | None] = asyncio.Queue()
    latencies: list[float] = []
    dues: list[float] = []
    lags: list[float] = []
    errors = 0

    async def connection_loop() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        try:
            while (item := await queue.get()) is not None:
                due, released = item
                lags.append(released - due)
                writer.write(raw)
                status = await read_response(reader)
                latencies.append(time.perf_counter() - released)
                dues.append(due)
                if status >= 400:
                    errors += 1
        finally:
            writer.close()

    workers = [asyncio.create_task(connection_loop()) for _ in range(connections)]
    await asyncio.sleep(0.2)  # let the connections open before the clock starts
    cpu_start = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    total = int(rate * duration)
    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait((due, time.perf_counter()))
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    elapsed = time.perf_counter() - start
    cpu_end = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_end.ru_utime - cpu_start.ru_utime) + (cpu_end.ru_stime - cpu_start.ru_stime)
    ordered = sorted(latencies)
    slow = 5 * percentile(ordered, 0.50)
    slow_per_second = [0] * (int(duration) + 1)
    for due, latency in zip(dues, latencies, strict=True):
        if latency > slow:
            slow_per_second[min(int(due - start), int(duration))] += 1
    return {
        "target_rate": rate,
        "requests": len(latencies),
        "achieved_rate": len(latencies) / elapsed,
        "errors": errors,
        "p50_ms": percentile(ordered, 0.50) * 1000,
        "p90_ms": percentile(ordered, 0.90) * 1000,
        "p99_ms": percentile(ordered, 0.99) * 1000,
        "max_ms": (ordered[-1] if ordered else float("nan")) * 1000,
        "driver_cpu_percent": 100 * cpu / elapsed,
        "slow_per_second": slow_per_second,
        "timer_lag_p50_ms": percentile(sorted(lags), 0.50) * 1000,
        "timer_lag_p99_ms": percentile(sorted(lags), 0.99) * 1000,
    }


def main() -> None:
    """Parse arguments, drive the load, print the JSON result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", default=None)
    parser.add_argument("--rate", type=float, required=True, help="requests per second")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds")
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    coroutine = drive(args.url, args.token, args.rate, args.duration, args.connections)
    try:
        import uvloop

        result = uvloop.run(coroutine)
    except ImportError:
        result = asyncio.run(coroutine)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
