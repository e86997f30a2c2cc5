"""Who may write for which department and guideline: 403 outside one's role, 422 for an admin's bad choice."""

from __future__ import annotations

from wlbtrack.domain.auth.models import Role
from wlbtrack.domain.auth.tokens import Principal
from wlbtrack.domain.catalogue.snapshot import Catalogue
from wlbtrack.lib.errors import ProblemError


def acting_department(
    principal: Principal, catalogue: Catalogue, requested: str | None, default: str | None = None
) -> str:
    """The department a write is made for: a department token's own, or the one an admin names.

    `default` is used when an admin names none (a guideline with a single responsible department).
    """
    if principal.role is Role.DEPARTMENT:
        assert principal.department is not None
        if requested is not None and requested != principal.department:
            raise ProblemError(
                403,
                f"department: a token of {principal.department} cannot write for {requested}",
                field="department",
            )
        return principal.department
    department = requested or default
    if department is None:
        raise ProblemError(
            422, "department: an admin must name the department it writes for", field="department"
        )
    if department not in catalogue.departments:
        raise ProblemError(422, f"department: no department with code {department!r}", field="department")
    return department


def ensure_responsible(
    principal: Principal, catalogue: Catalogue, guideline: str, department: str, field: str
) -> None:
    """The department must be responsible for the guideline: 403 for its own token, 422 for an admin."""
    if department in catalogue.responsible(guideline):
        return
    status = 403 if principal.role is Role.DEPARTMENT else 422
    raise ProblemError(
        status, f"{field}: {department} is not responsible for guideline {guideline}", field=field
    )


def ensure_owns(principal: Principal, indicator_department: str, department: str, field: str) -> None:
    """An indicator's department must be the one written for: 403 for a department token, 422 for an admin."""
    if indicator_department == department:
        return
    status = 403 if principal.role is Role.DEPARTMENT else 422
    raise ProblemError(
        status, f"{field}: the indicator belongs to {indicator_department}, not {department}", field=field
    )


def single_responsible(catalogue: Catalogue, guideline: str) -> str | None:
    """The guideline's only responsible department, or None when there are several."""
    responsible = catalogue.responsible(guideline)
    return next(iter(responsible)) if len(responsible) == 1 else None
