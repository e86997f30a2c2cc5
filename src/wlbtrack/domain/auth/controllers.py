"""Token administration over HTTP: create, list and revoke (admin tokens only)."""

from __future__ import annotations

import msgspec
from litestar import Controller, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from wlbtrack.db import ReadSession, WriteSession
from wlbtrack.domain.auth.guards import admin_only
from wlbtrack.domain.auth.schemas import TokenCreated, TokenIn, TokenList
from wlbtrack.domain.auth.services import (
    WRITE_CONTEXT,
    TokenCache,
    TokenError,
    WriteContextDep,
    create_token,
    list_tokens,
    revoke_token,
)
from wlbtrack.lib.errors import ProblemError
from wlbtrack.lib.i18n import Msg
from wlbtrack.lib.integers import RowId
from wlbtrack.lib.responses import errors, linked
from wlbtrack.lib.validation import MAX_ROW_ID, StrictBody


class TokenController(Controller):
    """API tokens: admin only."""

    path = "/tokens"
    tags = ("tokens",)
    guards = [admin_only]  # noqa: RUF012  (Litestar's layer attribute)
    dependencies = WRITE_CONTEXT

    @post(
        "/",
        operation_class=linked(201, "token_id", "$response.body#/id", "revoke_token"),
        summary="Create an API token",
        status_code=201,
        responses=errors(403, 409, 413, 422),
        dto=StrictBody[TokenIn],
        return_dto=None,
    )
    async def create_api_token(
        self, data: JSONBody[TokenIn], context: WriteContextDep
    ) -> Response[TokenCreated]:
        """A new token with a role (`admin`, `department`, `viewer`), a department and a label.

        A department token needs a department. The token is returned once and stored only as a hash;
        a replay by Idempotency-Key returns `token: null`.
        """

        async def write() -> TokenCreated:
            try:
                _, created = await create_token(context.session, data.role, data.department, data.label)
            except TokenError as exc:
                raise ProblemError(422, exc.message, field=exc.field) from exc
            return created

        return await context.commit(
            data,
            TokenCreated,
            201,
            write,
            stored=lambda created: msgspec.structs.replace(created, token=None),
        )

    @get("/", summary="List API tokens", responses=errors(403))
    async def list_api_tokens(self, session: NamedDependency[ReadSession]) -> TokenList:
        """Every token, active and revoked, oldest first; secrets are never shown."""
        items = await list_tokens(session)
        return TokenList(items=items, total=len(items))

    @delete("/{token_id:int}", summary="Revoke an API token", responses=errors(403, 404, 409))
    async def revoke_api_token(
        self,
        token_id: RowId,
        write_session: NamedDependency[WriteSession],
        tokens: NamedDependency[TokenCache],
    ) -> None:
        """Revoke a token: from now on it gets 401. Revoking a revoked token changes nothing."""
        async with write_session.begin():
            found = 1 <= token_id <= MAX_ROW_ID and await revoke_token(write_session, token_id)
        tokens.clear()
        if not found:
            raise ProblemError(404, Msg("no token with id {id}", id=token_id), field="token_id")
