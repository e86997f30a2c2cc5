"""Issuing, hashing and resolving bearer tokens."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
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


Fetch = Callable[[str], Awaitable["Principal | None"]]


def principal_fetcher(sessions: async_sessionmaker[AsyncSession]) -> Fetch:
    """Resolve a token in a short read session of its own."""

    async def fetch(token: str) -> Principal | None:
        async with sessions() as session:
            return await resolve_token(session, token)

    return fetch


class TokenCache:
    """Principals of recently seen tokens, kept `ttl` seconds so most requests need no token query.

    Only active tokens are kept. A revocation through this worker clears the cache at once; one made
    elsewhere (another worker, the CLI) takes effect here within `ttl` seconds. A token used in the
    second half of its entry's life is looked up again in the background, so steady callers never wait
    for the database, while no entry is ever trusted for longer than `ttl`.
    """

    MAX_ENTRIES = 10_000

    def __init__(self, ttl: float, fetch: Fetch) -> None:
        self._ttl = ttl
        self._fetch = fetch
        self._entries: dict[str, tuple[float, Principal]] = {}
        self._lookups: dict[str, asyncio.Future[Principal | None]] = {}
        self._generation = 0  # advanced by clear(), so a lookup begun before it cannot refill the cache

    def get(self, token: str) -> Principal | None:
        """The cached principal of an active token, or None when unknown or stale."""
        entry = self._entries.get(token)
        if entry is None:
            return None
        age = time.monotonic() - entry[0]
        if age >= self._ttl:
            return None
        if age >= self._ttl / 2 and token not in self._lookups:
            self._start_lookup(token)
        return entry[1]

    async def lookup(self, token: str) -> Principal | None:
        """Fetch a token's principal once however many requests miss it at the same moment, and keep it.

        Without this, every request arriving as an entry expires queries the database at once.
        """
        pending = self._lookups.get(token) or self._start_lookup(token)
        return await asyncio.shield(pending)

    def _start_lookup(self, token: str) -> asyncio.Future[Principal | None]:
        pending = asyncio.ensure_future(self._fetch(token))
        self._lookups[token] = pending
        generation = self._generation

        def settle(done: asyncio.Future[Principal | None]) -> None:
            self._lookups.pop(token, None)
            if done.cancelled() or done.exception() is not None or generation != self._generation:
                return  # a failed lookup leaves the entry to expire; its waiters get the exception
            principal = done.result()
            if principal is None:
                self._entries.pop(token, None)
            else:
                self._put(token, principal)

        pending.add_done_callback(settle)
        return pending

    def _put(self, token: str, principal: Principal) -> None:
        if self._ttl <= 0:
            return
        if len(self._entries) >= self.MAX_ENTRIES:
            self._entries.clear()
        self._entries[token] = (time.monotonic(), principal)

    def clear(self) -> None:
        """Forget every token, including what lookups in flight would bring back."""
        self._generation += 1
        self._entries.clear()
