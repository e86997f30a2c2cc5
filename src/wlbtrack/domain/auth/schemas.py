"""Request and response bodies of the token API."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

import msgspec

from wlbtrack.domain.catalogue.schemas import DepartmentCodeIn
from wlbtrack.lib.validation import Label

RoleName = Literal["admin", "department", "viewer"]


class TokenIn(msgspec.Struct, forbid_unknown_fields=True):
    """A token to create: role, the department of a department token, and a label."""

    openapi_example: ClassVar[dict[str, str]] = {
        "role": "department",
        "department": "lifestyle-culture",
        "label": "生活文化部 四半期報告",
    }

    role: RoleName
    department: DepartmentCodeIn | None = None
    label: Label | None = None


class TokenPublic(msgspec.Struct):
    """A token's metadata; the secret itself is never stored."""

    id: int
    role: RoleName
    department: str | None
    label: str
    created_at: datetime
    revoked_at: datetime | None


class TokenCreated(msgspec.Struct):
    """A new token; `token` is shown only in this response (null when replayed by Idempotency-Key)."""

    id: int
    role: RoleName
    department: str | None
    label: str
    created_at: datetime
    token: str | None


class TokenList(msgspec.Struct):
    items: list[TokenPublic]
    total: int
