"""Strict integers from request input: ASCII digits only, within PostgreSQL's BIGINT."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated

from litestar.params import PathParameter
from litestar.routes import base as _routes

from wlbtrack.lib.errors import ProblemError
from wlbtrack.lib.i18n import Msg
from wlbtrack.lib.validation import MAX_ROW_ID

BIGINT_MAX = 2**63 - 1
_CANONICAL = re.compile(r"(?:0|[1-9][0-9]{0,18})", re.ASCII)
_DIGITS = re.compile(r"[0-9]{1,19}", re.ASCII)

# A row id in the path (`{indicator_id:int}`): the document states the range ids take; any other integer,
# like anything not a canonical integer, is simply not found (404), which is why Litestar does not check it.
RowId = Annotated[int, PathParameter(schema_extra={"minimum": 1, "maximum": MAX_ROW_ID})]


def strict_int(raw: str) -> int:
    """The integer a path segment spells canonically (ASCII digits, no leading zero), else ValueError."""
    if not _CANONICAL.fullmatch(raw):
        raise ValueError(f"not a canonical integer: {raw!r}")
    value = int(raw)
    if value > BIGINT_MAX:
        raise ValueError(f"out of range: {raw!r}")
    return value


def install_strict_path_integers() -> None:
    """Make every `{name:int}` path parameter parse with strict_int; Litestar answers its ValueError with 404.

    Litestar binds the parser when a route is registered, so this runs before the application is built.
    Python's int() alone accepts " 1", "+1", "1_0" and non-ASCII digits such as "１".
    """
    _routes.parsers_map[int] = strict_int


def require_ascii_digits(query: Mapping[str, str], *names: str) -> None:
    """400 naming the first integer query parameter not in ASCII digits (msgspec also reads "10.0")."""
    for name in names:
        raw = query.get(name)
        if raw is not None and not _DIGITS.fullmatch(raw):
            raise ProblemError(400, Msg("must be an integer written in ASCII digits"), field=name)
