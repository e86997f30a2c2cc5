"""Strict request-body decoding and the constrained field types every body uses."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Request
from litestar.exceptions.http_exceptions import RequestEntityTooLarge

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


_NON_FINITE = object()


def _non_finite_path(value: Any, path: str) -> str | None:
    """Where a NaN or Infinity sits in a document parsed with non-finite constants marked."""
    if value is _NON_FINITE:
        return path or "body"
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found = _non_finite_path(
            item, f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}".lstrip(".")
        )
        if found is not None:
            return found
    return None


def _non_finite_field(raw: bytes) -> str | None:
    """The field holding NaN/Infinity in an otherwise well-formed JSON body, if that is what is wrong."""
    try:
        document = json.loads(raw, parse_constant=lambda _: _NON_FINITE)
    except ValueError:
        return None
    return _non_finite_path(document, "")


async def decode_strict(request: Request[Any, Any, Any], schema: type[T]) -> T:
    """Decode the raw JSON body into `schema` strictly: no type coercion, no unknown fields, no blank text.

    413 over the size limit; otherwise 400 naming the field (including where a NaN or Infinity sits).
    """
    try:
        raw = await request.body()
    except RequestEntityTooLarge as exc:
        raise ProblemError(413, "body: larger than the 1 MB limit", field="body") from exc
    try:
        data = msgspec.json.decode(raw, type=schema, strict=True)
    except msgspec.ValidationError as exc:
        field = _field_of(str(exc))
        message = _PATH_RE.sub("", str(exc)).strip(" -")
        raise ProblemError(400, f"{field}: {message}", field=field) from exc
    except msgspec.DecodeError as exc:
        non_finite = _non_finite_field(raw)
        if non_finite is not None:
            message = f"{non_finite}: NaN and Infinity are not numbers; send a finite number"
            raise ProblemError(400, message, field=non_finite) from exc
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
