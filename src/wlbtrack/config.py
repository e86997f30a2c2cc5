"""Settings, read once from the WLBTRACK_* environment variables and checked as they are read."""

from __future__ import annotations

import ipaddress
import math
import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

from redis.connection import parse_url as parse_redis_url
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from wlbtrack import resources
from wlbtrack.lib.ratelimit import RateLimit

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
_DIGITS = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_ORIGIN = re.compile(r"https?://[^/?#\s]+")
_TOKEN = re.compile(r"[\x21-\x7e]+")  # what an Authorization: Bearer header can carry
# The plan dates from January 2010; a first fiscal year outside these is a typo (201, 20100), not a choice.
FISCAL_YEARS = (2000, 2100)

Parser = Callable[[str], Any]


class SettingsError(ValueError):
    """WLBTRACK_* variables that cannot be used; the message names each and says what is wrong."""


def _whole(minimum: int, maximum: int | None = None) -> Parser:
    """A whole number of ASCII digits within the bounds."""
    bounds = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"

    def parse(raw: str) -> int:
        value = int(raw) if _DIGITS.fullmatch(raw.strip()) else None
        if value is None or value < minimum or (maximum is not None and value > maximum):
            raise ValueError(f"expected a whole number {bounds}, got {raw!r}")
        return value

    return parse


def _seconds(minimum_exclusive: bool) -> Parser:
    """A finite decimal number of seconds, above (or at least) zero."""

    def parse(raw: str) -> float:
        value = float(raw) if _DECIMAL.fullmatch(raw.strip()) else math.nan
        if math.isnan(value) or (minimum_exclusive and value == 0):
            wanted = "more than 0" if minimum_exclusive else "0 or more"
            raise ValueError(f"expected a number of seconds, {wanted} (e.g. 2 or 0.5), got {raw!r}")
        return value

    return parse


def _switch(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered not in _TRUE + _FALSE:
        raise ValueError(f"expected on or off (also 1/0, true/false, yes/no), got {raw!r}")
    return lowered in _TRUE


def _text(raw: str) -> str:
    if not raw.strip():
        raise ValueError("is blank")
    return raw.strip()


def _database_url(raw: str) -> str:
    """An SQLite or PostgreSQL URL; never echoed, since it may hold a password."""
    example = "e.g. sqlite:///wlbtrack.db or postgresql://user:password@host:5432/wlbtrack"
    try:
        url = make_url(raw.strip())
    except (ArgumentError, ValueError):
        raise ValueError(f"not a database URL ({example})") from None
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ValueError(f"unsupported database {backend!r}: use SQLite or PostgreSQL ({example})")
    if backend == "sqlite" and url.database and url.database != ":memory:":
        folder = Path(url.database).parent
        if not folder.is_dir():
            raise ValueError(f"the folder of the SQLite file does not exist: {folder}")
    return raw.strip()


def _redis_url(raw: str) -> str:
    """A redis://, rediss:// or unix:// URL, as redis-py parses it; never echoed."""
    try:
        parse_redis_url(raw.strip())  # type: ignore[no-untyped-call]
    except ValueError as exc:
        raise ValueError(f"not a Redis URL: {exc} (e.g. redis://redis:6379/0)") from None
    return raw.strip()


def _rate_limit(raw: str) -> str:
    try:
        RateLimit.parse(raw)
    except ValueError:
        raise ValueError(
            f"expected a number per second, minute, hour or day (e.g. 600/minute) or off, got {raw!r}"
        ) from None
    return raw.strip()


def _origins(raw: str) -> list[str]:
    origins = [item.strip() for item in raw.split(",") if item.strip()]
    for origin in origins:
        if origin != "*" and not _ORIGIN.fullmatch(origin):
            raise ValueError(f"{origin!r} is not an origin: expected scheme://host[:port], without a path")
    return origins


def _proxies(raw: str) -> list[str]:
    """IP addresses and networks (CIDR), comma-separated; `none` trusts no proxy at all."""
    if raw.strip().lower() == "none":
        return []
    proxies = [item.strip() for item in raw.split(",") if item.strip()]
    for proxy in proxies:
        try:
            ipaddress.ip_network(proxy)
        except ValueError:
            raise ValueError(
                f"{proxy!r} is not an IP address or network (e.g. 10.0.0.5 or 10.0.0.0/24), nor none"
            ) from None
    return proxies


def _log_level(raw: str) -> str:
    level = raw.strip().upper()
    if level not in LOG_LEVELS:
        raise ValueError(f"expected one of {', '.join(LOG_LEVELS)}, got {raw!r}")
    return level


def _token(raw: str) -> str:
    if not _TOKEN.fullmatch(raw):
        raise ValueError("expected printable ASCII without spaces (it is sent as a bearer token)")
    return raw


def _readable_file(raw: str) -> Path:
    path = Path(raw)
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not path.is_file():
        raise ValueError(f"not a file: {path}")
    return path


def _migrations_folder(raw: str) -> Path:
    path = Path(raw)
    if not (path / "env.py").is_file():
        raise ValueError(f"not a folder of Alembic scripts (no env.py in {path})")
    return path


@dataclass(frozen=True)
class Settings:
    """Runtime configuration; every field maps to a WLBTRACK_* environment variable."""

    database_url: str
    host: str
    port: int
    workers: int
    seed_path: Path
    migrations_path: Path
    db_pool_size: int
    db_timeout: float
    db_statement_timeout: float
    db_lock_wait: float
    token_cache_ttl: float
    catalogue_ttl: float
    first_fiscal_year: int
    deadline_days: int
    reminder_days: int
    webhook_delivery: bool
    webhook_poll_seconds: float
    webhook_allow_loopback: bool
    cors_origins: list[str]
    hsts_seconds: int
    trusted_proxies: list[str]
    rate_limit: str
    redis_url: str | None
    session_hours: int
    session_secret: str
    metrics: bool
    metrics_token: str | None
    log_level: str
    shutdown_timeout: int
    debug: bool

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """Read every variable (an empty one counts as unset); SettingsError names each that is wrong."""
        values: dict[str, Any] = {}
        problems: list[str] = []
        for setting in fields(cls):
            variable = f"WLBTRACK_{setting.name.upper()}"
            default, parse = _VARIABLES[setting.name]
            raw = environ.get(variable) or (default() if callable(default) else default)
            if raw is None:
                values[setting.name] = None
                continue
            try:
                values[setting.name] = parse(raw)
            except ValueError as exc:
                problems.append(f"{variable}: {exc}")
        if problems:
            raise SettingsError("; ".join(problems))
        return cls(**values)


# field → (default: a value to parse, a function giving one, or None for unset; the parser)
_VARIABLES: dict[str, tuple[str | Callable[[], str] | None, Parser]] = {
    "database_url": ("sqlite+aiosqlite:///wlbtrack.db", _database_url),
    "host": ("127.0.0.1", _text),
    "port": ("8000", _whole(0, 65535)),
    "workers": ("1", _whole(1)),
    "seed_path": (lambda: str(resources.seed_file()), _readable_file),
    "migrations_path": (lambda: str(resources.migrations_folder()), _migrations_folder),
    "db_pool_size": ("10", _whole(1)),
    "db_timeout": ("2", _seconds(minimum_exclusive=True)),
    "db_statement_timeout": ("2", _seconds(minimum_exclusive=True)),
    "db_lock_wait": ("30", _seconds(minimum_exclusive=True)),
    "token_cache_ttl": ("2", _seconds(minimum_exclusive=False)),
    "catalogue_ttl": ("2", _seconds(minimum_exclusive=False)),
    "first_fiscal_year": ("2010", _whole(*FISCAL_YEARS)),
    "deadline_days": ("15", _whole(0, 366)),
    "reminder_days": ("3", _whole(0, 366)),
    "webhook_delivery": ("on", _switch),
    "webhook_poll_seconds": ("1", _seconds(minimum_exclusive=True)),
    "webhook_allow_loopback": ("off", _switch),
    "cors_origins": ("", _origins),
    "hsts_seconds": ("0", _whole(0)),
    # whose X-Forwarded-Proto/-For `serve` believes (the scheme decides the dashboard's Secure cookies)
    "trusted_proxies": ("127.0.0.1,::1", _proxies),
    "rate_limit": ("600/minute", _rate_limit),
    "redis_url": (None, _redis_url),
    "session_hours": ("8", _whole(1, 720)),
    "session_secret": (lambda: secrets.token_hex(32), _token),  # CSRF signing; set it when workers > 1
    "metrics": ("on", _switch),
    "metrics_token": (None, _token),
    "log_level": ("INFO", _log_level),
    "shutdown_timeout": ("30", _whole(0)),
    "debug": ("off", _switch),
}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings for this process, read from the environment on first use (SettingsError if any is wrong)."""
    return Settings.from_env()
