"""The rules every text field follows, in one place: which characters text may hold, and when it is blank.

Single-line text (codes, names, units, labels) holds no control character at all; multi-line text
(summaries, notes) may hold tab and newline (LF or CRLF) and no other C0/C1
control: a bare CR is one. NUL (which PostgreSQL cannot
store) and lone surrogates (which are not text) are never allowed. Text whose every character is white
space, an invisible format character (Unicode Cf: zero-width space, BOM, …) or a control character is
blank. The patterns are msgspec constraints, so they hold for JSON bodies, spreadsheet cells and CSV
rows alike and appear in the OpenAPI document.
"""

from __future__ import annotations

import unicodedata

from wlbtrack.lib.i18n import Msg

_SURROGATES = r"\ud800-\udfff"  # as regex escapes: the document holding the pattern is UTF-8
SINGLE_LINE = f"^[^\\x00-\\x1f\\x7f-\\x9f{_SURROGATES}]*$"
MULTI_LINE = f"^(?:[^\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f{_SURROGATES}]|\\r\\n)*$"  # CR only in CRLF

_INVISIBLE = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})


def is_blank(value: str) -> bool:
    """Whether `value` shows nothing: every character is white space, a format or a control character."""
    return all(char.isspace() or unicodedata.category(char) in _INVISIBLE for char in value)


def invalid_utf8(raw: bytes) -> Msg | None:
    """Why `raw` is not UTF-8 text (the offending byte's position), or None when it is."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Msg(
            "not valid UTF-8 (byte {byte} at position {position})",
            byte=f"{exc.object[exc.start]:#04x}",
            position=exc.start,
        )
    return None


def shown(value: str) -> str:
    """`value` fit to echo back in a message: control, format and surrogate characters become U+FFFD."""
    return "".join("\ufffd" if unicodedata.category(char) in _HIDDEN else char for char in value).strip()


_HIDDEN = frozenset({"Cc", "Cf", "Cs"})
