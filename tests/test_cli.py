"""The `wlbtrack` command line: seed idempotency and in-place updates, openapi output, bootstrap."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from wlbtrack.config import Settings

SEED_FILE = Path(__file__).parents[1] / "seed" / "catalogue.yaml"


def wlbtrack(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI as a user would, against the test database unless env says otherwise."""
    return subprocess.run(
        [sys.executable, "-m", "wlbtrack", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
        check=False,
    )


@pytest.fixture
def restore_seed(settings: Settings) -> Iterator[None]:
    """Put the original catalogue back after a test that loads an edited seed."""
    yield
    assert wlbtrack("seed").returncode == 0


def test_seed_twice_changes_nothing(settings: Settings) -> None:
    first = wlbtrack("seed")
    assert first.returncode == 0, first.stderr
    assert "catalogue unchanged" in first.stderr


@pytest.mark.usefixtures("restore_seed")
async def test_seed_after_edit_updates_in_place(viewer: httpx.AsyncClient, tmp_path: Path) -> None:
    before = (await viewer.get("/api/v1/guidelines/2.5.1")).json()
    edited = SEED_FILE.read_text(encoding="utf-8")
    edited = edited.replace(
        "農業と連携した地域活動の推進に取り組みます。", "農業と連携した地域活動の推進に取り組みます（改訂）。"
    )
    edited = edited.replace("- ふれあい農園", "- ふれあい農園\n                  - 新しい農園事業")
    edited_path = tmp_path / "catalogue.yaml"
    edited_path.write_text(edited, encoding="utf-8")

    result = wlbtrack("seed", WLBTRACK_SEED_PATH=str(edited_path))
    assert result.returncode == 0, result.stderr
    assert "updated" in result.stderr

    after = (await viewer.get("/api/v1/guidelines/2.5.1")).json()
    assert after["text"] == "農業と連携した地域活動の推進に取り組みます（改訂）。"
    assert after["initiative_groups"][0]["initiatives"][-1] == "新しい農園事業"
    assert after["departments"] == before["departments"]
    assert (await viewer.get("/api/v1/guidelines")).json()["total"] == 29
    again = wlbtrack("seed", WLBTRACK_SEED_PATH=str(edited_path))
    assert "catalogue unchanged" in again.stderr


def test_seed_rejects_an_invalid_file(tmp_path: Path) -> None:
    broken = tmp_path / "catalogue.yaml"
    broken.write_text("departments: []\ncampaigns:\n  - code: '1'\n    name: x\n", encoding="utf-8")
    result = wlbtrack("seed", WLBTRACK_SEED_PATH=str(broken))
    assert result.returncode != 0
    assert "tagline" in result.stderr or "required" in result.stderr


@pytest.mark.parametrize(
    ("original", "changed", "where"),
    [("code: children", "code: Children", "departments"), ('code: "1.1.4"', 'code: "1.1.4a"', "guidelines")],
)
def test_seed_rejects_a_code_of_another_form_than_the_document_states(
    tmp_path: Path, original: str, changed: str, where: str
) -> None:
    edited = tmp_path / "catalogue.yaml"
    edited.write_text(SEED_FILE.read_text(encoding="utf-8").replace(original, changed, 1), encoding="utf-8")
    result = wlbtrack("seed", WLBTRACK_SEED_PATH=str(edited))
    assert result.returncode != 0
    assert "regex" in result.stderr, result.stderr
    assert where in result.stderr, result.stderr


def test_openapi_command_writes_the_document(tmp_path: Path) -> None:
    output = tmp_path / "openapi.json"
    result = wlbtrack("openapi", "--output", str(output))
    assert result.returncode == 0, result.stderr
    document = json.loads(output.read_text(encoding="utf-8"))
    assert document["openapi"].startswith("3.")
    assert "/api/v1/guidelines" in document["paths"]


def test_db_upgrade_then_seed_bootstraps_an_empty_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    upgrade = wlbtrack("db", "upgrade", WLBTRACK_DATABASE_URL=url)
    assert upgrade.returncode == 0, upgrade.stderr
    seeded = wlbtrack("seed", WLBTRACK_DATABASE_URL=url)
    assert seeded.returncode == 0, seeded.stderr
    assert "created" in seeded.stderr
