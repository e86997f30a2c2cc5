"""Strict request bodies: the DTO that decodes a handler's `data`, and the constrained field types.

`StrictBody[X]` makes Litestar decode the raw JSON body once, strictly, into `X`: no type coercion
(`"5"` is not a number), no unknown fields, no blank text; errors are 400 problem documents naming the
field, including where a NaN or Infinity sits. Bodies over the size limit are a 413 (lib.errors).
A `Batch` body (one with lists of items) is checked item by item instead: every invalid item is named,
and the valid ones reach the handler with their original positions (see `Batch`).
`check_field` holds one value to the same rules, for inputs that arrive one field at a time.
"""

from __future__ import annotations

import collections.abc
import enum
import functools
import json
import re
import types
from collections.abc import Collection, Generator
from typing import Annotated, Any, ClassVar, Literal, TypeVar, Union, get_args, get_origin
from urllib.parse import unquote_to_bytes

import msgspec
from litestar import Request
from litestar.dto import AbstractDTO, DTOFieldDefinition
from litestar.openapi.spec import Reference, Schema
from litestar.typing import FieldDefinition

from wlbtrack.lib.errors import ProblemError, decode_message, field_messages
from wlbtrack.lib.i18n import Msg
from wlbtrack.lib.text import MULTI_LINE, SINGLE_LINE, invalid_utf8, is_blank

T = TypeVar("T")

MAX_ROW_ID = 2**31 - 1  # the largest id an integer column holds on both databases

Code = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=SINGLE_LINE)]
Label = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=SINGLE_LINE)]
Summary = Annotated[str, msgspec.Meta(min_length=1, max_length=4000, pattern=MULTI_LINE)]
Note = Annotated[str, msgspec.Meta(max_length=1000, pattern=MULTI_LINE)]
FiniteFloat = Annotated[float, msgspec.Meta(ge=-1.7976931348623157e308, le=1.7976931348623157e308)]

_PATH_RE = re.compile(r"at `\$(?P<path>[^`]*)`")
_UNKNOWN_RE = re.compile(r"(?:unknown|missing required) field `(?P<name>[^`]*)`")
_PATH_PART = re.compile(r"\[\d+\]|[^.\[\]]+")
_NON_FINITE = object()


def _explain(schema: Any, path: str, message: str, blank: bool = False) -> Msg:
    """msgspec's message as a Msg, an enum error listing the allowed values; `blank` text (which the text
    patterns refuse) is told as such."""
    if blank:
        return Msg("must not be blank")
    return decode_message(message, allowed_values(schema, path))


def _blank_at(document: Any, path: str) -> bool:
    """Whether the value at `path` (like `reports[1].summary`) of a parsed JSON document is blank text."""
    for part in _PATH_PART.findall(path):
        if part.startswith("[") and isinstance(document, list) and int(part[1:-1]) < len(document):
            document = document[int(part[1:-1])]
        elif isinstance(document, dict) and part in document:
            document = document[part]
        else:
            return False
    return isinstance(document, str) and document != "" and is_blank(document)


_JSON_TYPES = {dict: "object", list: "array", str: "str", int: "int", float: "float", bool: "bool"}


def _expected_object(value: Any) -> Msg:
    return Msg(
        "Expected `{expected}`, got `{got}`", expected="object", got=_JSON_TYPES.get(type(value), "null")
    )


def _field_of(message: str) -> str:
    match = _PATH_RE.search(message)
    path = match.group("path").lstrip(".") if match else ""
    unknown = _UNKNOWN_RE.search(message)
    if unknown:
        path = f"{path}.{unknown.group('name')}" if path else unknown.group("name")
    return path or "body"


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


def _parse(raw: bytes) -> Any:
    """The JSON document in `raw` (valid UTF-8), untyped, NaN and Infinity marked; 400 naming `body` if it is
    not well-formed JSON, nests too deeply to read, or escapes a lone surrogate (not a character).

    The typed decoder can stop at the first wrong type before it reaches a syntax error further on
    (`5o`, `{"role": 5, x`), so nothing may assume a body it refused is well-formed.
    """
    try:
        document = json.loads(raw.decode("utf-8"), parse_constant=lambda _: _NON_FINITE)
    except RecursionError as exc:
        raise ProblemError(400, Msg("malformed JSON (nested too deeply)"), field="body") from exc
    except ValueError as exc:
        raise ProblemError(400, Msg("malformed JSON ({reason})", reason=str(exc)), field="body") from exc
    if _has_lone_surrogate(document):
        raise ProblemError(400, Msg("malformed JSON ({reason})", reason="a lone surrogate"), field="body")
    return document


def _has_lone_surrogate(value: Any) -> bool:
    """Whether a text or key of the parsed document holds a lone surrogate, which UTF-8 cannot carry."""
    if isinstance(value, str):
        return not value.isascii() and any("\ud800" <= char <= "\udfff" for char in value)
    if isinstance(value, dict):
        return any(_has_lone_surrogate(key) or _has_lone_surrogate(item) for key, item in value.items())
    return isinstance(value, list) and any(_has_lone_surrogate(item) for item in value)


def _refuse_non_finite(document: Any) -> None:
    """400 naming the field holding a NaN or Infinity, if the parsed `document` has one."""
    non_finite = _non_finite_path(document, "")
    if non_finite is not None:
        message = Msg("NaN and Infinity are not numbers; send a finite number")
        raise ProblemError(400, message, field=non_finite)


def _unwrap(annotation: Any) -> Any:
    """The type under `Annotated[...]` and an `| None`."""
    while True:
        if get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
        elif get_origin(annotation) in (Union, types.UnionType):
            options = [option for option in get_args(annotation) if option is not type(None)]
            if len(options) != 1:
                return annotation
            annotation = options[0]
        else:
            return annotation


def allowed_values(schema: Any, path: str) -> list[str] | None:
    """The values an enumeration at `path` (like `reports[1].status`) of `schema` allows, in their order."""
    annotation = _unwrap(schema)
    for part in _PATH_PART.findall(path):
        if part.startswith("["):
            if get_origin(annotation) not in (list, tuple, collections.abc.Sequence):
                return None
            annotation = _unwrap(get_args(annotation)[0])
        elif isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
            fields = msgspec.structs.fields(annotation)
            field = next((f for f in fields if f.encode_name == part), None)
            if field is None:
                return None
            annotation = _unwrap(field.type)
        else:
            return None
    if get_origin(annotation) is Literal:
        return [str(value) for value in get_args(annotation)]
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return [str(member.value) for member in annotation]
    return None


def _reject_blank(value: Any, path: str) -> None:
    """Text fields must show something: not only white space, format or control characters (lib.text)."""
    if isinstance(value, str):
        if value and is_blank(value):
            raise ProblemError(400, Msg("must not be blank"), field=path or "body")
    elif isinstance(value, msgspec.Struct):
        for name in value.__struct_fields__:
            _reject_blank(getattr(value, name), f"{path}.{name}" if path else name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _reject_blank(item, f"{path}[{index}]")


def decode_strict(raw: bytes, schema: type[T]) -> T:
    """Decode a JSON document into `schema` strictly: no type coercion, no unknown fields, no blank text.

    400 naming the field (including where a NaN or Infinity sits) for anything else.
    """
    not_utf8 = invalid_utf8(raw)
    if not_utf8 is not None:
        raise ProblemError(400, not_utf8, field="body")
    try:
        data = msgspec.json.decode(raw, type=schema, strict=True)
    except msgspec.DecodeError as exc:
        document = _parse(raw)
        _refuse_non_finite(document)
        if not isinstance(exc, msgspec.ValidationError):  # json reads it, msgspec does not (a lone surrogate)
            raise ProblemError(400, Msg("malformed JSON ({reason})", reason=str(exc)), field="body") from exc
        if isinstance(schema, type) and issubclass(schema, Batch):
            batch: T = _decode_batch(document, schema)
            return batch
        field = _field_of(str(exc))
        message = _explain(schema, field, _PATH_RE.sub("", str(exc)).strip(" -"), _blank_at(document, field))
        raise ProblemError(400, message, field=field) from exc
    try:
        _reject_blank(data, "")
    except ProblemError:
        if isinstance(data, Batch):
            decoded: T = _decode_batch(_parse(raw), schema)
            return decoded
        raise
    return data


class Batch(msgspec.Struct, dict=True):
    """A body carrying lists of items, decoded by `StrictBody` item by item.

    A JSON object of the right overall shape (an object whose list fields are lists) is not refused at
    the first bad item: the handler gets the valid items, `decoding_errors` lists every invalid one by
    its path (`reports[1].status`), and `position` gives a kept item's index in the request. A body that
    is not a JSON object is a 400; a bad field outside the lists is a 422 listing every bad field.
    """

    openapi_not: ClassVar[dict[str, Any]] = {}
    """A schema the body must not match besides its fields' schemas (Schema keyword arguments)."""

    def decoding_errors(self) -> list[dict[str, Any]]:
        """Each invalid field or item found while decoding, as `{"field", "message"}`."""
        errors: list[dict[str, Any]] = self.__dict__.get("_errors", [])
        return errors

    def position(self, field: str, index: int) -> int:
        """The index in the request of the `index`-th kept item of the list `field`."""
        positions: dict[str, list[int]] = self.__dict__.get("_positions", {})
        return positions[field][index] if field in positions else index


def _check_value(schema: Any, annotation: Any, value: Any, path: str, errors: list[dict[str, Any]]) -> Any:
    """`value` converted to `annotation` strictly, or None with its problem added to `errors`."""
    try:
        result = msgspec.convert(value, type=annotation, strict=True)
        _reject_blank(result, path)
    except msgspec.ValidationError as exc:
        inner = _field_of(str(exc))
        field = path if inner == "body" else f"{path}{'' if inner.startswith('[') else '.'}{inner}"
        blank = _blank_at(value, "" if inner == "body" else inner)
        message = _explain(schema, field, _PATH_RE.sub("", str(exc)).strip(" -"), blank)
        errors.append({"field": field, "message": message})
        return None
    except ProblemError as exc:
        field = exc.extra.get("field", path) if isinstance(exc.extra, dict) else path
        errors.append({"field": str(field), "message": Msg("must not be blank")})
        return None
    return result


def _check_object(
    schema: Any, struct: type[msgspec.Struct], value: Any, path: str, errors: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """Each field of an object checked on its own; the converted fields, or None when any is bad."""
    prefix = f"{path}." if path else ""
    if not isinstance(value, dict):
        errors.append({"field": path or "body", "message": _expected_object(value)})
        return None
    before = len(errors)
    fields = {field.encode_name: field for field in msgspec.structs.fields(struct)}
    for key in value:
        if key not in fields:
            errors.append({"field": f"{prefix}{key}", "message": Msg("unknown field; remove it")})
    converted: dict[str, Any] = {}
    for name, field in fields.items():
        if name not in value:
            if field.required:
                errors.append(
                    {
                        "field": f"{prefix}{name}",
                        "message": Msg("Object missing required field `{name}`", name=name),
                    }
                )
            continue
        converted[field.name] = _check_value(schema, field.type, value[name], f"{prefix}{name}", errors)
    return converted if len(errors) == before else None


def _item_struct(annotation: Any) -> type[msgspec.Struct] | None:
    """The item type of a list-of-objects field, or None for any other field."""
    inner = annotation
    while get_origin(inner) is Annotated:
        inner = get_args(inner)[0]
    if get_origin(inner) is not list:
        return None
    item = _unwrap(get_args(inner)[0])
    return item if isinstance(item, type) and issubclass(item, msgspec.Struct) else None


def _decode_batch(document: Any, schema: type[Any]) -> Any:
    """A Batch body whose strict decoding failed: every bad field and item, the valid items kept."""
    if not isinstance(document, dict):
        raise ProblemError(400, _expected_object(document), field="body")
    errors: list[dict[str, Any]] = []
    item_errors: list[dict[str, Any]] = []
    converted: dict[str, Any] = {}
    positions: dict[str, list[int]] = {}
    fields = {field.encode_name: field for field in msgspec.structs.fields(schema)}
    for key in document:
        if key not in fields:
            errors.append({"field": key, "message": Msg("unknown field; remove it")})
    for name, field in fields.items():
        if name not in document:
            if field.required:
                errors.append(
                    {"field": name, "message": Msg("Object missing required field `{name}`", name=name)}
                )
            continue
        value = document[name]
        struct = _item_struct(field.type)
        if struct is None or not isinstance(value, list):
            converted[field.name] = _check_value(schema, field.type, value, name, errors)
            continue
        try:
            msgspec.convert([None] * len(value), type=_with_any_items(field.type), strict=True)
        except msgspec.ValidationError as exc:
            errors.append({"field": name, "message": decode_message(_PATH_RE.sub("", str(exc)).strip(" -"))})
            continue
        kept: list[tuple[int, Any]] = []
        for index, item in enumerate(value):
            checked = _check_object(schema, struct, item, f"{name}[{index}]", item_errors)
            if checked is not None:
                kept.append((index, struct(**checked)))
        converted[field.name] = [item for _, item in kept]
        positions[field.name] = [index for index, _ in kept]
    if errors:
        errors.extend(item_errors)
        raise ProblemError(422, field_messages(errors[:10]), errors=errors)
    data = schema(**converted)
    data.__dict__["_errors"] = item_errors
    data.__dict__["_positions"] = positions
    return data


def _with_any_items(annotation: Any) -> Any:
    """A list annotation with its constraints (length) kept and its items unchecked."""
    if get_origin(annotation) is Annotated:
        base, *metadata = get_args(annotation)
        return Annotated[(_with_any_items(base), *metadata)]
    return list[Any]


class StrictBody(AbstractDTO[T]):
    """The DTO of every request body: `data: X` with `dto=StrictBody[X]` is the strictly decoded body.

    Litestar reads the body (413 over `request_max_body_size`) and hands its bytes to `decode_bytes`; the
    OpenAPI request body is the schema of `X` itself, as without a DTO. Responses are not encoded through
    it (handlers set `return_dto=None`).
    """

    def decode_bytes(self, value: bytes) -> T:
        """The body decoded into the model type (see decode_strict)."""
        return decode_strict(value, self.model_type)

    def decode_builtins(self, value: dict[str, Any]) -> T:
        """Form data is not a JSON body: decode it with the same rules from its JSON form."""
        return decode_strict(msgspec.json.encode(value), self.model_type)

    def data_to_encodable_type(self, data: T | Collection[T]) -> Any:
        """Responses never go through this DTO."""
        raise NotImplementedError("StrictBody decodes request bodies only; set return_dto=None")

    @classmethod
    def create_for_field_definition(
        cls, field_definition: FieldDefinition, handler_id: str, backend_cls: Any = None
    ) -> None:
        """Nothing to prepare: the model type is decoded as it is declared."""
        if field_definition.name == "data" and not field_definition.is_subclass_of(cls.model_type):
            raise TypeError(f"StrictBody[{cls.model_type}] on a `data: {field_definition.annotation}`")

    @classmethod
    def create_openapi_schema(
        cls, field_definition: FieldDefinition, handler_id: str, schema_creator: Any
    ) -> Reference | Schema:
        """The request body's schema: that of the model type, with its `openapi_not` exclusion and its
        `openapi_example` (a realistic body, instead of what Swagger would make of the constraints) if any."""
        schema: Reference | Schema = schema_creator.for_field_definition(field_definition)
        target = (
            schema_creator.schema_registry.from_reference(schema).schema
            if isinstance(schema, Reference)
            else schema
        )
        config = getattr(cls.model_type, "__struct_config__", None)
        if config is not None and config.forbid_unknown_fields:
            target.additional_properties = False  # unknown fields are refused
        exclusion = getattr(cls.model_type, "openapi_not", None)
        if exclusion:
            target.schema_not = Schema(**exclusion)
        example = getattr(cls.model_type, "openapi_example", None)
        if example is not None:
            target.examples = [example]
        return schema

    @classmethod
    def generate_field_definitions(cls, model_type: type[Any]) -> Generator[DTOFieldDefinition, None, None]:
        """No transfer model is generated."""
        yield from ()

    @classmethod
    def detect_nested_field(cls, field_definition: FieldDefinition) -> bool:
        """No transfer model, so no nested fields."""
        return False


@functools.cache
def _field_type(schema: type[msgspec.Struct], name: str) -> Any:
    return next(field.type for field in msgspec.structs.fields(schema) if field.name == name)


def check_field(schema: type[msgspec.Struct], name: str, value: Any) -> Any:
    """One field of `schema` checked by the rules of strict decoding (type, constraints, blank text).

    422 naming `name` when it breaks one; for inputs that arrive one field at a time (spreadsheet cells).
    """
    field_type = _field_type(schema, name)
    try:
        result = msgspec.convert(value, type=field_type, strict=True)
    except msgspec.ValidationError as exc:
        text = _PATH_RE.sub("", str(exc)).strip(" -")
        message = _explain(field_type, "", text, _blank_at(value, ""))
        raise ProblemError(422, message, field=name) from exc
    try:
        _reject_blank(result, name)
    except ProblemError as exc:
        raise ProblemError(422, exc.message, field=name) from exc
    return result


def reject_undecodable_query(request: Request[Any, Any, Any]) -> None:
    """400 naming the query parameter whose percent-decoded bytes are not UTF-8 (Litestar would read them as
    U+FFFD and carry on); runs before every route handler."""
    raw: bytes = request.scope.get("query_string", b"")
    if not raw or (b"%" not in raw and raw.isascii()):
        return
    for pair in raw.split(b"&"):
        name, _, value = pair.partition(b"=")
        decoded_name = unquote_to_bytes(name.replace(b"+", b" "))
        for part in (decoded_name, unquote_to_bytes(value.replace(b"+", b" "))):
            problem = invalid_utf8(part)
            if problem is not None:
                field = (
                    decoded_name.decode("utf-8", "replace") if part is not decoded_name else "query string"
                )
                raise ProblemError(400, problem, field=field)
