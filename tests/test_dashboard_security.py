"""The dashboard's platform through HTTP: its Content-Security-Policy, Secure cookies over HTTPS (and only
from trusted proxies), Japanese error pages, and a session that grants nothing under /api/v1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from apps import Instance, free_port, server_process, wait_until_serving
from test_dashboard import csrf_field, sign_in
from wlbtrack.config import Settings

if TYPE_CHECKING:
    from conftest import MakeToken

DASHBOARD_CSP = (
    "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"
)
API_CSP = "default-src 'none'; frame-ancestors 'none'"
COOKIES = ("wlbtrack_session", "csrftoken")


def set_cookies(response: httpx.Response) -> dict[str, list[str]]:
    """The cookies a response sets: name → its attributes, lower-cased."""
    cookies = {}
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        cookies[name] = [part.strip().lower() for part in rest.split(";")[1:]]
    return cookies


async def signed_in_cookies(http: httpx.AsyncClient, token: str, **headers: str) -> dict[str, list[str]]:
    """The attributes of the CSRF cookie (from the login form) and the session cookie (from signing in).

    The CSRF cookie goes back by hand: behind a TLS-terminating proxy the browser sends its Secure cookies,
    which httpx keeps to itself over plain HTTP."""
    form = await http.get("/dashboard/login", headers=headers)
    http.cookies.clear()
    signed = await http.post(
        "/dashboard/login",
        data={"token": token, "_csrf_token": csrf_field(form.text)},
        headers={**headers, "Cookie": f"csrftoken={form.cookies['csrftoken']}"},
    )
    assert signed.status_code in (302, 303), signed.text
    return {**set_cookies(form), **set_cookies(signed)}


@pytest.fixture
async def https_client(instance: Instance) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose requests arrive over HTTPS (the ASGI scope's scheme)."""
    transport = httpx.ASGITransport(app=instance.app)  # type: ignore[arg-type]  # httpx types scopes as dicts
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
        yield http


@pytest.mark.parametrize("path", ["/dashboard/login", "/dashboard/", "/dashboard/no-such-page"])
async def test_dashboard_responses_allow_only_the_services_own_origin(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)
    assert response.headers["content-security-policy"] == DASHBOARD_CSP
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    assert (await client.get("/api/v1/campaigns")).headers["content-security-policy"] == API_CSP
    assert (await client.get("/dashboards")).headers["content-security-policy"] == API_CSP


async def test_cookies_over_http_are_httponly_and_lax_but_not_secure(
    client: httpx.AsyncClient, make_token: MakeToken
) -> None:
    cookies = await signed_in_cookies(client, await make_token("viewer"))
    for name in COOKIES:
        assert "httponly" in cookies[name]
        assert "samesite=lax" in cookies[name]
        assert "secure" not in cookies[name]


async def test_cookies_over_https_are_secure_too(
    https_client: httpx.AsyncClient, make_token: MakeToken
) -> None:
    cookies = await signed_in_cookies(https_client, await make_token("viewer"))
    for name in COOKIES:
        assert {"httponly", "samesite=lax", "secure"} <= set(cookies[name])
    assert (await https_client.get("/dashboard/")).status_code == 200  # the secure session works over HTTPS
    logout = await https_client.post(
        "/dashboard/logout", data={"_csrf_token": https_client.cookies["csrftoken"]}
    )
    assert "secure" in set_cookies(logout)["wlbtrack_session"]


async def test_x_forwarded_proto_counts_only_from_trusted_proxies(
    settings: Settings, tmp_path: Path, make_token: MakeToken
) -> None:
    token = await make_token("viewer")
    port = free_port()
    https = {"X-Forwarded-Proto": "https"}
    with server_process(
        settings.database_url, port, tmp_path / "stderr.log", WLBTRACK_TRUSTED_PROXIES="127.0.0.2/31"
    ) as process:
        await wait_until_serving(port, process)
        proxy = httpx.AsyncHTTPTransport(local_address="127.0.0.2")  # a connection from the trusted proxy
        async with httpx.AsyncClient(transport=proxy, base_url=f"http://127.0.0.1:{port}") as trusted:
            cookies = await signed_in_cookies(trusted, token, **https)
            assert all("secure" in cookies[name] for name in COOKIES)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as untrusted:
            cookies = await signed_in_cookies(untrusted, token, **https)
            assert all("secure" not in cookies[name] for name in COOKIES)


@pytest.mark.parametrize(
    ("method", "path", "status", "heading"),
    [
        ("GET", "/dashboard/no-such-page", 404, "ページが見つかりません"),
        ("DELETE", "/dashboard/login", 405, "この方法では開けません"),
        ("POST", "/dashboard/logout", 403, "この操作はできません"),
    ],
)
async def test_dashboard_errors_are_japanese_pages(
    client: httpx.AsyncClient, method: str, path: str, status: int, heading: str
) -> None:
    await client.get("/dashboard/login")  # a CSRF cookie, but the POST below carries no token
    response = await client.request(method, path)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="ja">' in response.text
    assert f"<h1>{heading}</h1>" in response.text
    assert response.headers["content-security-policy"] == DASHBOARD_CSP


async def test_the_csrf_refusal_says_what_to_do(client: httpx.AsyncClient, make_token: MakeToken) -> None:
    await client.get("/dashboard/login")
    refused = await client.post("/dashboard/login", data={"token": await make_token("viewer")})
    assert refused.status_code == 403
    assert "ページを再読み込みしてから、もう一度送ってください" in refused.text
    forged = await client.post("/dashboard/login", data={"token": "x", "_csrf_token": "forged"})
    assert forged.status_code == 403
    assert "ページを再読み込み" in forged.text


async def test_an_unknown_department_is_a_404_page(client: httpx.AsyncClient, make_token: MakeToken) -> None:
    await sign_in(client, await make_token("viewer"))
    response = await client.get("/dashboard/departments/no-such-department")
    assert response.status_code == 404
    assert "<h1>ページが見つかりません</h1>" in response.text


async def test_api_errors_stay_problem_documents(
    client: httpx.AsyncClient, viewer: httpx.AsyncClient
) -> None:
    for response in (
        await viewer.get("/api/v1/no-such-thing"),
        await viewer.delete("/api/v1/campaigns"),
        await client.get("/api/v1/campaigns"),
    ):
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["status"] == response.status_code


async def test_a_session_cookie_grants_nothing_under_the_api(
    client: httpx.AsyncClient, make_token: MakeToken
) -> None:
    await sign_in(client, await make_token("admin"))
    assert (await client.get("/dashboard/")).status_code == 200  # signed in on the dashboard
    csrf = {"X-CSRFToken": client.cookies["csrftoken"]}
    for response in (
        await client.get("/api/v1/progress"),
        await client.get("/api/v1/tokens"),
        await client.post("/api/v1/tokens", json={"role": "admin", "label": "via-cookie"}, headers=csrf),
    ):
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("application/problem+json")
