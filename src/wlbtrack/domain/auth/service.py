"""Creating, listing and revoking API tokens."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from wlbtrack.domain.auth.models import ApiToken, Role
from wlbtrack.domain.auth.tokens import hash_token, new_token
from wlbtrack.domain.catalogue.models import Department
from wlbtrack.lib.types import utcnow


class TokenError(ValueError):
    """A token request that cannot be honoured; `field` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


async def create_token(
    session: AsyncSession, role: str, department: str | None = None, label: str | None = None
) -> tuple[str, ApiToken]:
    """Store a new token's hash; return the token (shown once) and its row."""
    try:
        parsed_role = Role(role)
    except ValueError as exc:
        raise TokenError("role", f"must be one of {', '.join(r.value for r in Role)}") from exc
    department_id: int | None = None
    if parsed_role is Role.DEPARTMENT and department is None:
        raise TokenError("department", "a department token needs a department code")
    if department is not None:
        department_id = (
            await session.execute(select(Department.id).where(Department.code == department))
        ).scalar_one_or_none()
        if department_id is None:
            raise TokenError("department", f"no department with code {department!r}")
    token = new_token()
    row = ApiToken(
        token_hash=hash_token(token),
        role=parsed_role.value,
        department_id=department_id,
        label=label or f"{parsed_role.value}{'-' + department if department else ''}",
    )
    session.add(row)
    await session.flush()
    return token, row


async def list_tokens(session: AsyncSession) -> list[tuple[ApiToken, str | None]]:
    """Every token (active and revoked) with its department code, oldest first."""
    rows = await session.execute(
        select(ApiToken, Department.code)
        .outerjoin(Department, col(Department.id) == ApiToken.department_id)
        .order_by(col(ApiToken.id))
    )
    return [(token, department) for token, department in rows]


async def revoke_token(session: AsyncSession, token_id: int) -> ApiToken | None:
    """Mark a token revoked (keeping the first revocation time); None when there is no such token."""
    token = await session.get(ApiToken, token_id)
    if token is not None and token.revoked_at is None:
        token.revoked_at = utcnow()
        await session.flush()
    return token
