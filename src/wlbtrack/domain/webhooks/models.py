"""Table models of webhook receivers, the outbox of messages to deliver, delivery attempts and reminders."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from wlbtrack.lib.tables import table
from wlbtrack.lib.types import UTCDateTime


class Webhook(SQLModel, table=True):
    """A receiver an admin registered; `secret` signs its deliveries and is never shown again."""

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(sa_column=Column(Text, nullable=False))
    events: str = Field(sa_column=Column(Text, nullable=False))  # space-separated event types
    description: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    secret: str = Field(max_length=100)
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    created_by: str = Field(max_length=200)
    deleted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class WebhookMessage(SQLModel, table=True):
    """One event for one receiver: the outbox row, written in the transaction of the change it reports."""

    __tablename__ = "webhook_message"
    __table_args__ = (Index("ix_webhook_message_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    webhook_id: int = Field(foreign_key="webhook.id", index=True)
    message_id: str = Field(max_length=64)  # the webhook-id header, the same on every attempt
    event: str = Field(max_length=64)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(max_length=16)  # pending, delivered, failed, cancelled
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    next_attempt_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    give_up_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    lease_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    attempts: int = 0
    delivered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class WebhookAttempt(SQLModel, table=True):
    """One POST of a message: when, the status code or the error, and when it will be tried again."""

    __tablename__ = "webhook_attempt"

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="webhook_message.id", index=True)
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    status_code: int | None = None
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    next_retry: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class WebhookReminder(SQLModel, table=True):
    """A reminder already scheduled: its key makes each (period, department, event) happen once."""

    __tablename__ = "webhook_reminder"

    period: str = Field(max_length=7, primary_key=True)
    department_id: int = Field(foreign_key="department.id", primary_key=True)
    event: str = Field(max_length=32, primary_key=True)
    scheduled_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


WEBHOOK, MESSAGE = table(Webhook), table(WebhookMessage)
ATTEMPT, REMINDER = table(WebhookAttempt), table(WebhookReminder)
