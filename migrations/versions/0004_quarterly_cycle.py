"""the quarterly cycle: deadlines, each department's quarter state and its transitions

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-28 08:00:00.000000

A period without a row in period_deadline is due WLBTRACK_DEADLINE_DAYS after it ends; a department
without a row in department_quarter for a period is `open` there, so existing data needs no backfill.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import wlbtrack.lib.types

revision: str = "0004"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

String = sqlmodel.sql.sqltypes.AutoString
UTC = wlbtrack.lib.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "period_deadline",
        sa.Column("period", String(length=7), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("set_at", UTC(timezone=True), nullable=False),
        sa.Column("set_by", String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("period"),
    )
    op.create_table(
        "department_quarter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", String(length=7), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("state", String(length=16), nullable=False),
        sa.Column("submitted_at", UTC(timezone=True), nullable=True),
        sa.Column("decided_at", UTC(timezone=True), nullable=True),
        sa.Column("decided_by", String(length=200), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["department_id"], ["department.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("period", "department_id", name="uq_department_quarter_key"),
    )
    op.create_table(
        "quarter_transition",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", String(length=7), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("action", String(length=16), nullable=False),
        sa.Column("from_state", String(length=16), nullable=False),
        sa.Column("to_state", String(length=16), nullable=False),
        sa.Column("at", UTC(timezone=True), nullable=False),
        sa.Column("by", String(length=200), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["department_id"], ["department.id"]),
        sa.ForeignKeyConstraint(["token_id"], ["api_token.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("quarter_transition") as batch:
        batch.create_index("ix_quarter_transition_key", ["period", "department_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("quarter_transition") as batch:
        batch.drop_index("ix_quarter_transition_key")
    op.drop_table("quarter_transition")
    op.drop_table("department_quarter")
    op.drop_table("period_deadline")
