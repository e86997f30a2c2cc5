"""Webhook receivers, the transactional outbox and its deliverer.

A change that causes an event calls `emit` in its own transaction: one outbox row (`webhook_message`) per
subscribed receiver, so the event is stored exactly when the change is. The deliverer (one per serving
process) claims due rows under a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite's write
transactions are serial), POSTs them signed per Standard Webhooks with a 10 s timeout, marks 2xx
delivered, and retries anything else with exponential backoff until 24 hours after the event, always with
the same `webhook-id`. A process killed mid-delivery leaves its lease to expire; another claims the row.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ipaddress
import logging
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx
import msgspec
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks import Webhook

from wlbtrack.db import Database, WriteSession
from wlbtrack.domain.webhooks.models import ATTEMPT, MESSAGE, REMINDER, WEBHOOK
from wlbtrack.domain.webhooks.schemas import (
    AttemptPublic,
    DeliveryList,
    DeliveryPublic,
    WebhookCreated,
    WebhookIn,
    WebhookList,
    WebhookPublic,
)
from wlbtrack.lib.clock import Clock
from wlbtrack.lib.errors import ProblemError
from wlbtrack.lib.i18n import Msg
from wlbtrack.lib.structs import from_attributes
from wlbtrack.lib.tables import insert

log = logging.getLogger(__name__)

RETRY_WINDOW = timedelta(hours=24)
FIRST_RETRY = 5.0  # seconds; doubled after each failed attempt
LONGEST_RETRY = 3600.0
TIMEOUT = 10.0
LEASE = timedelta(seconds=60)  # longer than a POST may take
BATCH = 20
METADATA_HOSTS = frozenset(
    {"metadata.google.internal", "metadata.goog", "metadata", "instance-data", "instance-data.ec2.internal"}
)
REFUSED_NETWORKS = tuple(
    ipaddress.ip_network(network)
    for network in ("169.254.0.0/16", "fe80::/10", "100.100.100.200/32", "fd00:ec2::254/128")
)


# --- which URLs may receive -----------------------------------------------------------------------


class UnsafeUrl(ValueError):
    """A URL webhooks are never sent to; `message` says why (str(exc) reads `url: why`, in English)."""

    def __init__(self, message: Msg) -> None:
        super().__init__(f"url: {message}")
        self.message = message


class Unresolvable(UnsafeUrl):
    """A host that does not resolve (now)."""


def _check_address(address: str, allow_loopback: bool) -> None:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in network for network in REFUSED_NETWORKS):
        raise UnsafeUrl(Msg("{ip} is a link-local or cloud metadata address", ip=str(ip)))
    if (ip.is_loopback or ip.is_unspecified) and not allow_loopback:
        raise UnsafeUrl(Msg("{ip} is a loopback address", ip=str(ip)))


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def _host_and_port(url: str, allow_loopback: bool) -> tuple[str, int]:
    """The URL's host and port, if its form is acceptable: http(s), a host, not a metadata name or address."""
    try:
        parts = urlsplit(url)
        port = parts.port
        httpx.URL(url)  # as the deliverer will send it (a name it cannot spell in IDNA is not a URL)
        (parts.hostname or "").encode("idna")  # labels of 1 to 63 characters, as name lookups need
    except (ValueError, httpx.InvalidURL) as exc:
        raise UnsafeUrl(Msg("not a URL ({reason})", reason=str(exc))) from exc
    if parts.scheme not in ("http", "https"):
        raise UnsafeUrl(Msg("only http and https URLs are accepted"))
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise UnsafeUrl(Msg("the URL has no host"))
    if host in METADATA_HOSTS:
        raise UnsafeUrl(Msg("{host} is a cloud metadata host", host=host))
    if _is_address(host):
        _check_address(host, allow_loopback)
    return host, port or (443 if parts.scheme == "https" else 80)


async def _safe_addresses(host: str, port: int, allow_loopback: bool) -> list[str]:
    """Every address `host` resolves to now, each checked (UnsafeUrl for any refused one)."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise Unresolvable(Msg("{host} does not resolve ({reason})", host=host, reason=str(exc))) from exc
    addresses = [str(info[4][0]) for info in infos]
    for address in addresses:
        _check_address(address, allow_loopback)
    return addresses


async def check_url(url: str, allow_loopback: bool) -> None:
    """Refuse unsafe URLs: their form, and every address the host resolves to now (a host that does not
    resolve yet is checked at each delivery, by CheckedConnections)."""
    host, port = _host_and_port(url, allow_loopback)
    with contextlib.suppress(Unresolvable):
        await _safe_addresses(host, port, allow_loopback)


class CheckedConnections(httpcore.AnyIOBackend):
    """Connects a delivery only to an address it has just checked: the host is resolved here, every
    address is checked, and the connection goes to a checked address itself, so no second lookup (which a
    DNS answer could turn to a refused address: DNS rebinding) happens in between. TLS still verifies the
    URL's host name."""

    def __init__(self, allow_loopback: bool) -> None:
        self.allow_loopback = allow_loopback

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109  (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await _safe_addresses(host, port, self.allow_loopback)
        # one timeout for all the addresses, on the machine's clock as sockets time out
        deadline = None if timeout is None else time.monotonic() + timeout
        for address in addresses[:-1]:
            left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            with contextlib.suppress(httpcore.ConnectError, httpcore.ConnectTimeout):
                return await super().connect_tcp(address, port, left, local_address, socket_options)
        left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
        return await super().connect_tcp(addresses[-1], port, left, local_address, socket_options)


def delivery_transport(allow_loopback: bool) -> httpx.AsyncHTTPTransport:
    """httpx's transport with its connections made by CheckedConnections.

    httpx takes no network backend (encode/httpx#3749 adds one), so the transport's connection pool is
    replaced by one built as httpx builds it (its default limits, certificate checks) with that backend.
    """
    transport = httpx.AsyncHTTPTransport(trust_env=False)
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False),
        max_connections=100,
        max_keepalive_connections=20,
        keepalive_expiry=5.0,
        network_backend=CheckedConnections(allow_loopback),
    )
    return transport


@dataclass(frozen=True)
class WebhookSettings:
    """What the webhook API needs of the configuration: loopback receivers allowed, and the clock."""

    allow_loopback: bool
    clock: Clock


# --- receivers ------------------------------------------------------------------------------------


def new_secret() -> str:
    """A Standard Webhooks signing secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


_PUBLIC = (
    WEBHOOK.c.id,
    WEBHOOK.c.url,
    WEBHOOK.c.events,
    WEBHOOK.c.description,
    WEBHOOK.c.created_at,
    WEBHOOK.c.created_by,
)


def _public(row: Any) -> WebhookPublic:
    return WebhookPublic(
        id=row.id,
        url=row.url,
        events=row.events.split(),
        description=row.description,
        created_at=row.created_at,
        created_by=row.created_by,
    )


async def create_webhook(
    session: WriteSession, body: WebhookIn, created_by: str, now: datetime, allow_loopback: bool
) -> WebhookCreated:
    """Register a receiver (422 naming `url` when it is not a safe http(s) URL)."""
    try:
        await check_url(body.url, allow_loopback)
    except UnsafeUrl as exc:
        raise ProblemError(422, exc.message, field="url") from exc
    events = list(dict.fromkeys(body.events))
    secret = new_secret()
    row = await session.execute(
        WEBHOOK.insert()
        .values(
            url=body.url,
            events=" ".join(events),
            description=body.description,
            secret=secret,
            created_at=now,
            created_by=created_by,
        )
        .returning(*_PUBLIC)
    )
    public = _public(row.one())
    return WebhookCreated(**msgspec.structs.asdict(public), secret=secret)


async def list_webhooks(session: AsyncSession) -> WebhookList:
    """Every registered receiver, oldest first."""
    rows = await session.execute(
        select(*_PUBLIC).where(WEBHOOK.c.deleted_at.is_(None)).order_by(WEBHOOK.c.id)
    )
    items = [_public(row) for row in rows]
    return WebhookList(items=items, total=len(items))


async def get_webhook(session: AsyncSession, webhook_id: int) -> WebhookPublic:
    """One receiver; 404 when unknown or deleted."""
    row = (
        await session.execute(
            select(*_PUBLIC).where(WEBHOOK.c.id == webhook_id, WEBHOOK.c.deleted_at.is_(None))
        )
    ).first()
    if row is None:
        raise ProblemError(404, Msg("no webhook with id {id}", id=webhook_id), field="id")
    return _public(row)


async def delete_webhook(session: WriteSession, webhook_id: int, now: datetime) -> None:
    """Stop sending to a receiver; its undelivered messages are cancelled, its history kept."""
    await get_webhook(session, webhook_id)
    await session.execute(update(WEBHOOK).where(WEBHOOK.c.id == webhook_id).values(deleted_at=now))
    await session.execute(
        update(MESSAGE)
        .where(MESSAGE.c.webhook_id == webhook_id, MESSAGE.c.status == "pending")
        .values(status="cancelled", next_attempt_at=None)
    )


async def deliveries(session: AsyncSession, webhook_id: int, delivery_id: int | None = None) -> DeliveryList:
    """The receiver's messages (or one), newest first, each with its attempts oldest first."""
    await get_webhook(session, webhook_id)
    query = select(MESSAGE).where(MESSAGE.c.webhook_id == webhook_id).order_by(MESSAGE.c.id.desc())
    if delivery_id is not None:
        query = query.where(MESSAGE.c.id == delivery_id)
    messages = list(await session.execute(query.limit(200)))
    attempts: dict[int, list[AttemptPublic]] = {}
    if messages:
        rows = await session.execute(
            select(ATTEMPT).where(ATTEMPT.c.message_id.in_([m.id for m in messages])).order_by(ATTEMPT.c.id)
        )
        for row in rows:
            attempts.setdefault(row.message_id, []).append(from_attributes(AttemptPublic, row))
    items = [
        from_attributes(DeliveryPublic, m, webhook_id=m.message_id, attempts=attempts.get(m.id, []))
        for m in messages
    ]
    return DeliveryList(items=items, total=len(items))


async def retry_delivery(
    session: WriteSession, webhook_id: int, delivery_id: int, now: datetime
) -> DeliveryPublic:
    """Send a message again soon (same `webhook-id`), with a fresh 24-hour retry window."""
    found = await deliveries(session, webhook_id, delivery_id)
    if not found.items:
        raise ProblemError(
            404,
            Msg("no delivery {delivery} of webhook {webhook}", delivery=delivery_id, webhook=webhook_id),
            field="delivery_id",
        )
    await session.execute(
        update(MESSAGE)
        .where(MESSAGE.c.id == delivery_id)
        .values(status="pending", next_attempt_at=now, give_up_at=now + RETRY_WINDOW, lease_until=None)
    )
    return (await deliveries(session, webhook_id, delivery_id)).items[0]


# --- the outbox ------------------------------------------------------------------------------------


async def emit(session: WriteSession, event: str, data: dict[str, Any], now: datetime) -> int:
    """Store the event for every receiver subscribed to it, in the caller's transaction; how many."""
    rows = await session.execute(select(WEBHOOK.c.id, WEBHOOK.c.events).where(WEBHOOK.c.deleted_at.is_(None)))
    targets = [webhook_id for webhook_id, events in rows if event in events.split()]
    if not targets:
        return 0
    timestamp = now.isoformat().replace("+00:00", "Z")
    payload = msgspec.json.encode({"type": event, "timestamp": timestamp, "data": data}).decode("utf-8")
    await session.execute(
        MESSAGE.insert(),
        [
            {
                "webhook_id": webhook_id,
                "message_id": f"msg_{secrets.token_hex(16)}",
                "event": event,
                "payload": payload,
                "status": "pending",
                "created_at": now,
                "next_attempt_at": now,
                "give_up_at": now + RETRY_WINDOW,
                "attempts": 0,
            }
            for webhook_id in targets
        ],
    )
    return len(targets)


async def claim_reminder(
    session: WriteSession, period: str, department_id: int, event: str, now: datetime
) -> bool:
    """Take the unique key of a reminder; False when some worker already scheduled it."""
    result = await session.execute(
        insert(session, REMINDER)
        .values(period=period, department_id=department_id, event=event, scheduled_at=now)
        .on_conflict_do_nothing(index_elements=["period", "department_id", "event"])
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def scheduled_reminders(session: AsyncSession, periods: Sequence[str]) -> set[tuple[str, int, str]]:
    """The reminder keys already taken for the periods."""
    rows = await session.execute(
        select(REMINDER.c.period, REMINDER.c.department_id, REMINDER.c.event).where(
            REMINDER.c.period.in_(periods)
        )
    )
    return {(period, department_id, event) for period, department_id, event in rows}


def backoff(attempts: int) -> timedelta:
    """The wait after the n-th failed attempt: 5 s, 10 s, 20 s, … at most an hour."""
    return timedelta(seconds=min(FIRST_RETRY * 2 ** (attempts - 1), LONGEST_RETRY))


class Deliverer:
    """Delivers due outbox rows while the application runs; `before_tick` schedules reminders."""

    def __init__(
        self,
        database: Database,
        clock: Clock,
        poll_seconds: float,
        allow_loopback: bool,
        before_tick: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self.database = database
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.allow_loopback = allow_loopback
        self.before_tick = before_tick
        self._task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None

    def start(self) -> None:
        """Run in the background until `stop`."""
        self._client = httpx.AsyncClient(
            transport=delivery_transport(self.allow_loopback),
            timeout=TIMEOUT,
            follow_redirects=False,
            trust_env=False,
        )
        self._task = asyncio.create_task(self._run(), name="webhook-deliverer")

    async def stop(self) -> None:
        """Stop delivering (a claimed row's lease expires and another process takes it)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _run(self) -> None:
        while True:
            try:
                if self.before_tick is not None:
                    await self.before_tick()
                while await self.deliver_due():
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("webhook delivery failed; trying again")
            await asyncio.sleep(self.poll_seconds)

    async def deliver_due(self) -> int:
        """Claim the due messages and POST each; how many were claimed."""
        claimed = await self._claim()
        await asyncio.gather(*(self._deliver(row) for row in claimed))
        return len(claimed)

    async def _claim(self) -> list[Any]:
        now = self.clock.now()
        async with self.database.write_sessions() as session, session.begin():
            query = (
                select(
                    MESSAGE.c.id,
                    MESSAGE.c.message_id,
                    MESSAGE.c.payload,
                    MESSAGE.c.attempts,
                    MESSAGE.c.give_up_at,
                    WEBHOOK.c.url,
                    WEBHOOK.c.secret,
                )
                .join(WEBHOOK, WEBHOOK.c.id == MESSAGE.c.webhook_id)
                .where(
                    MESSAGE.c.status == "pending",
                    MESSAGE.c.next_attempt_at <= now,
                    or_(MESSAGE.c.lease_until.is_(None), MESSAGE.c.lease_until < now),
                )
                .order_by(MESSAGE.c.next_attempt_at, MESSAGE.c.id)
                .limit(BATCH)
            )
            if session.bind is not None and session.bind.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True, of=MESSAGE)
            rows = list(await session.execute(query))
            if rows:
                await session.execute(
                    update(MESSAGE)
                    .where(MESSAGE.c.id.in_([row.id for row in rows]))
                    .values(lease_until=now + LEASE)
                )
        return rows

    async def _deliver(self, row: Any) -> None:
        assert self._client is not None
        at = self.clock.now()
        status_code: int | None = None
        error: str | None = None
        try:
            # the machine's time, not the injected clock: receivers compare webhook-timestamp with theirs
            signed_at = datetime.now(UTC)
            signature = Webhook(row.secret).sign(row.message_id, signed_at, row.payload)
            response = await self._client.post(
                row.url,
                content=row.payload.encode("utf-8"),
                headers={
                    "content-type": "application/json",
                    "webhook-id": row.message_id,
                    "webhook-timestamp": str(int(signed_at.timestamp())),
                    "webhook-signature": signature,
                    "user-agent": "wlbtrack-webhooks",
                },
            )
            status_code = response.status_code
        except UnsafeUrl as exc:
            error = str(exc)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            error = f"{type(exc).__name__}: {exc}"[:500] or type(exc).__name__
        delivered = status_code is not None and 200 <= status_code < 300
        attempts = row.attempts + 1
        next_retry = None if delivered else at + backoff(attempts)
        if next_retry is not None and next_retry > row.give_up_at:
            next_retry = None
        status = "delivered" if delivered else ("pending" if next_retry is not None else "failed")
        async with self.database.write_sessions() as session, session.begin():
            await session.execute(
                ATTEMPT.insert().values(
                    message_id=row.id, at=at, status_code=status_code, error=error, next_retry=next_retry
                )
            )
            await session.execute(
                update(MESSAGE)
                .where(MESSAGE.c.id == row.id)
                .values(
                    status=status,
                    attempts=attempts,
                    next_attempt_at=next_retry,
                    lease_until=None,
                    delivered_at=at if delivered else None,
                )
            )
