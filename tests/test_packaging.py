"""The wheel carries the Alembic scripts and the catalogue, and the installed package finds them.

(`.ci/wheel` installs the wheel into a fresh venv and runs the service from an empty folder.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


# Files of kinds other branches add inside the package (templates, styles, scripts, images, fonts, message
# catalogues), in folders that are not Python packages: the build must take them in without being told.
PROBES = [
    "wlbtrack/domain/dashboard/templates/dashboard.html.j2",
    "wlbtrack/domain/dashboard/templates/partials/table.html",
    "wlbtrack/domain/dashboard/static/dashboard.css",
    "wlbtrack/domain/dashboard/static/vendor/chart.umd.min.js",
    "wlbtrack/lib/static/icon.svg",
    "wlbtrack/lib/static/fonts/NotoSansJP.woff2",
    "wlbtrack/lib/locale/ja/LC_MESSAGES/messages.po",
    "wlbtrack/lib/locale/ja/LC_MESSAGES/messages.mo",
    "wlbtrack/domain/spreadsheets/template.xlsx",
]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel `pip wheel` builds from this checkout's build inputs, with PROBES added to the package."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", ".gitignore"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "src", source / "src")  # __pycache__ included: the build must leave it out
    shutil.copytree(ROOT / "migrations", source / "migrations")
    (source / "seed").mkdir()
    shutil.copy2(ROOT / "seed" / "catalogue.yaml", source / "seed" / "catalogue.yaml")
    for probe in PROBES:
        (source / "src" / probe).parent.mkdir(parents=True, exist_ok=True)
        (source / "src" / probe).write_bytes(f"probe {probe}".encode())
    folder = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(folder), source],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = folder.glob("wlbtrack-*.whl")
    return built


def test_every_file_inside_the_package_is_in_the_wheel(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for probe in PROBES:
            assert probe in names, probe
            assert archive.read(probe) == f"probe {probe}".encode()


def test_the_wheel_ships_the_migrations_and_the_catalogue_unchanged(wheel: Path) -> None:
    sources = [
        path
        for path in (ROOT / "migrations").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    ]
    sources.append(ROOT / "seed" / "catalogue.yaml")
    code = ROOT / "src" / "wlbtrack"
    package = [path for path in code.rglob("*") if path.is_file() and path.suffix != ".pyc"]
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for source in package:  # the code and its files (py.typed, the Swagger UI starter script)
            assert source.relative_to(ROOT / "src").as_posix() in names, source
        for source in sources:
            name = f"wlbtrack/_data/{source.relative_to(ROOT).as_posix()}"
            assert name in names, name
            assert archive.read(name) == source.read_bytes()
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]
    assert not [name for name in names if name.startswith(("tests/", "benchmarks/", "migrations/", "seed/"))]


def _run_installed(wheel: Path, tmp_path: Path, code: str) -> str:
    """What `code` prints, run from an empty folder against the wheel's files unpacked into tmp_path/site."""
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(tmp_path / "site")
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path / "site")},
    )
    return result.stdout


def test_the_installed_package_finds_its_own_copies(wheel: Path, tmp_path: Path) -> None:
    output = _run_installed(
        wheel,
        tmp_path,
        "from wlbtrack import resources as r; print(r.migrations_folder()); print(r.seed_file())",
    )
    migrations, seed = output.splitlines()
    assert migrations == str(tmp_path / "site" / "wlbtrack" / "_data" / "migrations")
    assert seed == str(tmp_path / "site" / "wlbtrack" / "_data" / "seed" / "catalogue.yaml")


def test_a_checkout_uses_its_own_folders() -> None:
    from wlbtrack import resources

    assert resources.migrations_folder() == ROOT / "migrations"
    assert resources.seed_file() == ROOT / "seed" / "catalogue.yaml"


def test_the_installed_package_speaks_japanese(wheel: Path, tmp_path: Path) -> None:
    """The message catalogue ships as its .po and is read from the installed package: no build step."""
    with zipfile.ZipFile(wheel) as archive:
        assert "wlbtrack/locale/ja/LC_MESSAGES/messages.po" in archive.namelist()
    output = _run_installed(
        wheel,
        tmp_path,
        "import wlbtrack.lib.i18n as i; print(i.Msg('unknown or revoked token').render('ja'))",
    )
    assert output.strip() == "不明なトークンか、失効したトークンです"
