"""The rules every text field follows, in one place: which characters text may hold, and when it is blank.

Single-line text (codes, names, units, labels) holds no control character at all; multi-line text
(summaries, notes) may hold tab and newline (LF or CRLF) and no other C0/C1
control: a bare CR is one. NUL (which PostgreSQL cannot store) is never allowed; nor are lone surrogates
(which are not text), which the JSON decoder refuses before any pattern is checked and which UTF-8 cannot
encode, so the patterns need not name them (a schema validator working on Unicode scalar values, such as
Rust's regex engine, cannot compile a surrogate range). Text whose every character is white
space, an invisible format character (Unicode Cf: zero-width space, BOM, …) or a control character is
blank; the patterns require a character that is not, so that the document says so too. The patterns are
msgspec constraints, so they hold for JSON bodies, spreadsheet cells and CSV rows alike and appear in the
OpenAPI document; a blank value is still answered "must not be blank" (lib.validation).
"""

from __future__ import annotations

import unicodedata

from wlbtrack.lib.i18n import Msg

_INVISIBLE = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})
# The characters other than controls that blank text consists of (white space, Unicode Zs/Zl/Zp/Cf), as
# code point ranges, so that the patterns can say "something visible"; tests/test_text_rules.py checks
# them against `is_blank` and unicodedata.
INVISIBLE_RANGES = (
    (0x20, 0x20),
    (0xA0, 0xA0),
    (0xAD, 0xAD),
    (0x600, 0x605),
    (0x61C, 0x61C),
    (0x6DD, 0x6DD),
    (0x70F, 0x70F),
    (0x890, 0x891),
    (0x8E2, 0x8E2),
    (0x1680, 0x1680),
    (0x180E, 0x180E),
    (0x2000, 0x200F),
    (0x2028, 0x202F),
    (0x205F, 0x2064),
    (0x2066, 0x206F),
    (0x3000, 0x3000),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x13438),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)


def _char(code: int) -> str:
    """A character in a pattern: escaped in the BMP, else itself (no escape beyond suits every dialect)."""
    return f"\\u{code:04x}" if code <= 0xFFFF else chr(code)


_BLANK = "".join(_char(low) + ("" if low == high else "-" + _char(high)) for low, high in INVISIBLE_RANGES)
_CONTROL = r"\x00-\x1f\x7f-\x9f"
_VISIBLE = f"[^{_CONTROL}{_BLANK}]"
# Patterns as regex escapes (the document holding them is UTF-8); the blank characters come first, so that
# a match never backtracks. Text is blank when no visible character follows them.
SINGLE_LINE = f"^[{_BLANK}]*{_VISIBLE}[^{_CONTROL}]*$"
_MULTI_LINE_CHAR = r"(?:[^\x00-\x08\x0b-\x1f\x7f-\x9f]|\r\n)"  # tab and LF; CR only in CRLF
MULTI_LINE = f"^(?:[\\t\\n{_BLANK}]|\\r\\n)*{_VISIBLE}{_MULTI_LINE_CHAR}*$"


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
