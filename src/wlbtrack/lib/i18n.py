"""Messages for people: English templates with named parameters, translated where they are shown.

A raise site writes `Msg("{code!r} is not a period code like 2026-Q1", code=code)`; nothing is formatted
there. The problem document is rendered once (lib.errors), in the language the request's
`Accept-Language` prefers among LANGUAGES, by looking the template up in the catalogue
`wlbtrack/locale/<language>/LC_MESSAGES/messages.po` (read with Babel when first needed, so no build
step) and formatting the translation with the parameters. English is the template itself. `Msg` is also
the keyword Babel extracts templates by (tests/test_messages.py checks each has a translation).
"""

from __future__ import annotations

import functools
import importlib.resources
import logging
import re
import string
from collections.abc import Iterable
from typing import Any

from babel.messages.pofile import read_po

logger = logging.getLogger("wlbtrack.i18n")

DEFAULT_LANGUAGE = "en"
LANGUAGES = ("en", "ja")  # what Accept-Language can choose; English is the templates themselves
CATALOGUE = "locale/{language}/LC_MESSAGES/messages.po"  # inside the wlbtrack package
LIST_SEPARATOR = {"en": ", ", "ja": "、"}

_LANGUAGE_RANGE = re.compile(r"^(?P<tag>\*|[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*)(?P<params>(?:;.*)?)$")
_QUALITY = re.compile(r"^\s*q\s*=\s*(?P<q>0(?:\.\d{0,3})?|1(?:\.0{0,3})?)\s*$", re.IGNORECASE)


class Msg:
    """A message for people: an English template whose `{name}` fields are filled after translation.

    Parameters are scalars (formatted as the template says, e.g. `{code!r}`), lists (joined with the
    language's separator) or other `Msg`s (translated first). `str(msg)` is the English text.
    """

    __slots__ = ("params", "template")

    def __init__(self, template: str, /, **params: Any) -> None:
        self.template = template
        self.params = params

    def render(self, language: str = DEFAULT_LANGUAGE) -> str:
        """The message in `language` (English where the catalogue has no entry for it)."""
        params = {name: _param(value, language) for name, value in self.params.items()}
        translated = catalogue(language).get(self.template) if language != DEFAULT_LANGUAGE else None
        if translated:
            try:
                return translated.format(**params)
            except (KeyError, IndexError, ValueError):
                logger.warning("bad %s translation of %r", language, self.template)
        return self.template.format(**params)

    def __str__(self) -> str:
        return self.render(DEFAULT_LANGUAGE)

    def __repr__(self) -> str:
        return f"Msg({self.template!r}, **{self.params!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Msg) and (self.template, self.params) == (other.template, other.params)

    def __hash__(self) -> int:
        return hash(self.template)


class Term:
    """A parameter people know by another name in some languages: a department code and its Japanese name."""

    __slots__ = ("names", "text")

    def __init__(self, text: str, /, **names: str) -> None:
        self.text = text
        self.names = names

    def render(self, language: str = DEFAULT_LANGUAGE) -> str:
        """The name in `language`, else the text itself."""
        return self.names.get(language, self.text)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Term({self.text!r}, **{self.names!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Term) and (self.text, self.names) == (other.text, other.names)

    def __hash__(self) -> int:
        return hash(self.text)


def _param(value: Any, language: str) -> Any:
    if isinstance(value, Msg | Term):
        return value.render(language)
    if isinstance(value, list | tuple):
        return LIST_SEPARATOR.get(language, ", ").join(str(_param(item, language)) for item in value)
    return value


def render(value: Any, language: str) -> Any:
    """`value` translated if it is a Msg, as is otherwise."""
    return value.render(language) if isinstance(value, Msg) else value


def placeholders(template: str) -> set[str]:
    """The names of the `{name}` fields of a template (to check a translation keeps them)."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


@functools.cache
def catalogue(language: str) -> dict[str, str]:
    """The language's translations, template → text; fuzzy and empty entries are left out."""
    resource = importlib.resources.files("wlbtrack").joinpath(CATALOGUE.format(language=language))
    if not resource.is_file():
        return {}
    with resource.open("rb") as file:
        po = read_po(file, locale=language)
    return {
        str(message.id): str(message.string)
        for message in po
        if message.id and message.string and not message.fuzzy and isinstance(message.id, str)
    }


def _ranges(header: str) -> Iterable[tuple[float, int, str]]:
    for position, item in enumerate(header.split(",")):
        match = _LANGUAGE_RANGE.match(item.strip())
        if match is None:
            continue
        quality = 1.0
        for param in filter(None, match["params"].split(";")):
            q = _QUALITY.match(param)
            if q is not None:
                quality = float(q["q"])
            elif param.strip().lower().startswith("q"):
                quality = 0.0  # a malformed weight: ignore the range rather than guess
        yield quality, position, match["tag"].lower()


def preferred_language(header: str | None) -> str:
    """The language of LANGUAGES that `Accept-Language` (RFC 9110 §12.5.4) prefers; English by default.

    Ranges are weighed by `q` (a range with q=0 is refused), ties go to the earlier one; `ja-JP` matches
    `ja`, `*` matches the default. Anything unparseable counts for nothing.
    """
    if not header:
        return DEFAULT_LANGUAGE
    refused: set[str] = set()
    best: tuple[float, int, str] | None = None
    for quality, position, tag in _ranges(header):
        primary = DEFAULT_LANGUAGE if tag == "*" else tag.split("-")[0]
        if primary not in LANGUAGES:
            continue
        if quality <= 0:
            refused.add(primary)
            continue
        if best is None or (quality, -position) > (best[0], -best[1]):
            best = (quality, position, primary)
    if best is not None and best[2] not in refused:
        return best[2]
    return DEFAULT_LANGUAGE
