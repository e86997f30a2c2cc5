"""Request IDs: echo a well-formed X-Request-ID or make one, and expose it to logs and responses."""

from __future__ import annotations

import os
import re
from contextvars import ContextVar

REQUEST_ID = b"x-request-id"
_SANE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/+=-]{0,127}")

current_request_id: ContextVar[str | None] = ContextVar("wlbtrack_request_id", default=None)


def choose_request_id(sent: str | None) -> str:
    """The client's ID when it is 1–128 safe characters, otherwise 128 fresh random bits in hex."""
    if sent is not None and _SANE.fullmatch(sent):
        return sent
    return os.urandom(16).hex()
