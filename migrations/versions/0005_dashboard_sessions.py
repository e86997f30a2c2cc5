"""dashboard sessions

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 08:50:00.000000

The server side of the dashboard's session cookie: a random id, its data (the token's id), its expiry.
Named 0003 as instructed; the coordinator re-chains down_revision at merge.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from wlbtrack.lib.types import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dashboard_session",
        sa.Column("key", sa.String(length=200), primary_key=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_dashboard_session_expires_at", "dashboard_session", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_dashboard_session_expires_at", table_name="dashboard_session")
    op.drop_table("dashboard_session")
