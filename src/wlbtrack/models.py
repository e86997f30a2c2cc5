"""Every table model, imported in one place so the metadata is complete."""

from sqlmodel import SQLModel

from wlbtrack.domain.auth.models import ApiToken
from wlbtrack.domain.catalogue.models import (
    Campaign,
    Department,
    Direction,
    Guideline,
    Initiative,
    InitiativeGroup,
    InitiativeGroupDepartment,
    Responsibility,
)
from wlbtrack.domain.periods.models import ClosedPeriod
from wlbtrack.domain.reporting.models import (
    Indicator,
    IndicatorRevision,
    IndicatorValue,
    IndicatorValueRevision,
    Report,
    ReportRevision,
)
from wlbtrack.lib.changes import ChangeCounter
from wlbtrack.lib.idempotency import IdempotencyRecord

metadata = SQLModel.metadata

__all__ = [
    "ApiToken",
    "Campaign",
    "ChangeCounter",
    "ClosedPeriod",
    "Department",
    "Direction",
    "Guideline",
    "IdempotencyRecord",
    "Indicator",
    "IndicatorRevision",
    "IndicatorValue",
    "IndicatorValueRevision",
    "Initiative",
    "InitiativeGroup",
    "InitiativeGroupDepartment",
    "Report",
    "ReportRevision",
    "Responsibility",
    "metadata",
]
