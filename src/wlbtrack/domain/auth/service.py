"""Creating, listing and revoking API tokens."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from wlbtrack.domain.auth.models import ApiToken, Role
from wlbtrack.domain.auth.tokens import hash_token, new_token
from wlbtrack.domain.catalogue.models import Department


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
