"""Settings, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _env(name: str, default: str) -> str:
    return os.environ.get(f"WLBTRACK_{name}", default)


def _env_list(name: str) -> list[str]:
    return [item.strip() for item in _env(name, "").split(",") if item.strip()]


def _env_bool(name: str, default: bool) -> bool:
    return _env(name, "1" if default else "0").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """Runtime configuration; every field maps to a WLBTRACK_* environment variable."""

    database_url: str = field(default_factory=lambda: _env("DATABASE_URL", "sqlite+aiosqlite:///wlbtrack.db"))
    host: str = field(default_factory=lambda: _env("HOST", "127.0.0.1"))
    port: int = field(default_factory=lambda: int(_env("PORT", "8000")))
    workers: int = field(default_factory=lambda: int(_env("WORKERS", "1")))
    seed_path: Path = field(
        default_factory=lambda: Path(_env("SEED_PATH", str(PROJECT_ROOT / "seed" / "catalogue.yaml")))
    )
    migrations_path: Path = field(
        default_factory=lambda: Path(_env("MIGRATIONS_PATH", str(PROJECT_ROOT / "migrations")))
    )
    db_pool_size: int = field(default_factory=lambda: int(_env("DB_POOL_SIZE", "10")))
    db_timeout: float = field(default_factory=lambda: float(_env("DB_TIMEOUT", "2")))
    db_statement_timeout: float = field(default_factory=lambda: float(_env("DB_STATEMENT_TIMEOUT", "2")))
    token_cache_ttl: float = field(default_factory=lambda: float(_env("TOKEN_CACHE_TTL", "2")))
    catalogue_ttl: float = field(default_factory=lambda: float(_env("CATALOGUE_TTL", "2")))
    first_fiscal_year: int = field(default_factory=lambda: int(_env("FIRST_FISCAL_YEAR", "2010")))
    cors_origins: list[str] = field(default_factory=lambda: _env_list("CORS_ORIGINS"))
    hsts_seconds: int = field(default_factory=lambda: int(_env("HSTS_SECONDS", "0")))
    rate_limit: str = field(default_factory=lambda: _env("RATE_LIMIT", "600/minute"))
    redis_url: str | None = field(default_factory=lambda: _env("REDIS_URL", "") or None)
    metrics: bool = field(default_factory=lambda: _env_bool("METRICS", True))
    metrics_token: str | None = field(default_factory=lambda: _env("METRICS_TOKEN", "") or None)
    log_level: str = field(default_factory=lambda: _env("LOG_LEVEL", "INFO").upper())
    shutdown_timeout: int = field(default_factory=lambda: int(_env("SHUTDOWN_TIMEOUT", "30")))
    debug: bool = field(default_factory=lambda: _env_bool("DEBUG", False))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings for this process, read from the environment on first use."""
    return Settings()
