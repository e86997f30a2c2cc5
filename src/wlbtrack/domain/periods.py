"""Japanese fiscal-year quarters: `2026-Q1` is April–June 2026 (令和8年度 第1四半期)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

PERIOD_PATTERN = r"^[0-9]{4}-Q[1-4]$"
_PERIOD_RE = re.compile(PERIOD_PATTERN)
MIN_FISCAL_YEAR = 2000
MAX_FISCAL_YEAR = 2100


class PeriodError(ValueError):
    """Not a valid period code."""


@dataclass(frozen=True, order=True)
class Period:
    """One fiscal quarter."""

    fiscal_year: int
    quarter: int

    @classmethod
    def parse(cls, code: str) -> Period:
        """Parse `YYYY-QN`; raises PeriodError for anything else."""
        if not _PERIOD_RE.fullmatch(code):
            raise PeriodError(f"{code!r} is not a period code like 2026-Q1")
        fiscal_year, quarter = int(code[:4]), int(code[6])
        if not MIN_FISCAL_YEAR <= fiscal_year <= MAX_FISCAL_YEAR:
            raise PeriodError(f"fiscal year {fiscal_year} is outside {MIN_FISCAL_YEAR}–{MAX_FISCAL_YEAR}")
        return cls(fiscal_year, quarter)

    @classmethod
    def containing(cls, day: date) -> Period:
        """The quarter a calendar day falls in."""
        fiscal_year = day.year if day.month >= 4 else day.year - 1
        return cls(fiscal_year, (day.month - 4) % 12 // 3 + 1)

    @property
    def code(self) -> str:
        return f"{self.fiscal_year}-Q{self.quarter}"

    @property
    def start(self) -> date:
        month = 4 + 3 * (self.quarter - 1)
        return date(self.fiscal_year + (month > 12), (month - 1) % 12 + 1, 1)

    @property
    def end(self) -> date:
        return self.next().start - timedelta(days=1)

    @property
    def label_ja(self) -> str:
        return f"{self.fiscal_year}年度 第{self.quarter}四半期"

    def has_started(self, today: date) -> bool:
        return self.start <= today

    def next(self) -> Period:
        if self.quarter == 4:
            return Period(self.fiscal_year + 1, 1)
        return Period(self.fiscal_year, self.quarter + 1)

    def previous(self) -> Period:
        if self.quarter == 1:
            return Period(self.fiscal_year - 1, 4)
        return Period(self.fiscal_year, self.quarter - 1)


def periods_between(first: Period, last: Period) -> list[Period]:
    """Every quarter from first to last, inclusive, oldest first."""
    periods: list[Period] = []
    current = first
    while current <= last:
        periods.append(current)
        current = current.next()
    return periods
