"""The dashboard in a real browser: headless Chromium from the system's packages, driven by Playwright,
against `wlbtrack serve` on this run's database (one server and one browser for the whole run).

Every test's page records each request it makes and fails if one leaves the service's origin, and fails on
any Content-Security-Policy violation; every page visited is scanned with axe-core (no serious or critical
violations) and saved as a screenshot under WLBTRACK_SCREENSHOTS, or a temporary folder.

Without Chromium (or Playwright) these tests are skipped, saying how to install them, unless
WLBTRACK_BROWSER_TESTS=required (as in .ci/run), where that is a failure.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx
import pytest

from apps import free_port, server_process, wait_until_serving
from test_progress import build_fixture
from wlbtrack.config import Settings

if TYPE_CHECKING:
    from playwright.async_api import Browser, ConsoleMessage, Page, Request

    from conftest import MakeClient, MakeToken

CHROMIUM = os.environ.get("WLBTRACK_CHROMIUM", "/usr/bin/chromium")
INSTALL = (
    "headless Chromium is needed for the dashboard's browser tests: apt-get install chromium fonts-noto-cjk "
    "(Debian), and pip install -e '.[test]' for Playwright; WLBTRACK_CHROMIUM names another executable"
)
SERIOUS = {"serious", "critical"}


def _browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import axe_playwright_python  # noqa: F401
        import playwright  # noqa: F401
    except ImportError:
        return "Playwright or axe-playwright-python is not installed"
    if shutil.which(CHROMIUM) is None:
        return f"{CHROMIUM} is not there"
    return None


@pytest.fixture(scope="session")
def browser_available() -> None:
    """Skip (or, with WLBTRACK_BROWSER_TESTS=required, fail) when the browser cannot run."""
    missing = _browser_missing()
    if missing is None:
        return
    if os.environ.get("WLBTRACK_BROWSER_TESTS") == "required":
        pytest.fail(f"{missing}; {INSTALL}")
    pytest.skip(f"{missing}; {INSTALL}")


@pytest.fixture(scope="session")
async def server(
    browser_available: None, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """`wlbtrack serve` on this run's database; its origin."""
    port = free_port()
    log = tmp_path_factory.mktemp("dashboard-server") / "stderr.log"
    with server_process(settings.database_url, port, log) as process:
        await wait_until_serving(port, process)
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
async def browser(browser_available: None) -> AsyncIterator[Browser]:
    """The system's Chromium, headless, for the whole run."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM)
        yield launched
        await launched.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where each page's screenshot goes: WLBTRACK_SCREENSHOTS, or a temporary folder of this run."""
    chosen = os.environ.get("WLBTRACK_SCREENSHOTS")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass
class Visit:
    """A browser tab on the dashboard: what it requested and what the browser refused."""

    page: Page
    origin: str
    screenshots: Path
    requests: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)

    async def open(self, path: str) -> None:
        """Go to a path of the service and wait until the page has loaded."""
        response = await self.page.goto(self.origin + path)
        assert response is not None

    async def check(self, name: str) -> None:
        """Save the page as `name`.png and scan it with axe-core: no serious or critical violations."""
        from axe_playwright_python.async_playwright import Axe

        await self.page.screenshot(path=self.screenshots / f"{name}.png", full_page=True)
        results = await Axe().run(self.page)
        assert results.response["passes"], "axe-core checked nothing"
        serious = [
            f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']]}"
            for v in results.response["violations"]
            if v["impact"] in SERIOUS
        ]
        assert not serious, f"{name}: {serious}"

    async def sign_in(self, token: str) -> None:
        """Sign in through the login form, as a person pastes a token."""
        await self.open("/dashboard/login")
        await self.page.get_by_label("APIトークン").fill(token)
        await self.page.get_by_role("button", name="ログイン").click()
        await self.page.wait_for_load_state()

    def path(self) -> str:
        """The path (and query) the tab shows."""
        parts = urlsplit(self.page.url)
        return f"{parts.path}?{parts.query}" if parts.query else parts.path


@pytest.fixture
async def visit(browser: Browser, server: str, screenshots: Path) -> AsyncIterator[Visit]:
    """A fresh browser context (no cookies) and tab; after the test, every request it made went to the
    service's own origin and the browser refused nothing under the Content-Security-Policy."""
    context = await browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    tab = Visit(page, server, screenshots)

    def record(request: Request) -> None:
        tab.requests.append(request.url)

    def console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            tab.violations.append(message.text)

    page.on("request", record)
    page.on("console", console)
    yield tab
    await context.close()
    assert tab.requests, "the test made no request"
    foreign = [url for url in tab.requests if not url.startswith(f"{server}/") and url != server]
    assert not foreign, f"requests that left {server}: {foreign}"
    assert not tab.violations, tab.violations


@pytest.fixture
async def api(
    server: str, make_token: MakeToken
) -> AsyncIterator[Callable[[str], Awaitable[httpx.AsyncClient]]]:
    """Clients of the real server's API with a fresh token of a role: `await api("viewer")`."""
    opened: list[httpx.AsyncClient] = []

    async def make(role: str, department: str | None = None) -> httpx.AsyncClient:
        token = await make_token(role, department=department)
        http = httpx.AsyncClient(base_url=server, headers={"Authorization": f"Bearer {token}"})
        opened.append(http)
        return http

    yield make
    for http in opened:
        await http.aclose()


Api = Callable[..., Awaitable[httpx.AsyncClient]]


def percent(progress: float | None) -> str:
    """A progress as the pages show it."""
    return "データなし" if progress is None else f"{progress * 100:.1f}%"


async def row_text(page: Page, name: str) -> str:
    """The text of the table row headed by `name`."""
    header = page.get_by_role("rowheader", name=name, exact=True)
    return await page.get_by_role("row").filter(has=header).first.inner_text()


async def test_a_viewer_signs_in_and_the_overview_shows_the_apis_numbers(
    visit: Visit, api: Api, make_token: MakeToken, make_client: MakeClient
) -> None:
    admin = await api("admin")
    await build_fixture(admin, make_client)
    await visit.open("/dashboard/")
    assert visit.path() == "/dashboard/login"  # signed out: the login page
    await visit.check("login")
    await visit.sign_in(await make_token("viewer"))
    assert visit.path() == "/dashboard/"
    await visit.open("/dashboard/?period=2025-Q1")
    await visit.check("overview")
    progress = (await (await api("viewer")).get("/api/v1/progress", params={"period": "2025-Q1"})).json()
    rows = [("計画全体", progress["overall"]), *((c["name"], c) for c in progress["campaigns"])]
    for name, numbers in rows:
        text = await row_text(visit.page, name)
        assert percent(numbers["progress"]) in text
        assert f"{numbers['guidelines_with_data']} / {numbers['guidelines_total']}" in text
        assert f"{numbers['completeness']['received']} / {numbers['completeness']['expected']}" in text


async def test_a_department_user_lands_on_their_department(
    visit: Visit, api: Api, make_token: MakeToken
) -> None:
    await visit.sign_in(await make_token("department", department="children"))
    assert visit.path() == "/dashboard/departments/children"
    departments = (await (await api("viewer")).get("/api/v1/progress/departments")).json()
    children = next(item for item in departments["items"] if item["code"] == "children")
    assert children["name"] in await visit.page.content()
    await visit.check("department")
    async with visit.page.expect_download() as started:
        await visit.page.get_by_role("link", name="入力用ブック（Excel）をダウンロード").click()
    download = await started.value
    assert download.suggested_filename == f"wlbtrack_children_{departments['period']}.xlsx"


async def test_the_departments_page_shows_the_apis_counts(
    visit: Visit, api: Api, make_token: MakeToken, make_client: MakeClient
) -> None:
    await build_fixture(await api("admin"), make_client)
    await visit.sign_in(await make_token("viewer"))
    await visit.open("/dashboard/departments?period=2025-Q1")
    await visit.check("departments")
    body = (
        await (await api("viewer")).get("/api/v1/progress/departments", params={"period": "2025-Q1"})
    ).json()
    for item in body["items"]:
        text = await row_text(visit.page, item["name"])
        assert f"{item['expected']}" in text
        assert f"{item['received']}" in text


async def test_the_period_selector_changes_the_numbers(
    visit: Visit, api: Api, make_token: MakeToken, make_client: MakeClient
) -> None:
    await build_fixture(await api("admin"), make_client)
    viewer = await api("viewer")
    await visit.sign_in(await make_token("viewer"))
    await visit.open("/dashboard/?period=2025-Q1")
    shown = {}
    for period in ("2025-Q1", "2025-Q3"):
        if period != "2025-Q1":
            await visit.page.get_by_label("期間").select_option(period)
            await visit.page.get_by_role("button", name="表示").click()
            await visit.page.wait_for_load_state()
        assert visit.path().endswith(f"?period={period}")
        year, quarter = period.split("-Q")
        label = f"{year}年度 第{quarter}四半期"
        assert await visit.page.get_by_role("heading", level=1).filter(has_text=label).is_visible()
        overall = (await viewer.get("/api/v1/progress", params={"period": period})).json()["overall"]
        shown[period] = percent(overall["progress"])
        assert shown[period] in await row_text(visit.page, "計画全体")
    assert shown["2025-Q1"] != shown["2025-Q3"]


async def test_the_attention_list_shows_a_report_posted_as_delayed(
    visit: Visit, api: Api, make_token: MakeToken
) -> None:
    children = await api("department", department="children")
    summary = "保育園の延長保育の拡充が遅れている。" * 6  # longer than the 80 characters shown
    posted = await children.post(
        "/api/v1/guidelines/1.3.1/reports",
        json={"period": "2025-Q1", "status": "delayed", "summary": summary},
    )
    assert posted.status_code == 201, posted.text
    await visit.sign_in(await make_token("viewer"))
    await visit.open("/dashboard/?period=2025-Q1")
    attention = visit.page.get_by_role("table", name="進捗報告が要注意または遅延")
    row = attention.get_by_role("row").filter(has=visit.page.get_by_role("rowheader", name="1.3.1"))
    text = await row.inner_text()
    assert "遅延" in text
    name = (await (await api("viewer")).get("/api/v1/departments/children")).json()["name"]
    assert name in text
    assert summary[:80] in text
    assert summary[:81] not in text
    await row.get_by_role("link", name="1.3.1").click()
    await visit.page.wait_for_load_state()
    assert visit.path() == "/dashboard/guidelines/1.3.1?period=2025-Q1"


async def test_click_through_campaign_to_guideline_and_back(
    visit: Visit, api: Api, make_token: MakeToken, make_client: MakeClient
) -> None:
    await build_fixture(await api("admin"), make_client)
    campaign = (await (await api("viewer")).get("/api/v1/campaigns/1")).json()
    await visit.sign_in(await make_token("viewer"))
    await visit.open("/dashboard/?period=2025-Q1")
    await visit.page.get_by_role("main").get_by_role("link", name=campaign["name"], exact=True).click()
    await visit.page.wait_for_load_state()
    assert visit.path() == "/dashboard/campaigns/1?period=2025-Q1"
    assert await visit.page.get_by_role("heading", level=1).filter(has_text=campaign["name"]).is_visible()
    await visit.check("campaign")
    await visit.page.get_by_role("link", name="1.1.1", exact=True).first.click()
    await visit.page.wait_for_load_state()
    assert visit.path() == "/dashboard/guidelines/1.1.1?period=2025-Q1"
    assert await visit.page.get_by_role("heading", name="目安 1.1.1").is_visible()
    await visit.check("guideline")
    await visit.page.go_back()
    assert visit.path() == "/dashboard/campaigns/1?period=2025-Q1"


async def test_an_unknown_page_is_a_japanese_error_page(visit: Visit, make_token: MakeToken) -> None:
    await visit.sign_in(await make_token("viewer"))
    await visit.open("/dashboard/no-such-page")
    assert await visit.page.get_by_role("heading", name="ページが見つかりません").is_visible()
    await visit.check("not-found")


async def test_logging_out_ends_the_session(visit: Visit, make_token: MakeToken) -> None:
    await visit.sign_in(await make_token("viewer"))
    await visit.page.get_by_role("button", name="ログアウト").click()
    await visit.page.wait_for_load_state()
    assert visit.path() == "/dashboard/login"
    await visit.open("/dashboard/")
    assert visit.path() == "/dashboard/login"


async def test_a_post_without_the_csrf_token_is_refused(visit: Visit, make_token: MakeToken) -> None:
    await visit.sign_in(await make_token("viewer"))
    await visit.page.locator("input[name=_csrf_token]").evaluate_all(
        "inputs => inputs.forEach(i => i.remove())"
    )
    await visit.page.get_by_role("button", name="ログアウト").click()
    await visit.page.wait_for_load_state()
    assert await visit.page.get_by_role("heading", name="この操作はできません").is_visible()
    assert "ページを再読み込み" in await visit.page.content()
    await visit.check("csrf-refused")
    await visit.open("/dashboard/")
    assert visit.path() == "/dashboard/"  # the refused logout left the session as it was


async def test_a_revoked_tokens_session_stops_working(visit: Visit, api: Api, make_token: MakeToken) -> None:
    await visit.sign_in(await make_token("viewer", label="revoke-me"))
    assert visit.path() == "/dashboard/"
    admin = await api("admin")
    tokens = (await admin.get("/api/v1/tokens")).json()["items"]
    revoked = next(t["id"] for t in tokens if t["label"] == "revoke-me")
    assert (await admin.delete(f"/api/v1/tokens/{revoked}")).status_code == 204
    await visit.open("/dashboard/")
    assert visit.path() == "/dashboard/login"


async def test_no_request_leaves_the_services_origin(visit: Visit, make_token: MakeToken) -> None:
    await visit.sign_in(await make_token("viewer"))
    for path in ("/dashboard/", "/dashboard/departments", "/dashboard/departments/children"):
        await visit.open(path)
    origins = {f"{urlsplit(url).scheme}://{urlsplit(url).netloc}" for url in visit.requests}
    assert origins == {visit.origin}
    assert len(visit.requests) >= 4


async def test_the_overview_and_a_campaign_print_on_a4_portrait(
    visit: Visit, api: Api, make_token: MakeToken, make_client: MakeClient
) -> None:
    await build_fixture(await api("admin"), make_client)
    await visit.sign_in(await make_token("viewer"))
    for path, name in (
        ("/dashboard/?period=2025-Q1", "overview"),
        ("/dashboard/campaigns/1?period=2025-Q1", "campaign"),
    ):
        await visit.open(path)
        await visit.page.emulate_media(media="print")
        assert not await visit.page.get_by_role(
            "navigation"
        ).is_visible()  # no nav, selector or logout on paper
        assert not await visit.page.get_by_role("button", name="ログアウト").is_visible()
        assert await visit.page.get_by_role("heading", level=1).is_visible()
        pdf = await visit.page.pdf(prefer_css_page_size=True, print_background=True)
        (visit.screenshots / f"{name}.pdf").write_bytes(pdf)
        boxes = re.findall(rb"/MediaBox \[0 0 ([0-9.]+) ([0-9.]+)\]", pdf)
        assert boxes, "the PDF has no pages"
        for width, height in boxes:  # A4 portrait: 210 × 297 mm, 595 × 842 points
            assert (round(float(width)), round(float(height))) == (595, 842)
        await visit.page.emulate_media(media="screen")
