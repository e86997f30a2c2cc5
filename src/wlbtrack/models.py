"""The metadata of every table model, for Alembic and the tests: importing each models module registers it."""

from sqlmodel import SQLModel

import wlbtrack.domain.auth.models
import wlbtrack.domain.catalogue.models
import wlbtrack.domain.dashboard.models
import wlbtrack.domain.periods.models
import wlbtrack.domain.reporting.models
import wlbtrack.domain.webhooks.models
import wlbtrack.lib.changes
import wlbtrack.lib.idempotency  # noqa: F401  (the imports above and this one register their tables)

metadata = SQLModel.metadata

__all__ = ["metadata"]
