"""Strict request-body decoding and the constrained field types every body uses."""

from __future__ import annotations

import re
from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Request

from wlbtrack.domain.periods import PERIOD_PATTERN
from wlbtrack.lib.errors import ProblemError

T = TypeVar("T")

NO_NUL = r"^[^\x00]*$"

PeriodCode = Annotated[str, msgspec.Meta(pattern=PERIOD_PATTERN, description="Fiscal quarter, e.g. 2026-Q1")]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=NO_NUL)]
Label = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NO_NUL)]
Summary = Annotated[str, msgspec.Meta(min_length=1, max_length=4000, pattern=NO_NUL)]
Note = Annotated[str, msgspec.Meta(max_length=1000, pattern=NO_NUL)]
FiniteFloat = Annotated[float, msgspec.Meta(ge=-1.7976931348623157e308, le=1.7976931348623157e308)]

_PATH_RE = re.compile(r"at `\$(?P<path>[^`]*)`")
_UNKNOWN_RE = re.compile(r"unknown field `(?P<name>[^`]*)`")


def _field_of(message: str) -> str:
    match = _PATH_RE.search(message)
    path = match.group("path").lstrip(".") if match else ""
    unknown = _UNKNOWN_RE.search(message)
    if unknown:
        path = f"{path}.{unknown.group('name')}" if path else unknown.group("name")
    return path or "body"


async def decode_strict(request: Request[Any, Any, Any], schema: type[T]) -> T:
    """Decode the raw JSON body into `schema` strictly: no type coercion, no unknown fields, no blank text."""
    try:
        data = msgspec.json.decode(await request.body(), type=schema, strict=True)
    except msgspec.ValidationError as exc:
        field = _field_of(str(exc))
        message = _PATH_RE.sub("", str(exc)).strip(" -")
        raise ProblemError(400, f"{field}: {message}", field=field) from exc
    except msgspec.DecodeError as exc:
        raise ProblemError(400, f"body: malformed JSON ({exc})", field="body") from exc
    _reject_blank(data, "")
    return data


def _reject_blank(value: Any, path: str) -> None:
    """Text fields must contain something other than white space."""
    if isinstance(value, str):
        if value and not value.strip():
            raise ProblemError(400, f"{path or 'body'}: must not be blank", field=path or "body")
    elif isinstance(value, msgspec.Struct):
        for name in value.__struct_fields__:
            _reject_blank(getattr(value, name), f"{path}.{name}" if path else name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _reject_blank(item, f"{path}[{index}]")
