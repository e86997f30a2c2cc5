"""Where the Alembic scripts and the seed catalogue are, installed from a wheel or run from a checkout."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]


def data_folder(name: str) -> Path:
    """`migrations` or `seed`: the wheel's copy inside the package, else the checkout's top-level folder.

    The wheel ships both as `wlbtrack/_data/<name>` (pyproject.toml, force-include). An editable install
    imports the package from `src/`, which has no `_data`, so the checkout's own folders are used and edits
    to them take effect without reinstalling.
    """
    packaged = files("wlbtrack") / "_data" / name
    if packaged.is_dir():
        return Path(str(packaged))
    return CHECKOUT / name


def migrations_folder() -> Path:
    """The Alembic scripts (env.py and versions/)."""
    return data_folder("migrations")


def seed_file() -> Path:
    """The catalogue loaded by `wlbtrack seed` and the first start."""
    return data_folder("seed") / "catalogue.yaml"
