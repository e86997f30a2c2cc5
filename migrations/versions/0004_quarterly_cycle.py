"""the quarterly cycle: deadlines, each department's quarter state and its transitions; signed webhooks

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
    op.create_table(
        "webhook",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("events", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("secret", String(length=100), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("created_by", String(length=200), nullable=False),
        sa.Column("deleted_at", UTC(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "webhook_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("webhook_id", sa.Integer(), nullable=False),
        sa.Column("message_id", String(length=64), nullable=False),
        sa.Column("event", String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", String(length=16), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("next_attempt_at", UTC(timezone=True), nullable=True),
        sa.Column("give_up_at", UTC(timezone=True), nullable=False),
        sa.Column("lease_until", UTC(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("delivered_at", UTC(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["webhook_id"], ["webhook.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("webhook_message") as batch:
        batch.create_index("ix_webhook_message_due", ["status", "next_attempt_at"], unique=False)
        batch.create_index(batch.f("ix_webhook_message_webhook_id"), ["webhook_id"], unique=False)
    op.create_table(
        "webhook_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("at", UTC(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("next_retry", UTC(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["message_id"], ["webhook_message.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("webhook_attempt") as batch:
        batch.create_index(batch.f("ix_webhook_attempt_message_id"), ["message_id"], unique=False)
    op.create_table(
        "webhook_reminder",
        sa.Column("period", String(length=7), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("event", String(length=32), nullable=False),
        sa.Column("scheduled_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["department_id"], ["department.id"]),
        sa.PrimaryKeyConstraint("period", "department_id", "event"),
    )


def downgrade() -> None:
    op.drop_table("webhook_reminder")
    with op.batch_alter_table("webhook_attempt") as batch:
        batch.drop_index(batch.f("ix_webhook_attempt_message_id"))
    op.drop_table("webhook_attempt")
    with op.batch_alter_table("webhook_message") as batch:
        batch.drop_index(batch.f("ix_webhook_message_webhook_id"))
        batch.drop_index("ix_webhook_message_due")
    op.drop_table("webhook_message")
    op.drop_table("webhook")
    with op.batch_alter_table("quarter_transition") as batch:
        batch.drop_index("ix_quarter_transition_key")
    op.drop_table("quarter_transition")
    op.drop_table("department_quarter")
    op.drop_table("period_deadline")
