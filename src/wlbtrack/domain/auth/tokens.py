"""Issuing, hashing and resolving bearer tokens."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from wlbtrack.domain.auth.models import ApiToken, Role
from wlbtrack.domain.catalogue.models import Department

TOKEN_PREFIX = "wlb_"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's id, role, department code and label."""

    token_id: int
    role: Role
    department: str | None
    label: str

    @property
    def can_write(self) -> bool:
        return self.role in (Role.ADMIN, Role.DEPARTMENT)


def new_token() -> str:
    """A fresh random token (256 bits)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def resolve_token(session: AsyncSession, token: str) -> Principal | None:
    """The principal of an active token, or None for an unknown or revoked one."""
    row = (
        await session.execute(
            select(ApiToken.id, ApiToken.role, ApiToken.label, Department.code)
            .outerjoin(Department, col(Department.id) == ApiToken.department_id)
            .where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))  # type: ignore[union-attr]
        )
    ).first()
    if row is None:
        return None
    token_id, role, label, department = row
    return Principal(token_id=token_id, role=Role(role), department=department, label=label)


class TokenCache:
    """Principals of recently seen tokens, kept `ttl` seconds so most requests need no token query.

    Only active tokens are kept. A revocation through this worker clears the cache at once; one made
    elsewhere (another worker, the CLI) takes effect here within `ttl` seconds.
    """

    MAX_ENTRIES = 10_000

    def __init__(self, ttl: float) -> None:
        self._ttl = ttl
        self._entries: dict[str, tuple[float, Principal]] = {}
        self._lookups: dict[str, asyncio.Future[Principal | None]] = {}

    def get(self, token: str) -> Principal | None:
        """The cached principal of an active token, or None when unknown or stale."""
        entry = self._entries.get(token)
        if entry is None or time.monotonic() - entry[0] >= self._ttl:
            return None
        return entry[1]

    async def lookup(self, token: str, fetch: Callable[[], Awaitable[Principal | None]]) -> Principal | None:
        """Fetch a token's principal once however many requests miss it at the same moment, and keep it.

        Without this, every request arriving as an entry expires queries the database at once.
        """
        pending = self._lookups.get(token)
        if pending is None:
            pending = asyncio.ensure_future(fetch())
            self._lookups[token] = pending
            pending.add_done_callback(lambda _: self._lookups.pop(token, None))
        principal = await asyncio.shield(pending)
        if principal is not None:
            self.put(token, principal)
        return principal

    def put(self, token: str, principal: Principal) -> None:
        if self._ttl <= 0:
            return
        if len(self._entries) >= self.MAX_ENTRIES:
            self._entries.clear()
        self._entries[token] = (time.monotonic(), principal)

    def clear(self) -> None:
        self._entries.clear()
