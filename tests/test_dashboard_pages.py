"""Dashboard pages through HTTP: each page shows the numbers the API gives for the same period."""

from __future__ import annotations

import html as htmllib
import re
from typing import TYPE_CHECKING

import httpx
import pytest

from test_dashboard import assert_sent_to_sign_in, sign_in
from test_progress import indicator, report, value

if TYPE_CHECKING:
    from conftest import MakeToken

Q1, Q2 = "2026-Q1", "2026-Q2"
LABELS = {
    "not_started": "未着手",
    "on_track": "順調",
    "at_risk": "要注意",
    "delayed": "遅延",
    "completed": "完了",
}
LONG = "保育士の確保が計画より遅れ、四月に予定していた新園の開設を延期しました。" * 3  # > 80 characters
PAGES = [
    "/dashboard/",
    "/dashboard/campaigns/1",
    "/dashboard/guidelines/1.1.1",
    "/dashboard/departments",
    "/dashboard/departments/children",
]


def pct(fraction: float | None) -> str:
    """A fraction as the dashboard shows it."""
    return "データなし" if fraction is None else f"{fraction * 100:.1f}%"


def label(period: str) -> str:
    year, _, quarter = period.partition("-Q")
    return f"{year}年度 第{quarter}四半期"


def text(fragment: str) -> str:
    """The text of an HTML fragment outside its charts, whitespace collapsed."""
    fragment = re.sub(r"<svg\b.*?</svg>", " ", fragment, flags=re.DOTALL)
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def element(page: str, tag: str, attribute: str, value: str) -> str:
    """The inner HTML of the first <tag attribute="value"> element."""
    found = re.search(rf'<{tag}\b[^>]*\b{attribute}="{re.escape(value)}"[^>]*>(.*?)</{tag}>', page, re.DOTALL)
    assert found, f"no <{tag} {attribute}={value!r}>"
    return found.group(1)


def main(response: httpx.Response) -> str:
    """The page's <main> element (its content without the nav and the logout form)."""
    assert response.status_code == 200, response.text
    found = re.search(r"<main>(.*)</main>", response.text, re.DOTALL)
    assert found
    return found.group(1)


def cells(row: str) -> list[str]:
    """The text of each <td> of a table row."""
    return [text(cell) for cell in re.findall(r"<td\b[^>]*>(.*?)</td>", row, re.DOTALL)]


@pytest.fixture
async def browser(client: httpx.AsyncClient, make_token: MakeToken) -> httpx.AsyncClient:
    """A client signed in to the dashboard with a viewer token."""
    signed = await sign_in(client, await make_token("viewer"))
    assert signed.status_code in (302, 303)
    return client


@pytest.fixture
async def data(admin: httpx.AsyncClient) -> dict[str, int]:
    """Reports and values posted through the API: an increasing indicator on 1.3.1 (children), a
    decreasing one on 1.2.2 (health-center), Q2 reports 遅延, 要注意 and 順調, and a report revised from
    順調 to 要注意."""
    rising = await indicator(admin, "1.3.1", "children", 10, 20)
    falling = await indicator(admin, "1.2.2", "health-center", 100, 60)
    for period, rise, fall in ((Q1, 12, 90), (Q2, 15, 70)):
        await value(admin, rising, period, rise)
        await value(admin, falling, period, fall)
    body = {"period": Q2, "status": "delayed", "summary": LONG, "department": "children"}
    assert (await admin.post("/api/v1/guidelines/1.3.1/reports", json=body)).status_code == 201
    await report(admin, "1.1.1", "children", Q2, "at_risk")
    await report(admin, "1.2.2", "health-center", Q2, "on_track")
    await report(admin, "1.1.2", "community-welfare", Q2, "on_track")
    await report(admin, "1.1.2", "community-welfare", Q2, "at_risk")
    return {"rising": rising, "falling": falling}


async def test_every_page_redirects_to_login_when_signed_out(client: httpx.AsyncClient) -> None:
    for path in PAGES:
        response = await client.get(path, params={"period": Q2})
        assert_sent_to_sign_in(response, path)


async def test_unknown_codes_and_periods_are_404(browser: httpx.AsyncClient) -> None:
    for path in (
        "/dashboard/campaigns/9",
        "/dashboard/guidelines/9.9.9",
        "/dashboard/departments/nowhere",
        "/dashboard/departments/nowhere/x",
    ):
        assert (await browser.get(path)).status_code == 404, path
    for path in PAGES:
        for period in ("2026-Q9", "garbage", "1999-Q1", "2999-Q1"):
            response = await browser.get(path, params={"period": period})
            assert response.status_code == 404, (path, period)


async def test_a_report_posted_shows_on_the_next_load_of_every_page(
    browser: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    """Pages are rendered once per data version: a report posted after a page was shown is on its next
    load."""
    before = {path: main(await browser.get(path, params={"period": Q2})) for path in PAGES}
    assert 'data-attention="1.1.1/children"' not in before["/dashboard/"]
    await report(admin, "1.1.1", "children", Q2, "delayed")
    after = {path: main(await browser.get(path, params={"period": Q2})) for path in PAGES}
    assert "遅延" in text(element(after["/dashboard/"], "tr", "data-attention", "1.1.1/children"))
    assert "1.1.1 delayed" in after["/dashboard/guidelines/1.1.1"]
    assert "1.1.1 delayed" in after["/dashboard/departments/children"]
    assert [path for path in PAGES if after[path] == before[path]] == []


async def test_overview_shows_the_api_numbers(
    browser: httpx.AsyncClient, viewer: httpx.AsyncClient, data: dict[str, int]
) -> None:
    api = (await viewer.get("/api/v1/progress", params={"period": Q2})).json()
    page = (await browser.get("/dashboard/", params={"period": Q2})).text
    assert api["campaigns"][0]["progress"] is not None
    for campaign in api["campaigns"]:
        progress, statuses, completeness = cells(element(page, "tr", "data-campaign", campaign["code"]))
        assert progress.startswith(pct(campaign["progress"]))
        assert f"目安 {campaign['guidelines_with_data']} / {campaign['guidelines_total']}" in progress
        counts = campaign["status_counts"]
        assert "・".join(f"{LABELS[s]} {counts[s]}" for s in LABELS) in statuses
        done = campaign["completeness"]
        assert completeness == f"{done['received']} / {done['expected']}（{pct(done['rate'])}）"
    third = cells(element(page, "tr", "data-campaign", "3"))[0]
    assert api["campaigns"][2]["progress"] is None
    assert third.startswith("データなし")
    assert "0.0%" not in third
    overall = api["overall"]
    assert pct(overall["progress"]) in page
    assert f"目安 {overall['guidelines_with_data']} / {overall['guidelines_total']}" in page


async def test_overview_progress_chart_matches_the_series_api(
    browser: httpx.AsyncClient, viewer: httpx.AsyncClient, data: dict[str, int]
) -> None:
    page = (await browser.get("/dashboard/", params={"period": Q2})).text
    chart = re.search(r'<svg class="chart" role="img" aria-label="([^"]*)"[^>]*><title>([^<]*)</title>', page)
    assert chart
    assert chart.group(2).startswith("大作戦ごとの進捗率の推移")
    for code in ("1", "2", "3"):
        series = (await viewer.get("/api/v1/progress/series", params={"campaign": code, "to": Q2})).json()
        points = series["items"]
        assert len(points) == 8
        assert points[-1]["period"] == Q2
        shown = cells(element(page, "tr", "data-trend", code))
        assert shown == [
            f"{pct(p['progress'])} （{p['guidelines_with_data']} / {p['guidelines_total']}）" for p in points
        ]
        assert f"{label(Q2)} {pct(points[-1]['progress'])}" in htmllib.unescape(chart.group(1))


async def test_attention_list_shows_at_risk_and_delayed_reports(
    browser: httpx.AsyncClient, data: dict[str, int]
) -> None:
    page = (await browser.get("/dashboard/", params={"period": Q2})).text
    delayed = element(page, "tr", "data-attention", "1.3.1/children")
    assert 'href="/dashboard/guidelines/1.3.1?period=2026-Q2"' in delayed
    shown = text(delayed)
    assert "子ども部" in shown
    assert "遅延" in shown
    assert LONG[:80] in shown
    assert LONG[:81] not in shown
    assert "要注意" in text(element(page, "tr", "data-attention", "1.1.1/children"))
    assert "要注意" in text(element(page, "tr", "data-attention", "1.1.2/community-welfare"))
    assert 'data-attention="1.2.2/health-center"' not in page  # 順調 needs no attention
    earlier = (await browser.get("/dashboard/", params={"period": Q1})).text
    assert "data-attention=" not in earlier
    assert "要注意・遅延の進捗報告はありません" in earlier


async def test_period_selector_lists_periods_and_changes_the_numbers(
    browser: httpx.AsyncClient, viewer: httpx.AsyncClient, data: dict[str, int]
) -> None:
    shown = {}
    for period in (Q1, Q2):
        api = (await viewer.get("/api/v1/progress", params={"period": period})).json()
        page = (await browser.get("/dashboard/", params={"period": period})).text
        shown[period] = cells(element(page, "tr", "data-campaign", "1"))[0]
        assert shown[period].startswith(pct(api["campaigns"][0]["progress"]))
        assert f'<option value="{period}" selected>' in page
    assert shown[Q1] != shown[Q2]
    current = (await viewer.get("/api/v1/progress")).json()["period"]
    for path in PAGES:
        page = (await browser.get(path)).text
        form = re.search(r'<form class="period" method="get" action="([^"]+)">(.*?)</form>', page, re.DOTALL)
        assert form
        assert form.group(1).rstrip("/") == path.rstrip("/")
        kept = await browser.get(form.group(1), params={"period": Q1})
        assert kept.status_code == 200
        assert f'<option value="{Q1}" selected>' in kept.text
        options = re.findall(r'<option value="([^"]+)"( selected)?>', form.group(2))
        codes = [code for code, _ in options]
        assert codes[0] == current
        assert codes == sorted(codes, reverse=True)
        assert "2010-Q1" in codes
        assert [code for code, selected in options if selected] == [current]
        assert '<select id="period" name="period">' in form.group(2)


async def test_campaign_page_shows_the_api_numbers(
    browser: httpx.AsyncClient, viewer: httpx.AsyncClient, data: dict[str, int]
) -> None:
    api = (await viewer.get("/api/v1/progress/campaigns/1", params={"period": Q2})).json()
    page = (await browser.get("/dashboard/campaigns/1", params={"period": Q2})).text
    names = {d["code"]: d["name"] for d in (await viewer.get("/api/v1/departments")).json()["items"]}
    assert pct(api["progress"]) in page
    for direction in api["directions"]:
        assert f"{direction['code']} {direction['name']}" in page
        for guideline in direction["guidelines"]:
            row = element(page, "tr", "data-guideline", guideline["code"])
            shown = cells(row)
            assert shown[0].startswith(pct(guideline["progress"]))
            for item in guideline["reports"]:
                status = "未報告" if item["status"] is None else LABELS[item["status"]]
                assert f"{names[item['department']]} {status}" in shown[1]
            for measure in guideline["indicators"]:
                line = text(element(row, "li", "data-indicator", str(measure["id"])))
                assert f"実績値 {measure['value']:g}" in line
                assert f"達成率 {pct(measure['attainment'])}" in line
    rising = text(element(page, "li", "data-indicator", str(data["rising"])))
    assert "実績値 15 件・目標値 20 件・達成率 50.0%" in rising
    sparkline = re.search(
        r'<svg class="sparkline" role="img" aria-label="([^"]*)"',
        element(page, "li", "data-indicator", str(data["rising"])),
    )
    assert sparkline
    assert f"{label(Q1)} 12、{label(Q2)} 15" in sparkline.group(1)
    assert "2025年度 第3四半期 データなし" in sparkline.group(1)


async def test_guideline_page_reports_history_and_initiatives(
    browser: httpx.AsyncClient, viewer: httpx.AsyncClient, data: dict[str, int]
) -> None:
    guideline = (await viewer.get("/api/v1/guidelines/1.1.2")).json()
    page = (await browser.get("/dashboard/guidelines/1.1.2", params={"period": Q2})).text
    assert guideline["text"] in page
    for group in guideline["initiative_groups"]:
        assert all(f"<li>{name}</li>" in page for name in group["initiatives"])
    history = (
        await viewer.get(
            "/api/v1/guidelines/1.1.2/reports/history",
            params={"period": Q2, "department": "community-welfare"},
        )
    ).json()["items"]
    assert [item["status"] for item in history] == ["on_track", "at_risk"]
    section = element(page, "article", "data-department", "community-welfare")
    assert "要注意" in text(section.split("</h3>")[0])
    assert f"報告者: {history[-1]['created_by']}" in text(section)
    rows = [cells(row) for row in re.findall(r"<tr>(.*?)</tr>", section.split("<tbody>")[1], re.DOTALL)]
    assert [(row[0], row[1]) for row in rows] == [("2", "要注意"), ("1", "順調")]
    other = element(page, "article", "data-department", "health-welfare")
    assert "未報告" in text(other)


async def test_guideline_page_shows_the_full_summary_and_who(
    browser: httpx.AsyncClient, viewer: httpx.AsyncClient, data: dict[str, int]
) -> None:
    page = (await browser.get("/dashboard/guidelines/1.3.1", params={"period": Q2})).text
    current = (await viewer.get("/api/v1/guidelines/1.3.1/reports", params={"period": Q2})).json()["items"][0]
    section = text(element(page, "article", "data-department", "children"))
    assert LONG in section
    assert "遅延" in section
    assert f"報告者: {current['created_by']}" in section
    chart = element(page, "article", "data-indicator", str(data["rising"]))
    assert "値が大きいほど良い指標" in text(chart)


async def test_decreasing_indicator_chart_is_drawn_lower_is_better(
    browser: httpx.AsyncClient, viewer: httpx.AsyncClient, data: dict[str, int]
) -> None:
    page = (await browser.get("/dashboard/guidelines/1.2.2", params={"period": Q2})).text
    article = element(page, "article", "data-indicator", str(data["falling"]))
    assert "値が小さいほど良い指標" in text(article)
    svg = re.search(r'<svg class="chart" role="img" aria-label="([^"]*)"[^>]*><title>', article)
    assert svg
    assert "値が小さいほど良い" in svg.group(1)
    assert "基準値 100、目標値 60" in svg.group(1)
    y = {
        name: float(found)
        for found, name in re.findall(
            r'<text x="[\d.]+" y="([\d.]+)"[^>]*>(基準値|目標値) \d+</text>', article
        )
    }
    assert y["目標値"] > y["基準値"]  # the target of a decreasing indicator is drawn below its baseline
    assert "低いほど良い" in article
    table = cells(element(article, "table", "class", "data"))
    assert table[-2:] == ["90", "70"]
    assert table[0] == "データなし"
    at = (await viewer.get("/api/v1/progress/campaigns/1", params={"period": Q2})).json()
    measure = next(
        i
        for d in at["directions"]
        for g in d["guidelines"]
        for i in g["indicators"]
        if i["id"] == data["falling"]
    )
    assert f"達成率 {pct(measure['attainment'])}" in text(article)


async def test_departments_page_and_heatmap(
    browser: httpx.AsyncClient, viewer: httpx.AsyncClient, data: dict[str, int]
) -> None:
    api = (await viewer.get("/api/v1/progress/departments", params={"period": Q2})).json()
    page = (await browser.get("/dashboard/departments", params={"period": Q2})).text
    for item in api["items"]:
        row = element(page, "tr", "data-department", item["code"])
        shown = cells(row)
        assert shown[:3] == [str(item["expected"]), str(item["received"]), pct(item["rate"])]
        assert shown[3].replace(" ", "") == ("、".join(item["missing"]) or "なし")
    heatmap = page.split('class="heatmap"')[1]

    def cell(guideline: str, department: str) -> str:
        row = element(heatmap, "tr", "data-guideline", guideline)
        return text(element(row, "td", "data-department", department))

    assert cell("1.3.1", "children") == "遅延"
    assert cell("1.2.2", "health-center") == "順調"
    assert cell("1.1.2", "community-welfare") == "要注意"
    assert cell("1.1.1", "branch-offices") == "未報告"
    assert cell("1.3.1", "health-center") == "—"
    assert 'class="status-delayed" data-department="children"' in element(
        heatmap, "tr", "data-guideline", "1.3.1"
    )
    assert not re.search(r"<td[^>]*>\s*</td>", heatmap.split("</table>")[0])  # every cell has a label


async def test_department_page_owes_reports_and_links_the_workbook(
    browser: httpx.AsyncClient, viewer: httpx.AsyncClient, data: dict[str, int]
) -> None:
    api = (await viewer.get("/api/v1/progress/departments", params={"period": Q2})).json()
    mine = next(item for item in api["items"] if item["code"] == "children")
    page = (await browser.get("/dashboard/departments/children", params={"period": Q2})).text
    assert 'href="/dashboard/departments/children/workbook?period=2026-Q2"' in page
    owed = element(page, "ul", "class", "owed")
    assert re.findall(r'href="/dashboard/guidelines/([^?]+)\?', owed) == mine["missing"]
    reported = text(element(page, "table", "class", "reported"))
    assert LONG in reported
    assert "遅延" in reported
    assert "要注意" in reported
    assert "順調" not in reported  # health-center's report is not children's


async def test_stylesheet_is_served_and_nothing_comes_from_elsewhere(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, data: dict[str, int]
) -> None:
    css = await client.get("/dashboard/static/dashboard.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert "@media print" in css.text
    assert "size: A4 portrait" in css.text
    assert "url(" not in css.text
    assert "@import" not in css.text
    for path in [*PAGES, "/dashboard/guidelines/1.2.2"]:
        page = (await browser.get(path, params={"period": Q2})).text
        assert '<link rel="stylesheet" href="/dashboard/static/dashboard.css">' in page
        assert '<html lang="ja">' in page
        targets = re.findall(r'(?:href|src|action)="([^"]*)"', page)
        assert targets
        assert all(t.startswith("/") and not t.startswith("//") for t in targets), targets
        assert "<script" not in page
        assert "http://" not in page
        assert "https://" not in page
        assert all("<title>" in svg for svg in re.findall(r"<svg\b.*?</svg>", page, re.DOTALL))
