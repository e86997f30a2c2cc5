"""API tokens: issuing, hashing, resolving to a Principal (with a cache), listing and revoking."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from wlbtrack.db import ReadSession, WriteSession
from wlbtrack.domain.auth.models import ApiToken, Role
from wlbtrack.domain.auth.schemas import TokenCreated, TokenPublic
from wlbtrack.domain.catalogue.models import DEPARTMENT
from wlbtrack.domain.catalogue.services import Catalogue
from wlbtrack.lib.clock import Clock
from wlbtrack.lib.errors import ProblemError, one_of
from wlbtrack.lib.i18n import Msg
from wlbtrack.lib.idempotency import IdempotencyKey, IdempotentWrite
from wlbtrack.lib.tables import table
from wlbtrack.lib.types import utcnow

TOKEN_PREFIX = "wlb_"
TOKEN = table(ApiToken)


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


@dataclass(frozen=True)
class WriteContext(IdempotentWrite):
    """What every idempotent write handler shares: the request, who writes, the write session, the key."""

    principal: Principal


def provide_write_context(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    write_session: NamedDependency[WriteSession],
    idempotency_key: IdempotencyKey = None,
) -> WriteContext:
    """The write context of a request; the Idempotency-Key header is documented on each handler using it."""
    return WriteContext(request, write_session, principal.token_id, idempotency_key, principal)


# a controller's `dependencies` for handlers that take `context: WriteContextDep` (last, so that the
# Idempotency-Key header comes after the handler's own parameters in the OpenAPI document)
WRITE_CONTEXT = {"context": Provide(provide_write_context, sync_to_thread=False)}
WriteContextDep = NamedDependency[WriteContext]
PrincipalDep = NamedDependency[Principal]


def own_department_only(
    principal: Principal, catalogue: Catalogue, department: str, refusal: Callable[..., Msg]
) -> None:
    """A department token acts only for its own department: else a 403, `refusal(own=…, department=…)`."""
    if principal.role is Role.DEPARTMENT and principal.department != department:
        own = catalogue.department_term(principal.department or "")
        message = refusal(own=own, department=catalogue.department_term(department))
        raise ProblemError(403, message, field="department")


class TokenError(ValueError):
    """A token request that cannot be honoured; `field` names the culprit."""

    def __init__(self, field: str, message: Msg) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def new_token() -> str:
    """A fresh random token (256 bits)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def create_token(
    session: WriteSession, role: str, department: str | None = None, label: str | None = None
) -> tuple[str, TokenCreated]:
    """Store a new token's hash; return the token (shown once) and what was stored."""
    try:
        parsed_role = Role(role)
    except ValueError as exc:
        raise TokenError("role", one_of([r.value for r in Role])) from exc
    department_id: int | None = None
    if parsed_role is Role.DEPARTMENT and department is None:
        raise TokenError("department", Msg("a department token needs a department code"))
    if department is not None:
        department_id = (
            await session.execute(select(DEPARTMENT.c.id).where(DEPARTMENT.c.code == department))
        ).scalar_one_or_none()
        if department_id is None:
            raise TokenError("department", Msg("no department with code {code!r}", code=department))
    token = new_token()
    row = (
        await session.execute(
            TOKEN.insert()
            .values(
                token_hash=hash_token(token),
                role=parsed_role.value,
                department_id=department_id,
                label=label or f"{parsed_role.value}{'-' + department if department else ''}",
                created_at=utcnow(),
            )
            .returning(TOKEN.c.id, TOKEN.c.role, TOKEN.c.label, TOKEN.c.created_at)
        )
    ).one()
    created = TokenCreated(
        id=row.id,
        role=row.role,
        department=department,
        label=row.label,
        created_at=row.created_at,
        token=token,
    )
    return token, created


async def list_tokens(session: AsyncSession) -> list[TokenPublic]:
    """Every token (active and revoked) with its department code, oldest first."""
    rows = await session.execute(
        select(
            TOKEN.c.id, TOKEN.c.role, DEPARTMENT.c.code, TOKEN.c.label, TOKEN.c.created_at, TOKEN.c.revoked_at
        )
        .select_from(TOKEN)
        .outerjoin(DEPARTMENT, DEPARTMENT.c.id == TOKEN.c.department_id)
        .order_by(TOKEN.c.id)
    )
    return [TokenPublic(*row) for row in rows]


async def revoke_token(session: WriteSession, token_id: int) -> bool:
    """Mark a token revoked (keeping the first revocation time); False when there is no such token."""
    exists = (await session.execute(select(TOKEN.c.id).where(TOKEN.c.id == token_id))).first() is not None
    if exists:
        await session.execute(
            update(TOKEN)
            .where(TOKEN.c.id == token_id, TOKEN.c.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    return exists


TokenKey = str | int  # a bearer token, or the id of the token a dashboard session was started with


async def resolve_token(session: AsyncSession, token: TokenKey) -> Principal | None:
    """The principal of an active token, given the token or its id; None for an unknown or revoked one."""
    which = TOKEN.c.id == token if isinstance(token, int) else TOKEN.c.token_hash == hash_token(token)
    row = (
        await session.execute(
            select(TOKEN.c.id, TOKEN.c.role, TOKEN.c.label, DEPARTMENT.c.code)
            .select_from(TOKEN)
            .outerjoin(DEPARTMENT, DEPARTMENT.c.id == TOKEN.c.department_id)
            .where(which, TOKEN.c.revoked_at.is_(None))
        )
    ).first()
    if row is None:
        return None
    token_id, role, label, department = row
    return Principal(token_id=token_id, role=Role(role), department=department, label=label)


Fetch = Callable[[TokenKey], Awaitable["Principal | None"]]


def principal_fetcher(sessions: async_sessionmaker[ReadSession]) -> Fetch:
    """Resolve a token (or a token id) in a short read session of its own."""

    async def fetch(token: TokenKey) -> Principal | None:
        async with sessions() as session:
            return await resolve_token(session, token)

    return fetch


class TokenCache:
    """Principals of recently seen tokens, kept `ttl` seconds so most requests need no token query: by the
    bearer token for the API, by the token's id for dashboard sessions.

    Only active tokens are kept. A revocation through this worker clears the cache at once; one made
    elsewhere (another worker, the CLI) takes effect here within `ttl` seconds. A token used in the
    second half of its entry's life is looked up again in the background, so steady callers never wait
    for the database, while no entry is ever trusted for longer than `ttl`.
    """

    MAX_ENTRIES = 10_000

    def __init__(self, ttl: float, fetch: Fetch, clock: Clock) -> None:
        self._ttl = ttl
        self._fetch = fetch
        self._clock = clock
        self._entries: dict[TokenKey, tuple[float, Principal]] = {}
        self._lookups: dict[TokenKey, asyncio.Future[Principal | None]] = {}
        self._generation = 0  # advanced by clear(), so a lookup begun before it cannot refill the cache

    def get(self, token: TokenKey) -> Principal | None:
        """The cached principal of an active token, or None when unknown or stale."""
        entry = self._entries.get(token)
        if entry is None:
            return None
        age = self._clock.monotonic() - entry[0]
        if age >= self._ttl:
            return None
        if age >= self._ttl / 2 and token not in self._lookups:
            self._start_lookup(token)
        return entry[1]

    async def lookup(self, token: TokenKey) -> Principal | None:
        """Fetch a token's principal once however many requests miss it at the same moment, and keep it.

        Without this, every request arriving as an entry expires queries the database at once.
        """
        pending = self._lookups.get(token) or self._start_lookup(token)
        return await asyncio.shield(pending)

    def _start_lookup(self, token: TokenKey) -> asyncio.Future[Principal | None]:
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

    def _put(self, token: TokenKey, principal: Principal) -> None:
        if self._ttl <= 0:
            return
        if len(self._entries) >= self.MAX_ENTRIES:
            self._entries.clear()
        self._entries[token] = (self._clock.monotonic(), principal)

    def clear(self) -> None:
        """Forget every token, including what lookups in flight would bring back."""
        self._generation += 1
        self._entries.clear()
