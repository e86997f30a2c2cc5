"""HTTP API of webhook receivers and their deliveries (admins only)."""

from __future__ import annotations

from litestar import Controller, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from wlbtrack.db import ReadSession, WriteSession
from wlbtrack.domain.auth.guards import admin_only
from wlbtrack.domain.auth.services import WRITE_CONTEXT, WriteContextDep
from wlbtrack.domain.webhooks.schemas import (
    DeliveryList,
    DeliveryPublic,
    WebhookCreated,
    WebhookIn,
    WebhookList,
    WebhookPublic,
)
from wlbtrack.domain.webhooks.services import (
    WebhookSettings,
    create_webhook,
    delete_webhook,
    deliveries,
    get_webhook,
    list_webhooks,
    retry_delivery,
)
from wlbtrack.lib.integers import RowId
from wlbtrack.lib.responses import errors
from wlbtrack.lib.validation import MAX_ROW_ID, StrictBody


class WebhookController(Controller):
    """Receivers of signed events (Standard Webhooks): the quarterly cycle, closing and reminders."""

    path = "/webhooks"
    tags = ("webhooks",)
    guards = [admin_only]  # noqa: RUF012  (Litestar reads the class attribute)
    dependencies = WRITE_CONTEXT

    @post(
        "/",
        summary="Register a webhook receiver",
        status_code=201,
        responses=errors(403, 409, 422),
        dto=StrictBody[WebhookIn],
        return_dto=None,
    )
    async def create(
        self,
        data: JSONBody[WebhookIn],
        webhook_settings: NamedDependency[WebhookSettings],
        context: WriteContextDep,
    ) -> Response[WebhookCreated]:
        """`url` must be http or https and not a link-local or cloud metadata address (nor loopback,
        unless WLBTRACK_WEBHOOK_ALLOW_LOOPBACK=1). The response carries the signing `secret` (`whsec_…`)
        this once: keep it to verify deliveries; it is never shown again."""

        async def write() -> WebhookCreated:
            return await create_webhook(
                context.session,
                data,
                context.principal.label,
                webhook_settings.clock.now(),
                webhook_settings.allow_loopback,
            )

        return await context.commit(data, WebhookCreated, 201, write)

    @get("/", summary="List webhook receivers", responses=errors(403))
    async def list_all(self, session: NamedDependency[ReadSession]) -> WebhookList:
        """Every receiver (without secrets), oldest first."""
        return await list_webhooks(session)

    @get("/{webhook_id:int}", summary="Get a webhook receiver", responses=errors(403, 404))
    async def get_one(self, webhook_id: RowId, session: NamedDependency[ReadSession]) -> WebhookPublic:
        """One receiver (without its secret)."""
        return await get_webhook(session, _id(webhook_id))

    @delete("/{webhook_id:int}", summary="Delete a webhook receiver", responses=errors(403, 404, 409))
    async def remove(
        self,
        webhook_id: RowId,
        webhook_settings: NamedDependency[WebhookSettings],
        write_session: NamedDependency[WriteSession],
    ) -> None:
        """Nothing more is sent to it; messages not yet delivered are cancelled."""
        async with write_session.begin():
            await delete_webhook(write_session, _id(webhook_id), webhook_settings.clock.now())

    @get(
        "/{webhook_id:int}/deliveries", summary="Deliveries to a webhook receiver", responses=errors(403, 404)
    )
    async def list_deliveries(self, webhook_id: RowId, session: NamedDependency[ReadSession]) -> DeliveryList:
        """The latest 200 messages, newest first: `webhook_id` (the header, the same on every attempt),
        event, status (pending, delivered, failed after 24 hours of retries, cancelled), and each attempt
        with its time, the receiver's status code or the error, and the next retry."""
        return await deliveries(session, _id(webhook_id))

    @post(
        "/{webhook_id:int}/deliveries/{delivery_id:int}/retry",
        summary="Send a delivery again",
        status_code=200,
        responses=errors(403, 404, 409),
    )
    async def retry(
        self,
        webhook_id: RowId,
        delivery_id: RowId,
        webhook_settings: NamedDependency[WebhookSettings],
        write_session: NamedDependency[WriteSession],
    ) -> DeliveryPublic:
        """Queue the message again now, with the same `webhook-id` and a new 24-hour retry window."""
        async with write_session.begin():
            return await retry_delivery(
                write_session, _id(webhook_id), _id(delivery_id), webhook_settings.clock.now()
            )


def _id(value: int) -> int:
    """Ids beyond an integer column are simply not found."""
    return value if 0 < value <= MAX_ROW_ID else 0
