"""Dashboard through HTTP: sign-in, overview numbers, CSRF, revocation, /api/v1 untouched."""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING

import httpx

from apps import FakeClock, Instance, http_client, running
from wlbtrack.config import Settings

if TYPE_CHECKING:
    from conftest import MakeToken


def csrf_field(html: str) -> str:
    """The hidden CSRF token of the page's form."""
    found = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def assert_sent_to_sign_in(response: httpx.Response, note: str = "") -> None:
    """The response redirects to the sign-in form."""
    assert response.status_code in (302, 303, 307), note
    assert response.headers["location"].endswith("/dashboard/login"), note


async def sign_in(client: httpx.AsyncClient, token: str) -> httpx.Response:
    """Post the login form as a browser would (CSRF field from the form, cookie kept by the client)."""
    form = await client.get("/dashboard/login")
    assert form.status_code == 200
    return await client.post("/dashboard/login", data={"token": token, "_csrf_token": csrf_field(form.text)})


async def test_unauthenticated_page_redirects_to_login(client: httpx.AsyncClient) -> None:
    response = await client.get("/dashboard/")
    assert_sent_to_sign_in(response)


async def test_viewer_signs_in_and_overview_matches_api(
    client: httpx.AsyncClient, viewer: httpx.AsyncClient, make_token: MakeToken
) -> None:
    token = await make_token("viewer")
    signed = await sign_in(client, token)
    assert signed.status_code in (302, 303), signed.text
    cookie = signed.headers["set-cookie"]
    assert "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()
    assert token not in cookie
    page = await client.get("/dashboard/?period=2026-Q1")
    assert page.status_code == 200
    assert '<html lang="ja">' in page.text
    assert token not in page.text
    api = (await viewer.get("/api/v1/progress", params={"period": "2026-Q1"})).json()
    overall = api["overall"]
    shown = "データなし" if overall["progress"] is None else f"{overall['progress'] * 100:.1f}%"
    assert shown in page.text
    assert f"{overall['guidelines_with_data']} / {overall['guidelines_total']}" in page.text
    for campaign in api["campaigns"]:
        assert campaign["name"] in page.text


async def test_parallel_pages_of_one_session_all_load(
    client: httpx.AsyncClient, make_token: MakeToken
) -> None:
    """A browser loads pages of one session in parallel."""
    assert (await sign_in(client, await make_token("viewer"))).status_code in (302, 303)
    pages = await asyncio.gather(
        *(client.get("/dashboard/departments" if n % 2 else "/dashboard/") for n in range(16))
    )
    assert [page.status_code for page in pages] == [200] * 16


async def test_each_user_gets_their_own_name_and_csrf_token_around_shared_content(
    instance: Instance, make_token: MakeToken
) -> None:
    """A page's content is rendered once for everyone; the logout form (name, CSRF token) is each user's."""
    async with http_client(instance) as first, http_client(instance) as second:
        await sign_in(first, await make_token("viewer", label="first-user"))
        await sign_in(second, await make_token("viewer", label="second-user"))
        one, two = [(await user.get("/dashboard/?period=2026-Q1")).text for user in (first, second)]
        assert "first-user" in one
        assert "second-user" not in one
        assert "second-user" in two
        assert "first-user" not in two
        assert csrf_field(one) not in two
        assert csrf_field(two) not in one
        refused = await second.post("/dashboard/logout", data={"_csrf_token": csrf_field(one)})
        assert refused.status_code == 403  # the token on first's page is first's alone
        signed_out = await second.post("/dashboard/logout", data={"_csrf_token": csrf_field(two)})
        assert signed_out.status_code in (302, 303)
        assert (await first.get("/dashboard/?period=2026-Q1")).status_code == 200


async def test_bad_token_is_refused_and_post_without_csrf_refused(
    client: httpx.AsyncClient, make_token: MakeToken
) -> None:
    refused = await sign_in(client, "wlb_not-a-token")
    assert "トークンが正しくない" in refused.text
    await client.get("/dashboard/login")
    without = await client.post("/dashboard/login", data={"token": await make_token("viewer")})
    assert without.status_code == 403


async def test_session_cookie_grants_nothing_under_api(
    client: httpx.AsyncClient, make_token: MakeToken
) -> None:
    await sign_in(client, await make_token("viewer"))
    assert (await client.get("/api/v1/progress")).status_code == 401


async def test_revoked_token_ends_session(
    client: httpx.AsyncClient, admin: httpx.AsyncClient, make_token: MakeToken
) -> None:
    token = await make_token("viewer", label="revoke-me")
    await sign_in(client, token)
    assert (await client.get("/dashboard/")).status_code == 200
    tokens = (await admin.get("/api/v1/tokens")).json()["items"]
    ident = next(t["id"] for t in tokens if t["label"] == "revoke-me")
    assert (await admin.delete(f"/api/v1/tokens/{ident}")).status_code == 204
    after = await client.get("/dashboard/")
    assert_sent_to_sign_in(after)


async def test_department_user_lands_on_their_department(
    client: httpx.AsyncClient, viewer: httpx.AsyncClient, make_token: MakeToken
) -> None:
    signed = await sign_in(client, await make_token("department", department="children"))
    assert signed.headers["location"].endswith("/dashboard/departments/children")
    page = await client.get(signed.headers["location"], params={"period": "2026-Q1"})
    assert page.status_code == 200
    api = (await viewer.get("/api/v1/progress/departments", params={"period": "2026-Q1"})).json()
    mine = next(item for item in api["items"] if item["code"] == "children")
    assert mine["name"] in page.text
    assert all(code in page.text for code in mine["missing"])
    assert f"<td>{mine['expected']}</td><td>{mine['received']}</td>" in page.text


async def test_a_session_ends_its_hours_after_sign_in_however_often_it_is_used(
    settings: Settings, make_token: MakeToken
) -> None:
    clock = FakeClock()
    async with running(settings, clock=clock, session_hours=2) as instance, http_client(instance) as browser:
        await sign_in(browser, await make_token("viewer"))
        for _ in range(7):  # a page every quarter of an hour, up to 1 h 45 min after sign-in
            clock.advance(15 * 60)
            assert (await browser.get("/dashboard/departments")).status_code == 200
        clock.advance(15 * 60 + 1)
        ended = await browser.get("/dashboard/departments")
    assert_sent_to_sign_in(ended)


async def test_a_sessions_token_is_checked_like_an_api_token(
    settings: Settings, make_token: MakeToken
) -> None:
    """Through the token cache: a revocation through this worker ends the session at once, one made
    elsewhere (another instance) within WLBTRACK_TOKEN_CACHE_TTL."""
    clock = FakeClock()
    admin_token = await make_token("admin")
    async with (
        running(settings, clock=clock, token_cache_ttl=60) as here,
        running(settings) as elsewhere,
        http_client(here, admin_token) as admin_here,
        http_client(elsewhere, admin_token) as admin_elsewhere,
        http_client(here) as first,
        http_client(here) as second,
    ):
        await sign_in(first, await make_token("viewer", label="revoked-here"))
        await sign_in(second, await make_token("viewer", label="revoked-elsewhere"))
        assert [(await user.get("/dashboard/departments")).status_code for user in (first, second)] == [
            200,
            200,
        ]
        listed = {t["label"]: t["id"] for t in (await admin_here.get("/api/v1/tokens")).json()["items"]}
        assert (await admin_here.delete(f"/api/v1/tokens/{listed['revoked-here']}")).status_code == 204
        assert (await first.get("/dashboard/departments")).headers["location"].endswith("/dashboard/login")
        assert (
            await admin_elsewhere.delete(f"/api/v1/tokens/{listed['revoked-elsewhere']}")
        ).status_code == 204
        clock.advance(60)
        assert (await second.get("/dashboard/departments")).headers["location"].endswith("/dashboard/login")


async def test_a_sign_out_ends_the_session_on_every_worker(settings: Settings, make_token: MakeToken) -> None:
    """Signed out through this worker, the session's cookie opens nothing here at once; signed out through
    another worker (behind a load balancer), here within WLBTRACK_TOKEN_CACHE_TTL, as long as a worker keeps
    a session it has read."""
    clock = FakeClock()
    async with (
        running(settings, clock=clock, token_cache_ttl=60) as here,
        running(settings) as elsewhere,
        http_client(here) as browser,
        http_client(here) as copy_here,
        http_client(elsewhere) as copy_elsewhere,
    ):
        for signed_out_through in (copy_here, copy_elsewhere):
            await sign_in(browser, await make_token("viewer"))
            page = await browser.get("/dashboard/departments")
            assert page.status_code == 200
            signed_out_through.cookies = httpx.Cookies(browser.cookies)
            logout = await signed_out_through.post(
                "/dashboard/logout", data={"_csrf_token": csrf_field(page.text)}
            )
            assert logout.status_code in (302, 303)
            if signed_out_through is copy_elsewhere:
                clock.advance(60)
            ended = await browser.get("/dashboard/departments")  # the cookie it still sends
            assert ended.headers["location"].endswith("/dashboard/login")
