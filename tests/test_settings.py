"""A bad WLBTRACK_* setting stops every `wlbtrack` command with one line naming it, exit status 2."""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from wlbtrack.config import Settings

WLBTRACK = str(Path(sys.executable).with_name("wlbtrack"))  # the installed console script
COMMANDS = [["serve", "--no-migrate"], ["db", "upgrade"], ["seed"], ["openapi"], ["token", "list"]]
SECRET = "s3cret-pw"

# (variable, bad value, words the message must contain); every variable of Settings appears at least once.
BAD_SETTINGS = [
    ("WLBTRACK_DATABASE_URL", "not a url", "not a database URL"),
    ("WLBTRACK_DATABASE_URL", f"postgresql://wlbtrack:{SECRET}@db:port/wlbtrack", "not a database URL"),
    ("WLBTRACK_DATABASE_URL", f"mysql://wlbtrack:{SECRET}@db/wlbtrack", "unsupported database 'mysql'"),
    ("WLBTRACK_DATABASE_URL", "sqlite:////no/such/folder/wlbtrack.db", "folder of the SQLite file"),
    ("WLBTRACK_HOST", "   ", "blank"),
    ("WLBTRACK_PORT", "eighty", "whole number from 0 to 65535"),
    ("WLBTRACK_PORT", "65536", "whole number from 0 to 65535"),
    ("WLBTRACK_WORKERS", "0", "at least 1"),
    ("WLBTRACK_SEED_PATH", "/no/such/catalogue.yaml", "cannot read /no/such/catalogue.yaml"),
    ("WLBTRACK_SEED_PATH", "/", "cannot read /"),
    ("WLBTRACK_MIGRATIONS_PATH", "/no/such/migrations", "no env.py"),
    ("WLBTRACK_DB_POOL_SIZE", "ten", "whole number of at least 1, got 'ten'"),
    ("WLBTRACK_DB_POOL_SIZE", "１０", "whole number"),  # full-width digits are not a number here
    ("WLBTRACK_DB_POOL_SIZE", "-3", "whole number"),
    ("WLBTRACK_DB_TIMEOUT", "0", "more than 0"),
    ("WLBTRACK_DB_TIMEOUT", "nan", "seconds"),
    ("WLBTRACK_DB_STATEMENT_TIMEOUT", "2s", "seconds"),
    ("WLBTRACK_DB_LOCK_WAIT", "0", "seconds"),
    ("WLBTRACK_TOKEN_CACHE_TTL", "-1", "0 or more"),
    ("WLBTRACK_CATALOGUE_TTL", "inf", "0 or more"),
    ("WLBTRACK_FIRST_FISCAL_YEAR", "1999", "from 2000 to 2100"),
    ("WLBTRACK_DEADLINE_DAYS", "-1", "whole number from 0 to 366"),
    ("WLBTRACK_REMINDER_DAYS", "400", "whole number from 0 to 366"),
    ("WLBTRACK_WEBHOOK_DELIVERY", "sometimes", "expected on or off"),
    ("WLBTRACK_WEBHOOK_POLL_SECONDS", "0", "more than 0"),
    ("WLBTRACK_WEBHOOK_ALLOW_LOOPBACK", "maybe", "expected on or off"),
    ("WLBTRACK_CORS_ORIGINS", "https://bi.example.jp/", "not an origin"),
    ("WLBTRACK_HSTS_SECONDS", "1e6", "whole number"),
    ("WLBTRACK_TRUSTED_PROXIES", "10.0.0.5, lb.example.jp", "'lb.example.jp' is not an IP address"),
    ("WLBTRACK_TRUSTED_PROXIES", "10.0.0.1/8", "is not an IP address or network"),
    ("WLBTRACK_RATE_LIMIT", "600/fortnight", "e.g. 600/minute"),
    ("WLBTRACK_RATE_LIMIT", "0/minute", "e.g. 600/minute"),
    ("WLBTRACK_REDIS_URL", f"http://:{SECRET}@redis:6379/0", "not a Redis URL"),
    ("WLBTRACK_SESSION_HOURS", "0", "whole number from 1 to 720"),
    ("WLBTRACK_SESSION_HOURS", "8h", "whole number from 1 to 720"),
    ("WLBTRACK_SESSION_SECRET", "two words", "without spaces"),
    ("WLBTRACK_METRICS", "disabled", "on or off"),
    ("WLBTRACK_METRICS_TOKEN", "two words", "without spaces"),
    ("WLBTRACK_LOG_LEVEL", "verbose", "DEBUG, INFO, WARNING, ERROR, CRITICAL"),
    ("WLBTRACK_SHUTDOWN_TIMEOUT", "30.5", "whole number"),
    ("WLBTRACK_DEBUG", "ture", "on or off"),
]


def run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    """The `wlbtrack` command as a user runs it, with these variables on top of the test environment."""
    return subprocess.run(
        [WLBTRACK, *args], capture_output=True, text=True, timeout=60, env={**os.environ, **env}, check=False
    )


def assert_one_line_naming(result: subprocess.CompletedProcess[str], variable: str, words: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"Error: {variable}: "), lines[0]
    assert words in lines[0]
    assert SECRET not in lines[0]  # URLs may carry passwords: never echoed
    assert result.stdout == ""


def test_every_setting_has_a_bad_value_tested() -> None:
    tested = {variable for variable, _, _ in BAD_SETTINGS}
    assert tested == {f"WLBTRACK_{field.name.upper()}" for field in dataclasses.fields(Settings)}


@pytest.mark.parametrize(("variable", "value", "words"), BAD_SETTINGS)
def test_a_bad_setting_is_one_line_and_exit_status_2(variable: str, value: str, words: str) -> None:
    command = COMMANDS[BAD_SETTINGS.index((variable, value, words)) % len(COMMANDS)]
    assert_one_line_naming(run(command, **{variable: value}), variable, words)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_checks_the_settings_first(command: list[str]) -> None:
    result = run(command, WLBTRACK_DB_POOL_SIZE="ten")
    assert_one_line_naming(result, "WLBTRACK_DB_POOL_SIZE", "got 'ten'")


def test_several_bad_settings_are_named_on_the_one_line() -> None:
    result = run(["openapi"], WLBTRACK_PORT="x", WLBTRACK_DEBUG="maybe")
    assert_one_line_naming(result, "WLBTRACK_PORT", "got 'x'")
    assert "; WLBTRACK_DEBUG: expected on or off" in result.stderr


def test_valid_spellings_and_empty_values_are_accepted(tmp_path: Path) -> None:
    result = run(
        ["openapi", "--output", str(tmp_path / "openapi.json")],
        WLBTRACK_METRICS="OFF",
        WLBTRACK_DEBUG="no",
        WLBTRACK_RATE_LIMIT="off",
        WLBTRACK_LOG_LEVEL="warning",
        WLBTRACK_DB_TIMEOUT="0.5",
        WLBTRACK_DB_POOL_SIZE=" 5 ",
        WLBTRACK_CORS_ORIGINS="https://bi.example.jp, http://127.0.0.1:3000",
        WLBTRACK_REDIS_URL="",  # empty counts as unset, as Compose's ${VAR:-} passes it
        WLBTRACK_HSTS_SECONDS="",
        WLBTRACK_TRUSTED_PROXIES="10.0.0.5, 192.168.0.0/16, ::1",
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "openapi.json").stat().st_size > 0


def test_a_database_that_cannot_be_reached_is_one_line_too(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://wlbtrack:{SECRET}@127.0.0.1:{port}/wlbtrack"
    for command in (["db", "upgrade"], ["seed"], ["token", "list"], ["serve"]):
        result = run(command, WLBTRACK_DATABASE_URL=url)
        assert result.returncode == 1, result.stderr
        assert result.stdout == ""  # nothing a script could take for output (token list's header)
        assert result.stderr.splitlines() == [
            f"Error: WLBTRACK_DATABASE_URL: cannot connect: ConnectionRefusedError: [Errno 111] Connect call "
            f"failed ('127.0.0.1', {port})"
        ]


def test_a_database_without_tables_says_to_migrate(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    for command in (["token", "create", "--role", "viewer"], ["token", "list"], ["token", "revoke", "1"]):
        result = run(command, WLBTRACK_DATABASE_URL=url)
        assert result.returncode == 1, result.stderr
        assert result.stdout == ""  # nothing a script could take for output (token list's header)
        assert result.stderr.splitlines() == [
            "Error: the database has no wlbtrack tables yet: run `wlbtrack db upgrade` and `wlbtrack seed`"
        ]
