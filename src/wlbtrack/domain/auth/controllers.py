"""Token administration over HTTP: create, list and revoke (admin tokens only)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody

from wlbtrack.deps import PrincipalDep, SessionDep, WriteSessionDep
from wlbtrack.domain.auth.guards import admin_only
from wlbtrack.domain.auth.schemas import TokenCreated, TokenIn, TokenList, TokenPublic
from wlbtrack.domain.auth.service import TokenError, create_token, list_tokens, revoke_token
from wlbtrack.domain.auth.tokens import TokenCache
from wlbtrack.domain.reporting.bodies import body_of, strict_body
from wlbtrack.domain.reporting.idempotency import IdempotencyKey, idempotent
from wlbtrack.domain.reporting.schemas import MAX_ROW_ID
from wlbtrack.lib.errors import ProblemError
from wlbtrack.lib.responses import errors


class TokenController(Controller):
    """API tokens: admin only."""

    path = "/tokens"
    tags = ("tokens",)
    guards = [admin_only]  # noqa: RUF012  (Litestar's layer attribute)

    @post(
        "/",
        summary="Create an API token",
        status_code=201,
        responses=errors(403, 413, 422),
        before_request=strict_body(TokenIn),
    )
    async def create_api_token(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[TokenIn],
        principal: PrincipalDep,
        write_session: WriteSessionDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[TokenCreated]:
        """A new token with a role (`admin`, `department`, `viewer`), a department and a label.

        A department token needs a department. The token is returned once and stored only as a hash;
        a replay by Idempotency-Key returns `token: null`.
        """
        body = body_of(request, TokenIn)

        async def write() -> TokenCreated:
            try:
                token, row = await create_token(write_session, body.role, body.department, body.label)
            except TokenError as exc:
                raise ProblemError(422, str(exc), field=exc.field) from exc
            assert row.id is not None
            return TokenCreated(
                id=row.id,
                role=row.role,
                department=body.department,
                label=row.label,
                created_at=row.created_at,
                token=token,
            )

        async with write_session.begin():
            return await idempotent(
                write_session,
                request,
                principal,
                idempotency_key,
                body,
                TokenCreated,
                201,
                write,
                stored=lambda created: msgspec.structs.replace(created, token=None),
            )

    @get("/", summary="List API tokens", responses=errors(403))
    async def list_api_tokens(self, session: SessionDep) -> TokenList:
        """Every token, active and revoked, oldest first; secrets are never shown."""
        items = [
            TokenPublic(
                id=row.id or 0,
                role=row.role,
                department=department,
                label=row.label,
                created_at=row.created_at,
                revoked_at=row.revoked_at,
            )
            for row, department in await list_tokens(session)
        ]
        return TokenList(items=items, total=len(items))

    @delete("/{token_id:int}", summary="Revoke an API token", responses=errors(403, 404))
    async def revoke_api_token(
        self, token_id: FromPath[int], write_session: WriteSessionDep, state: State
    ) -> None:
        """Revoke a token: from now on it gets 401. Revoking a revoked token changes nothing."""
        async with write_session.begin():
            row = await revoke_token(write_session, token_id) if 1 <= token_id <= MAX_ROW_ID else None
        token_cache: TokenCache = state.token_cache
        token_cache.clear()
        if row is None:
            raise ProblemError(404, f"token_id: no token with id {token_id}", field="token_id")
