"""The quarterly cycle: due dates, each department's quarter (open → submitted → approved, or → returned),
the 409 for a department's own writes while it is submitted or approved, and on-time at the Tokyo day end."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from apps import clocked
from sheets import REPORT_KEYS, csv_file, report_row, upload
from wlbtrack.config import Settings

if TYPE_CHECKING:
    from conftest import MakeClient, MakeToken

PERIOD = "2025-Q3"  # due 2026-01-15 by default; long past on the machine's clock
DEPARTMENT = "children"
LOCKED = f"period: {DEPARTMENT}'s {PERIOD} is submitted; ask the plan office to return it before changing it"


async def guidelines_of(client: httpx.AsyncClient, department: str) -> list[str]:
    """The guidelines a department is responsible for, in plan order."""
    body = (await client.get(f"/api/v1/departments/{department}")).json()
    return [guideline["code"] for guideline in body["guidelines"]]


async def report_all(
    client: httpx.AsyncClient, department: str, period: str = PERIOD, skip: int = 0
) -> list[str]:
    """Post a report on every guideline of the department but the last `skip`; the codes it owes."""
    codes = await guidelines_of(client, department)
    kept = codes[: len(codes) - skip]
    response = await client.post(
        "/api/v1/submissions",
        json={
            "period": period,
            "department": department,
            "reports": [{"guideline": code, "status": "on_track", "summary": "順調です。"} for code in kept],
        },
    )
    assert response.status_code == 201, response.text
    return codes[len(kept) :]


def quarter_url(action: str, department: str = DEPARTMENT, period: str = PERIOD) -> str:
    return f"/api/v1/periods/{period}/departments/{department}/{action}"


async def quarter(client: httpx.AsyncClient, department: str = DEPARTMENT, period: str = PERIOD) -> Any:
    """The department's item in GET /periods/{code}/departments."""
    body = (await client.get(f"/api/v1/periods/{period}/departments")).json()
    assert body["total"] == len(body["items"]) == 9
    return next(item for item in body["items"] if item["department"] == department)


@pytest.fixture
async def clerk(make_client: MakeClient) -> httpx.AsyncClient:
    """A department token of children."""
    return await make_client("department", department=DEPARTMENT, label="children-clerk")


@pytest.fixture
async def office(make_client: MakeClient) -> httpx.AsyncClient:
    """An admin token of the plan office."""
    return await make_client("admin", label="plan-office")


# --- deadlines ----------------------------------------------------------------------------------


async def test_due_is_15_days_after_the_quarter_unless_an_admin_sets_it(
    viewer: httpx.AsyncClient, office: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    items = (await viewer.get("/api/v1/periods", params={"fiscal_year": 2025})).json()["items"]
    assert [item["due"] for item in items] == ["2025-07-15", "2025-10-15", "2026-01-15", "2026-04-15"]

    response = await office.put(f"/api/v1/periods/{PERIOD}/deadline", json={"due": "2026-01-20"})
    assert response.status_code == 200, response.text
    assert response.json()["due"] == "2026-01-20"
    assert (await viewer.get(f"/api/v1/periods/{PERIOD}")).json()["due"] == "2026-01-20"
    assert (await quarter(viewer))["due"] == "2026-01-20"

    assert (
        await clerk.put(f"/api/v1/periods/{PERIOD}/deadline", json={"due": "2026-01-21"})
    ).status_code == 403
    before_start = await office.put(f"/api/v1/periods/{PERIOD}/deadline", json={"due": "2025-09-30"})
    assert before_start.status_code == 422
    assert before_start.json()["field"] == "due"
    for bad in ({"due": "2026-02-30"}, {"due": 5}, {}, {"due": "2026-01-20", "x": 1}):
        response = await office.put(f"/api/v1/periods/{PERIOD}/deadline", json=bad)
        assert response.status_code == 400, (bad, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    assert (await viewer.get(f"/api/v1/periods/{PERIOD}")).json()["due"] == "2026-01-20"


# --- transitions ------------------------------------------------------------------------------


async def test_submit_needs_a_report_on_every_responsible_guideline(
    admin: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    missing = await report_all(admin, DEPARTMENT, skip=2)
    response = await clerk.post(quarter_url("submit"))
    assert response.status_code == 422
    body = response.json()
    assert [error["guideline"] for error in body["errors"]] == missing
    assert all(code in body["detail"] for code in missing)
    assert (await quarter(clerk))["missing"] == missing
    assert (await quarter(clerk))["state"] == "open"


async def test_the_whole_cycle_with_history(
    admin: httpx.AsyncClient, office: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    await report_all(admin, DEPARTMENT)
    listed = await quarter(clerk)
    assert listed == {
        "department": DEPARTMENT,
        "state": "open",
        "due": "2026-01-15",
        "submitted_at": None,
        "on_time": None,
        "decided_at": None,
        "decided_by": None,
        "comment": None,
        "missing": [],
    }

    submitted = await clerk.post(quarter_url("submit"))
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["state"] == "submitted"
    assert submitted.json()["on_time"] is False  # 2025-Q3 was due 2026-01-15, long ago
    assert (await office.post(quarter_url("approve"))).json()["state"] == "approved"

    returned = await office.post(quarter_url("return"), json={"comment": "数値の根拠を追記してください。"})
    assert returned.status_code == 200, returned.text
    assert returned.json()["state"] == "returned"
    assert returned.json()["comment"] == "数値の根拠を追記してください。"
    assert returned.json()["decided_by"] == "plan-office"

    assert (await clerk.post(quarter_url("submit"))).json()["state"] == "submitted"
    assert (await office.post(quarter_url("return"), json={"comment": "再確認"})).status_code == 200
    assert (await clerk.post(quarter_url("submit"))).status_code == 200
    assert (await office.post(quarter_url("approve"))).json()["state"] == "approved"

    history = (await clerk.get(f"/api/v1/periods/{PERIOD}/departments/{DEPARTMENT}/history")).json()
    assert history["total"] == 7
    assert [
        (h["action"], h["from_state"], h["to_state"], h["by"], h["comment"]) for h in history["items"]
    ] == [
        ("submit", "open", "submitted", "children-clerk", None),
        ("approve", "submitted", "approved", "plan-office", None),
        ("return", "approved", "returned", "plan-office", "数値の根拠を追記してください。"),
        ("submit", "returned", "submitted", "children-clerk", None),
        ("return", "submitted", "returned", "plan-office", "再確認"),
        ("submit", "returned", "submitted", "children-clerk", None),
        ("approve", "submitted", "approved", "plan-office", None),
    ]
    times = [h["at"] for h in history["items"]]
    assert times == sorted(times)


@pytest.mark.parametrize(
    ("steps", "action", "state"),
    [
        ([], "approve", "open"),
        ([], "return", "open"),
        (["submit"], "submit", "submitted"),
        (["submit", "approve"], "submit", "approved"),
        (["submit", "approve"], "approve", "approved"),
        (["submit", "return"], "approve", "returned"),
        (["submit", "return"], "return", "returned"),
    ],
)
async def test_any_other_transition_is_409_naming_the_state(
    admin: httpx.AsyncClient, steps: list[str], action: str, state: str
) -> None:
    await report_all(admin, DEPARTMENT)
    for step in steps:
        body = {"comment": "やり直し"} if step == "return" else None
        assert (await admin.post(quarter_url(step), json=body)).status_code == 200
    body = {"comment": "やり直し"} if action == "return" else None
    response = await admin.post(quarter_url(action), json=body)
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    assert f"{PERIOD} is {state}" in response.json()["detail"]
    assert (await quarter(admin))["state"] == state


async def test_who_may_move_a_quarter(
    admin: httpx.AsyncClient, clerk: httpx.AsyncClient, viewer: httpx.AsyncClient, make_client: MakeClient
) -> None:
    await report_all(admin, DEPARTMENT)
    other = await make_client("department", department="health-center")
    assert (await other.post(quarter_url("submit"))).status_code == 403
    assert (await viewer.post(quarter_url("submit"))).status_code == 403
    assert (await clerk.post(quarter_url("submit"))).status_code == 200
    assert (await clerk.post(quarter_url("approve"))).status_code == 403
    assert (await clerk.post(quarter_url("return"), json={"comment": "x"})).status_code == 403
    assert (await viewer.post(quarter_url("approve"))).status_code == 403
    assert (await quarter(viewer))["state"] == "submitted"
    assert (await admin.post(quarter_url("submit", department="no-such"))).status_code == 404
    assert (await admin.get(f"/api/v1/periods/{PERIOD}/departments/no-such/history")).status_code == 404
    assert (await admin.post(quarter_url("submit", period="2025-Q9"))).status_code == 404
    assert (await admin.post(quarter_url("submit", period="2099-Q1"))).status_code == 422


@pytest.mark.parametrize(
    "body",
    [{}, {"comment": ""}, {"comment": "   "}, {"comment": "x" * 2001}, {"comment": "a\x00b"}, {"comment": 3}],
)
async def test_return_needs_a_comment_of_1_to_2000_characters(
    admin: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    await report_all(admin, DEPARTMENT)
    assert (await admin.post(quarter_url("submit"))).status_code == 200
    response = await admin.post(quarter_url("return"), json=body)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == "comment"
    assert (await quarter(admin))["state"] == "submitted"
    longest = await admin.post(quarter_url("return"), json={"comment": "字" * 2000})
    assert longest.status_code == 200


async def test_a_closed_period_refuses_transitions_until_reopened(admin: httpx.AsyncClient) -> None:
    await report_all(admin, DEPARTMENT)
    assert (await admin.post(f"/api/v1/periods/{PERIOD}/close")).status_code == 200
    response = await admin.post(quarter_url("submit"))
    assert response.status_code == 409
    assert "closed" in response.json()["detail"]
    assert (await admin.post(f"/api/v1/periods/{PERIOD}/reopen")).status_code == 200
    assert (await admin.post(quarter_url("submit"))).status_code == 200
    # closing keeps the states
    assert (await admin.post(f"/api/v1/periods/{PERIOD}/close")).status_code == 200
    assert (await quarter(admin))["state"] == "submitted"
    assert (await admin.post(quarter_url("approve"))).status_code == 409


async def test_concurrent_approve_and_return_never_move_from_the_same_state(
    admin: httpx.AsyncClient, make_client: MakeClient
) -> None:
    await report_all(admin, DEPARTMENT)
    assert (await admin.post(quarter_url("submit"))).status_code == 200
    first, second = await make_client("admin"), await make_client("admin")
    responses = await asyncio.gather(
        first.post(quarter_url("approve")), second.post(quarter_url("return"), json={"comment": "戻します"})
    )
    history = (await admin.get(f"/api/v1/periods/{PERIOD}/departments/{DEPARTMENT}/history")).json()
    moves = [(item["action"], item["from_state"]) for item in history["items"][1:]]
    # approve then return is a valid sequence (return is allowed from approved); return then approve is not
    if responses[1].status_code == 200 and responses[0].status_code == 200:
        assert moves == [("approve", "submitted"), ("return", "approved")]
    else:
        assert [r.status_code for r in responses] == [409, 200]
        assert moves == [("return", "submitted")]
        assert "is returned" in responses[0].json()["detail"]


async def test_concurrent_returns_exactly_one_wins(admin: httpx.AsyncClient, make_client: MakeClient) -> None:
    await report_all(admin, DEPARTMENT)
    assert (await admin.post(quarter_url("submit"))).status_code == 200
    racers = [await make_client("admin") for _ in range(3)]
    responses = await asyncio.gather(
        *(racer.post(quarter_url("return"), json={"comment": f"戻し{n}"}) for n, racer in enumerate(racers))
    )
    assert sorted(r.status_code for r in responses) == [200, 409, 409]
    history = (await admin.get(f"/api/v1/periods/{PERIOD}/departments/{DEPARTMENT}/history")).json()
    assert [item["action"] for item in history["items"]] == ["submit", "return"]


async def test_concurrent_approvals_exactly_one_wins(
    admin: httpx.AsyncClient, make_client: MakeClient
) -> None:
    await report_all(admin, DEPARTMENT)
    assert (await admin.post(quarter_url("submit"))).status_code == 200
    racers = [await make_client("admin") for _ in range(4)]
    responses = await asyncio.gather(*(racer.post(quarter_url("approve")) for racer in racers))
    assert sorted(r.status_code for r in responses) == [200, 409, 409, 409]
    history = (await admin.get(f"/api/v1/periods/{PERIOD}/departments/{DEPARTMENT}/history")).json()
    assert [item["action"] for item in history["items"]] == ["submit", "approve"]


# --- department writes while submitted ----------------------------------------------------------


async def test_department_writes_are_409_while_submitted_or_approved_and_accepted_after_return(
    admin: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    guideline = (await guidelines_of(admin, DEPARTMENT))[0]
    created = await admin.post(
        f"/api/v1/guidelines/{guideline}/indicators",
        json={"name": "KPI", "unit": "件", "baseline": 0, "target": 10, "department": DEPARTMENT},
    )
    indicator = created.json()["id"]
    await report_all(admin, DEPARTMENT)
    assert (await clerk.post(quarter_url("submit"))).status_code == 200

    def writes() -> list[Any]:
        report = {"period": PERIOD, "status": "delayed", "summary": "遅れています。"}
        return [
            clerk.post(f"/api/v1/guidelines/{guideline}/reports", json=report),
            clerk.post(f"/api/v1/indicators/{indicator}/values", json={"period": PERIOD, "value": 3}),
            clerk.post(
                "/api/v1/submissions",
                json={
                    "period": PERIOD,
                    "reports": [{"guideline": guideline, "status": "delayed", "summary": "遅れ"}],
                },
            ),
            upload(
                clerk,
                csv_file([REPORT_KEYS, report_row(guideline, "遅延", "遅れています。")]),
                "reports.csv",
                "text/csv",
            ),
            upload(
                clerk,
                csv_file([REPORT_KEYS, report_row(guideline, "遅延", "遅れています。")]),
                "reports.csv",
                "text/csv",
                dry_run=True,
            ),
        ]

    for state in ("submitted", "approved"):
        if state == "approved":
            assert (await admin.post(quarter_url("approve"))).status_code == 200
        for response in [await write for write in writes()]:
            assert response.status_code == 409, response.text
            assert response.json()["detail"] == LOCKED.replace("submitted", state)
    history = (
        await admin.get(f"/api/v1/guidelines/{guideline}/reports/history", params={"period": PERIOD})
    ).json()
    assert history["total"] == 1

    # the plan office still writes, recorded as usual
    admin_report = {"period": PERIOD, "status": "completed", "summary": "完了", "department": DEPARTMENT}
    assert (await admin.post(f"/api/v1/guidelines/{guideline}/reports", json=admin_report)).status_code == 201

    assert (await admin.post(quarter_url("return"), json={"comment": "直してください"})).status_code == 200
    assert [(await write).status_code for write in writes()] == [201, 201, 201, 201, 200]


async def test_other_departments_are_unaffected(admin: httpx.AsyncClient, make_client: MakeClient) -> None:
    await report_all(admin, DEPARTMENT)
    assert (await admin.post(quarter_url("submit"))).status_code == 200
    other = await make_client("department", department="health-center")
    guideline = (await guidelines_of(admin, "health-center"))[0]
    response = await other.post(
        f"/api/v1/guidelines/{guideline}/reports",
        json={"period": PERIOD, "status": "on_track", "summary": "順調"},
    )
    assert response.status_code == 201, response.text


# --- on time at the Tokyo day boundary -----------------------------------------------------------


async def test_on_time_is_decided_at_the_end_of_the_due_day_in_tokyo(
    settings: Settings, make_token: MakeToken
) -> None:
    # 2026-Q1 is due 2026-07-15; 14:59:59 UTC is 23:59:59 in Tokyo
    token = await make_token("admin")
    async with clocked(settings, token, datetime(2026, 7, 15, 14, 59, 59, tzinfo=UTC)) as (admin, clock):
        for department in (DEPARTMENT, "health-center", "education-board"):
            await report_all(admin, department, period="2026-Q1")
        progress = (await admin.get("/api/v1/progress/departments", params={"period": "2026-Q1"})).json()
        by_code = {item["code"]: item for item in progress["items"]}
        assert by_code[DEPARTMENT]["overdue"] is False
        assert (await admin.post(quarter_url("submit", period="2026-Q1"))).status_code == 200
        clock.advance(1)  # 00:00:00 on 2026-07-16 in Tokyo
        late = await admin.post(quarter_url("submit", department="health-center", period="2026-Q1"))
        assert late.status_code == 200
        items = (await admin.get("/api/v1/periods/2026-Q1/departments")).json()["items"]
        on_time = {item["department"]: item["on_time"] for item in items}
        assert on_time[DEPARTMENT] is True
        assert on_time["health-center"] is False
        assert on_time["education-board"] is None

        progress = (await admin.get("/api/v1/progress/departments", params={"period": "2026-Q1"})).json()
        by_code = {item["code"]: item for item in progress["items"]}
        assert {k: by_code[DEPARTMENT][k] for k in ("state", "due", "on_time", "overdue")} == {
            "state": "submitted",
            "due": "2026-07-15",
            "on_time": True,
            "overdue": False,
        }
        assert (by_code["health-center"]["on_time"], by_code["health-center"]["overdue"]) == (False, False)
        assert (by_code["education-board"]["state"], by_code["education-board"]["overdue"]) == ("open", True)

        timeliness = await admin.get(
            "/api/v1/progress/timeliness", params={"from": "2026-Q1", "to": "2026-Q1"}
        )
        assert timeliness.status_code == 200, timeliness.text
        rows = {item["department"]: item for item in timeliness.json()["items"]}
        assert rows[DEPARTMENT] == {
            "department": DEPARTMENT,
            "periods": 1,
            "on_time": 1,
            "late": 0,
            "not_submitted": 0,
            "on_time_rate": 1.0,
        }
        assert (rows["health-center"]["late"], rows["health-center"]["on_time_rate"]) == (1, 0.0)
        assert rows["education-board"]["not_submitted"] == 1
        one = await admin.get(
            "/api/v1/progress/timeliness",
            params={"from": "2026-Q1", "to": "2026-Q1", "department": "health-center"},
        )
        assert [item["department"] for item in one.json()["items"]] == ["health-center"]
        assert (
            await admin.get("/api/v1/progress/timeliness", params={"department": "nope"})
        ).status_code == 422
        assert (
            await admin.get("/api/v1/progress/timeliness", params={"from": "2026-Q2", "to": "2026-Q1"})
        ).status_code == 422
