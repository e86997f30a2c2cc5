"""The one clock every cache, rate limit and period rule reads; tests inject a clock they move by hand."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

TOKYO = ZoneInfo("Asia/Tokyo")


class Clock(Protocol):
    """Monotonic seconds for ages and timeouts, UTC time for windows, and today's date in Tokyo."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""
        ...

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    def today(self) -> date:
        """Today's date in Setagaya (Asia/Tokyo): the day that decides which quarter is current."""
        ...


class SystemClock:
    """The machine's clocks."""

    def monotonic(self) -> float:
        """time.monotonic()."""
        return time.monotonic()

    def now(self) -> datetime:
        """datetime.now(UTC)."""
        return datetime.now(UTC)

    def today(self) -> date:
        """Today in Asia/Tokyo."""
        return datetime.now(TOKYO).date()
