"""Request and response bodies of the webhook API, and the events a receiver may subscribe to."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from wlbtrack.lib.text import SINGLE_LINE

EventType = Literal[
    "submission.submitted",
    "submission.approved",
    "submission.returned",
    "period.closed",
    "period.reopened",
    "deadline.approaching",
    "deadline.missed",
]
EVENTS: tuple[str, ...] = EventType.__args__  # type: ignore[attr-defined]
Url = Annotated[str, msgspec.Meta(min_length=1, max_length=2000, pattern=SINGLE_LINE)]
Description = Annotated[str, msgspec.Meta(min_length=1, max_length=500, pattern=SINGLE_LINE)]


class WebhookIn(msgspec.Struct, forbid_unknown_fields=True):
    """A receiver: an http(s) URL and the events it wants."""

    url: Url
    events: Annotated[list[EventType], msgspec.Meta(min_length=1, max_length=len(EVENTS))]
    description: Description | None = None


class WebhookPublic(msgspec.Struct):
    """A registered receiver (its secret is never shown again)."""

    id: int
    url: str
    events: list[str]
    description: str | None
    created_at: datetime
    created_by: str


class WebhookCreated(WebhookPublic):
    """The new receiver with its signing secret (Standard Webhooks `whsec_…`), shown this once only."""

    secret: str


class WebhookList(msgspec.Struct):
    items: list[WebhookPublic]
    total: int


class AttemptPublic(msgspec.Struct):
    """One POST: when, the receiver's status code or the error, and when it is tried again (null: not)."""

    at: datetime
    status_code: int | None
    error: str | None
    next_retry: datetime | None


class DeliveryPublic(msgspec.Struct):
    """One event for the receiver: its `webhook-id`, state and every attempt, oldest first."""

    id: int
    webhook_id: str
    event: str
    status: Literal["pending", "delivered", "failed", "cancelled"]
    created_at: datetime
    delivered_at: datetime | None
    next_attempt_at: datetime | None
    payload: str
    attempts: list[AttemptPublic]


class DeliveryList(msgspec.Struct):
    items: list[DeliveryPublic]
    total: int
