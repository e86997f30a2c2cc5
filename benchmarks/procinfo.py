"""Process facts from /proc: CPU time, resident memory, children, and an RSS sampler thread."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def run_delay_seconds(pid: int) -> float:
    """Seconds the process's main thread has spent runnable but waiting for a CPU (/proc/<pid>/schedstat)."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9


def postgres_cpu_snapshot() -> dict[int, float]:
    """CPU seconds used so far by each running process named `postgres` (the server and its backends)."""
    snapshot = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if stat.split("(", 1)[1].startswith("postgres)"):
            fields = stat.rsplit(")", 1)[1].split()
            snapshot[int(entry.name)] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return snapshot


def postgres_cpu_since(before: dict[int, float]) -> float:
    """CPU seconds PostgreSQL used since `before` (backends that exited meanwhile are not counted)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in postgres_cpu_snapshot().items())


def rss_mb(pid: int) -> float:
    """A process's resident set size in MB (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def children(pid: int) -> list[int]:
    """Direct child processes of `pid`."""
    result = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                result.append(int(entry.name))
    return result


def command_line(pid: int) -> str:
    """A process's command line, space-separated."""
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()


def worker_pid(pid: int) -> int:
    """The process serving requests: `pid` itself, or its Python child when uvicorn runs a supervisor."""
    pythons = [
        child
        for child in children(pid)
        if "python" in command_line(child) or "wlbtrack" in command_line(child)
    ]
    return pythons[0] if len(pythons) == 1 else pid


class RssSampler:
    """Samples a process's VmRSS every `interval` seconds in a background thread."""

    def __init__(self, pid: int, interval: float = 0.01) -> None:
        self.pid = pid
        self.interval = interval
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(rss_mb(self.pid))
            time.sleep(self.interval)

    def __enter__(self) -> RssSampler:
        self.samples.append(rss_mb(self.pid))
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append(rss_mb(self.pid))

    @property
    def baseline(self) -> float:
        """RSS when sampling started."""
        return self.samples[0]

    @property
    def peak(self) -> float:
        """Highest RSS sampled."""
        return max(self.samples)
