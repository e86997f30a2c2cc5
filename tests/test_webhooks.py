"""Webhooks: registering receivers safely, signed deliveries a Standard Webhooks library verifies, retries,
exactly-once delivery with several deliverers, reminders scheduled once, and nothing lost on SIGKILL."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import signal
import socket
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from apps import (
    FakeClock,
    Instance,
    free_port,
    http_client,
    prepare_database,
    running,
    server_process,
    wait_until_serving,
)
from receiver import Receiver, eventually, payloads
from test_quarterly_cycle import report_all
from wlbtrack.config import Settings
from wlbtrack.lib.clock import Clock

if TYPE_CHECKING:
    from conftest import MakeToken

PERIOD = "2025-Q3"
EVENTS = [
    "submission.submitted",
    "submission.approved",
    "submission.returned",
    "period.closed",
    "period.reopened",
    "deadline.approaching",
    "deadline.missed",
]


@asynccontextmanager
async def delivering(
    settings: Settings, token: str, clock: Clock | None = None, **overrides: Any
) -> AsyncIterator[tuple[Instance, httpx.AsyncClient]]:
    """An application with its deliverer running (loopback receivers allowed), and an admin client."""
    options = {"webhook_delivery": True, "webhook_allow_loopback": True, "webhook_poll_seconds": 0.05}
    async with (
        running(settings, clock=clock, **(options | overrides)) as instance,
        http_client(instance, token) as admin,
    ):
        yield instance, admin


async def register(admin: httpx.AsyncClient, receiver: Receiver, events: list[str] | None = None) -> int:
    response = await admin.post("/api/v1/webhooks", json={"url": receiver.url, "events": events or EVENTS})
    assert response.status_code == 201, response.text
    receiver.secret = response.json()["secret"]
    webhook_id: int = response.json()["id"]
    return webhook_id


async def recorded(admin: httpx.AsyncClient, webhook: int, attempts: int) -> Any:
    """The webhook's latest delivery once it records `attempts` attempts."""
    for _ in range(400):
        delivery = (await admin.get(f"/api/v1/webhooks/{webhook}/deliveries")).json()["items"][0]
        if len(delivery["attempts"]) >= attempts:
            return delivery
        await asyncio.sleep(0.05)
    raise AssertionError(f"{attempts} attempts not recorded")


async def settled(admin: httpx.AsyncClient, webhook: int) -> None:
    """Wait until no delivery of the webhook is pending."""
    for _ in range(400):
        items = (await admin.get(f"/api/v1/webhooks/{webhook}/deliveries")).json()["items"]
        if all(item["status"] != "pending" for item in items):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("deliveries still pending")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    started = await Receiver(free_port()).start()
    yield started
    await started.stop()


# --- the API --------------------------------------------------------------------------------------


async def test_register_list_get_delete_and_the_secret_is_shown_once(
    settings: Settings, make_token: MakeToken, receiver: Receiver
) -> None:
    async with delivering(settings, await make_token("admin", label="office")) as (_, admin):
        created = await admin.post(
            "/api/v1/webhooks",
            json={"url": receiver.url, "events": ["submission.submitted"], "description": "庁内チャット"},
        )
        assert created.status_code == 201
        body = created.json()
        assert body["secret"].startswith("whsec_")
        assert body["events"] == ["submission.submitted"]
        assert body["created_by"] == "office"
        listed = (await admin.get("/api/v1/webhooks")).json()
        assert listed["total"] == 1
        one = (await admin.get(f"/api/v1/webhooks/{body['id']}")).json()
        for shown in (
            listed["items"][0],
            one,
            (await admin.get(f"/api/v1/webhooks/{body['id']}/deliveries")).json(),
        ):
            assert body["secret"] not in json.dumps(shown)
        assert "secret" not in one
        assert (await admin.delete(f"/api/v1/webhooks/{body['id']}")).status_code == 204
        assert (await admin.get(f"/api/v1/webhooks/{body['id']}")).status_code == 404
        assert (await admin.delete(f"/api/v1/webhooks/{body['id']}")).status_code == 404
        assert (await admin.get("/api/v1/webhooks/99999999999")).status_code == 404


async def test_only_admins_manage_webhooks(make_token: MakeToken, settings: Settings) -> None:
    clerk_token = await make_token("department", department="children")
    async with running(settings) as instance, http_client(instance, clerk_token) as clerk:
        assert (await clerk.get("/api/v1/webhooks")).status_code == 403
        response = await clerk.post(
            "/api/v1/webhooks", json={"url": "https://example.org/h", "events": EVENTS}
        )
        assert response.status_code == 403


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://example.org/hook", "http and https"),
        ("file:///etc/passwd", "http and https"),
        ("http:///nohost", "no host"),
        ("http://169.254.169.254/latest/meta-data", "link-local or cloud metadata"),
        ("http://169.254.10.1/", "link-local or cloud metadata"),
        ("http://[fe80::1]/", "link-local or cloud metadata"),
        ("http://100.100.100.200/", "link-local or cloud metadata"),
        ("http://[fd00:ec2::254]/", "link-local or cloud metadata"),
        ("http://[::ffff:169.254.169.254]/", "link-local or cloud metadata"),
        ("http://metadata.google.internal/computeMetadata/v1/", "metadata host"),
        ("http://127.0.0.1:9/", "loopback"),
        ("http://[::1]/", "loopback"),
        ("http://localhost/", "loopback"),
        ("http://0.0.0.0/", "loopback"),
        ("http://\u2603.example/hook", "not a URL"),  # no IDNA spelling: the deliverer could never send it
        ("http://a..b.example/hook", "not a URL"),
        (f"http://{'a' * 64}.example.com/hook", "not a URL"),
    ],
)
async def test_unsafe_urls_are_refused(admin: httpx.AsyncClient, url: str, words: str) -> None:
    response = await admin.post("/api/v1/webhooks", json={"url": url, "events": EVENTS})
    assert response.status_code == 422, response.text
    assert response.json()["field"] == "url"
    assert words in response.json()["detail"]
    assert (await admin.get("/api/v1/webhooks")).json()["total"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {"url": "https://example.org/h", "events": []},
        {"url": "https://example.org/h", "events": ["report.created"]},
        {"url": "https://example.org/h"},
        {"events": EVENTS},
        {"url": "https://example.org/h", "events": EVENTS, "secret": "whsec_x"},
    ],
)
async def test_malformed_registrations_are_400(admin: httpx.AsyncClient, body: dict[str, Any]) -> None:
    response = await admin.post("/api/v1/webhooks", json=body)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_link_local_is_refused_even_with_loopback_allowed(
    settings: Settings, make_token: MakeToken
) -> None:
    async with delivering(settings, await make_token("admin")) as (_, admin):
        for url in ("http://169.254.169.254/", "http://metadata.google.internal/"):
            assert (
                await admin.post("/api/v1/webhooks", json={"url": url, "events": EVENTS})
            ).status_code == 422


# --- deliveries -------------------------------------------------------------------------------------


async def test_every_event_is_delivered_signed(
    settings: Settings, make_token: MakeToken, receiver: Receiver
) -> None:
    async with delivering(settings, await make_token("admin")) as (_, admin):
        await register(admin, receiver, EVENTS[:5])
        await report_all(admin, "children")
        base = f"/api/v1/periods/{PERIOD}/departments/children"
        assert (await admin.post(f"{base}/submit")).status_code == 200
        assert (await admin.post(f"{base}/approve")).status_code == 200
        assert (
            await admin.post(f"{base}/return", json={"comment": "根拠を追記してください"})
        ).status_code == 200
        assert (await admin.post(f"/api/v1/periods/{PERIOD}/close")).status_code == 200
        assert (await admin.post(f"/api/v1/periods/{PERIOD}/close")).status_code == 200  # no change, no event
        assert (await admin.post(f"/api/v1/periods/{PERIOD}/reopen")).status_code == 200
        await eventually(lambda: len(receiver.delivered()) >= 5, "five deliveries")
        received = payloads(receiver)
        assert all(r.verified is not None for r in receiver.received)
        assert sorted(p["type"] for p in received) == sorted(EVENTS[:5])
        by_type = {p["type"]: p for p in received}
        assert by_type["submission.returned"]["data"] == {
            "period": PERIOD,
            "department": "children",
            "state": "returned",
            "due": "2026-01-15",
            "comment": "根拠を追記してください",
        }
        assert by_type["submission.submitted"]["data"]["state"] == "submitted"
        assert "comment" not in by_type["submission.approved"]["data"]
        assert by_type["period.closed"]["data"]["state"] == "closed"
        assert by_type["period.reopened"]["data"]["state"] == "open"
        assert all(p["timestamp"].endswith("Z") for p in received)
        ids = [r.headers["webhook-id"] for r in receiver.received]
        assert len(set(ids)) == len(ids) == 5


REBINDING = "receiver.rebind.example"


def rebinding_dns(monkeypatch: pytest.MonkeyPatch, *first: str, then: str) -> list[str]:
    """Make REBINDING resolve to the `first` addresses, one per lookup, and to `then` after them; the
    addresses answered so far are returned (and grow)."""
    loop = asyncio.get_running_loop()
    resolve = loop.getaddrinfo
    answered: list[str] = []

    async def answer(host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        if host != REBINDING:
            return await resolve(host, port, *args, **kwargs)
        answered.append(address := first[len(answered)] if len(answered) < len(first) else then)
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

    monkeypatch.setattr(loop, "getaddrinfo", answer)
    return answered


async def delivery_by_name(admin: httpx.AsyncClient, receiver: Receiver) -> Any:
    """Register the receiver by the name REBINDING, close the period and wait for the first attempt."""
    url = f"http://{REBINDING}:{receiver.port}/hooks"
    created = await admin.post("/api/v1/webhooks", json={"url": url, "events": ["period.closed"]})
    assert created.status_code == 201
    receiver.secret = created.json()["secret"]
    assert (await admin.post(f"/api/v1/periods/{PERIOD}/close")).status_code == 200
    return await recorded(admin, created.json()["id"], 1)


async def test_a_delivery_connects_to_the_address_it_checked(
    settings: Settings, make_token: MakeToken, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the receiver's name answers a permitted address (loopback, allowed here) to its first
    two lookups and the cloud metadata address after that. Checking one answer and connecting by another
    lookup would reach the metadata address; the delivery goes to the address that was checked."""
    answered = rebinding_dns(monkeypatch, "127.0.0.1", "127.0.0.1", then="169.254.169.254")
    async with delivering(settings, await make_token("admin")) as (_, admin):
        delivery = await delivery_by_name(admin, receiver)
    assert delivery["status"] == "delivered", delivery
    assert len(receiver.delivered()) == 1
    assert answered == ["127.0.0.1", "127.0.0.1"]  # one at registration, one for the connection


async def test_a_receiver_name_that_turns_to_a_refused_address_gets_nothing(
    settings: Settings, make_token: MakeToken, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name that answered a permitted address at registration and a refused one at delivery: the
    attempt names the refused address and nothing is sent."""
    rebinding_dns(monkeypatch, "127.0.0.1", then="169.254.169.254")
    async with delivering(settings, await make_token("admin")) as (_, admin):
        delivery = await delivery_by_name(admin, receiver)
    assert "169.254.169.254 is a link-local or cloud metadata address" in delivery["attempts"][0]["error"]
    assert receiver.received == []


async def test_a_forged_signature_fails_verification(
    settings: Settings, make_token: MakeToken, receiver: Receiver
) -> None:
    async with delivering(settings, await make_token("admin")) as (_, admin):
        await register(admin, receiver, ["period.closed"])
        receiver.secret = "whsec_" + "QUJD" * 8  # not the one the service signs with
        assert (await admin.post(f"/api/v1/periods/{PERIOD}/close")).status_code == 200
        await eventually(lambda: receiver.received, "a delivery")
        assert receiver.received[0].verified is None


async def test_receiver_down_then_up_is_retried_and_delivered_once(
    settings: Settings, make_token: MakeToken
) -> None:
    clock = FakeClock()
    receiver = Receiver(free_port())  # not listening yet
    async with delivering(settings, await make_token("admin"), clock=clock) as (_, admin):
        webhook = await register(admin, receiver, ["period.closed"])
        assert (await admin.post(f"/api/v1/periods/{PERIOD}/close")).status_code == 200

        async def attempts() -> list[Any]:
            items = (await admin.get(f"/api/v1/webhooks/{webhook}/deliveries")).json()["items"]
            return list(items[0]["attempts"]) if items else []

        failed: list[Any] = []
        while not failed:  # the first attempt fails: nothing listens
            failed = await attempts()
            await asyncio.sleep(0.05)
        assert failed[0]["status_code"] is None
        assert "ConnectError" in failed[0]["error"]
        assert failed[0]["next_retry"] is not None
        await receiver.start()
        receiver.status = 503
        clock.advance(5)  # the first retry is due 5 s after the failure
        await eventually(lambda: receiver.received, "the retry")
        receiver.status = 200
        clock.advance(10)  # then 10 s
        await eventually(lambda: receiver.delivered(), "the delivery")
        clock.advance(60)  # (receivers check webhook-timestamp is within 5 minutes of their own clock)
        await asyncio.sleep(0.3)  # a few more polls: nothing more is sent
        try:
            assert len(receiver.received) == 2
            assert len(receiver.delivered()) == 1
            assert receiver.received[0].headers["webhook-id"] == receiver.received[1].headers["webhook-id"]
            delivery = (await admin.get(f"/api/v1/webhooks/{webhook}/deliveries")).json()["items"][0]
            assert delivery["status"] == "delivered"
            assert [a["status_code"] for a in delivery["attempts"]] == [None, 503, 200]
            assert delivery["attempts"][-1]["next_retry"] is None

            retried = await admin.post(f"/api/v1/webhooks/{webhook}/deliveries/{delivery['id']}/retry")
            assert retried.status_code == 200
            assert retried.json()["status"] == "pending"
            await eventually(lambda: len(receiver.delivered()) == 2, "the manual retry")
            assert receiver.received[2].headers["webhook-id"] == delivery["webhook_id"]
            assert (
                await admin.post(f"/api/v1/webhooks/{webhook}/deliveries/999999/retry")
            ).status_code == 404
        finally:
            await receiver.stop()


async def test_gives_up_after_24_hours(settings: Settings, make_token: MakeToken, receiver: Receiver) -> None:
    clock = FakeClock()
    receiver.status = 500
    async with delivering(settings, await make_token("admin"), clock=clock) as (_, admin):
        webhook = await register(admin, receiver, ["period.closed"])
        assert (await admin.post(f"/api/v1/periods/{PERIOD}/close")).status_code == 200
        seen = 0
        for _ in range(40):
            await eventually(lambda c=seen: len(receiver.received) > c or None, "an attempt")  # type: ignore[misc]
            seen = len(receiver.received)
            delivery = await recorded(admin, webhook, seen)
            if delivery["status"] == "failed":
                break
            clock.advance(3601)  # beyond the longest wait between attempts (an hour)
        assert delivery["status"] == "failed"
        assert delivery["attempts"][-1]["next_retry"] is None
        assert 10 < len(receiver.received) < 40


async def test_two_deliverers_deliver_each_event_once(
    settings: Settings, make_token: MakeToken, receiver: Receiver
) -> None:
    token = await make_token("admin")
    async with (
        delivering(settings, token) as (_, admin),
        delivering(settings, token) as (_, _other),
    ):
        await register(admin, receiver, ["period.closed", "period.reopened"])
        for code in ("2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4", "2025-Q1"):
            for _ in range(4):
                assert (await admin.post(f"/api/v1/periods/{code}/close")).status_code == 200
                assert (await admin.post(f"/api/v1/periods/{code}/reopen")).status_code == 200
        await eventually(lambda: len(receiver.delivered()) >= 40, "forty deliveries")
        await asyncio.sleep(0.3)
        ids = Counter(r.headers["webhook-id"] for r in receiver.received)
        assert len(ids) == 40
        assert set(ids.values()) == {1}


async def test_reminders_are_scheduled_once_per_period_department_and_event(
    settings: Settings, make_token: MakeToken, receiver: Receiver
) -> None:
    # 2026-07-13 in Tokyo: 2026-Q1 is due on 07-15 (approaching, 3 days), 2025-Q4 was due 04-15 (missed)
    clock = FakeClock(datetime(2026, 7, 13, 3, 0, tzinfo=UTC))
    token = await make_token("admin")
    async with delivering(settings, token, clock=FakeClock(clock.wall), webhook_delivery=False) as (_, admin):
        webhook = await register(admin, receiver, ["deadline.approaching", "deadline.missed"])
        await report_all(admin, "children", period="2026-Q1")
        assert (await admin.post("/api/v1/periods/2026-Q1/departments/children/submit")).status_code == 200
    async with (
        delivering(settings, token, clock=clock) as (_, admin_client),
        delivering(settings, token, clock=clock),
    ):
        await eventually(lambda: len(receiver.delivered()) >= 17, "the reminders")
        await asyncio.sleep(0.3)
        keys = Counter((p["type"], p["data"]["period"], p["data"]["department"]) for p in payloads(receiver))
        assert set(keys.values()) == {1}
        assert sorted({(event, period) for event, period, _ in keys}) == [
            ("deadline.approaching", "2026-Q1"),
            ("deadline.missed", "2025-Q4"),
        ]
        approaching = {department for event, _, department in keys if event == "deadline.approaching"}
        assert len(approaching) == 8
        assert "children" not in approaching  # already submitted
        assert sum(1 for event, _, _ in keys if event == "deadline.missed") == 9

        await settled(admin_client, webhook)  # the deliverers have recorded every delivery
        clock.advance(3 * 86400)  # 2026-07-16: 2026-Q1 is past due
        await eventually(lambda: len(receiver.delivered()) >= 25, "the missed reminders")
        await asyncio.sleep(0.3)
        keys = Counter((p["type"], p["data"]["period"], p["data"]["department"]) for p in payloads(receiver))
        assert [key for key, count in keys.items() if count > 1] == []
        missed = {d for event, period, d in keys if event == "deadline.missed" and period == "2026-Q1"}
        assert len(missed) == 8
        sample = next(p for p in payloads(receiver) if p["type"] == "deadline.missed")
        assert set(sample["data"]) == {"period", "department", "state", "due"}


# --- nothing lost when `serve` is killed ---------------------------------------------------------------


async def test_an_event_committed_before_sigkill_is_delivered_after_restart(
    settings: Settings, tmp_path: Path, receiver: Receiver
) -> None:
    local = dataclasses.replace(settings, database_url=f"sqlite+aiosqlite:///{tmp_path / 'wlbtrack.db'}")
    token = await prepare_database(local, role="admin")
    port, log = free_port(), tmp_path / "stderr.log"
    headers = {"Authorization": f"Bearer {token}"}
    env = {"WLBTRACK_WEBHOOK_ALLOW_LOOPBACK": "1", "WLBTRACK_WEBHOOK_POLL_SECONDS": "0.1"}
    # the first server commits the transition and is killed before its deliverer may send anything
    with server_process(local.database_url, port, log, **env, WLBTRACK_WEBHOOK_DELIVERY="off") as process:
        await wait_until_serving(port, process)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers) as http:
            await register(http, receiver, ["period.closed"])
            assert (await http.post(f"/api/v1/periods/{PERIOD}/close")).status_code == 200
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert receiver.received == []
    with server_process(local.database_url, port, log, **env, WLBTRACK_WEBHOOK_DELIVERY="on"):
        await eventually(lambda: receiver.delivered(), "the delivery after the restart")
        await asyncio.sleep(0.3)
        assert len(receiver.received) == 1
        assert payloads(receiver)[0]["type"] == "period.closed"
