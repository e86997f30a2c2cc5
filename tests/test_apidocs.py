"""The API documentation pages load everything from the service itself: ward networks reach no internet."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from test_ops_deployment import every_string

CSS_URL = re.compile(r"""url\(\s*(['"]?)(.*?)\1\s*\)""", re.DOTALL)
OUTSIDE = re.compile(r"(?:https?:)?//", re.IGNORECASE)  # an absolute or protocol-relative URL names a host
# Every HTML page the service serves, found or not: the docs, the schema router's 404 page, a plain 404.
HTML_PAGES = ["/schema/swagger", "/schema/no-such-page", "/no/such/page"]


class Page(HTMLParser):
    """The URLs a page refers to (src, href and CSS url()s in style attributes), and its inline code."""

    def __init__(self) -> None:
        super().__init__()
        self.references: list[str] = []
        self.inline: list[str] = []
        self.data: dict[str, str] = {}
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in ("src", "href", "action", "srcset", "poster", "data"):
                self.references.append(value)
            elif name == "style":
                self.references.extend(match[1] for match in CSS_URL.findall(value))
            elif name.startswith("data-"):
                self.data[name] = value
        self._open = tag if tag in ("script", "style") else None

    def handle_data(self, data: str) -> None:
        if self._open and data.strip():
            self.inline.append(f"<{self._open}>{data.strip()[:80]}")


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    return page


def assert_local(reference: str, where: str) -> None:
    """A reference resolves to this service: a path, or an inline data: URL."""
    if reference.startswith("data:"):
        return
    assert not OUTSIDE.match(reference.strip()), f"{where} refers to an outside host: {reference}"
    assert not urlsplit(reference).scheme, f"{where} refers to {reference}"


async def test_the_swagger_page_and_every_file_it_loads_come_from_here(client: httpx.AsyncClient) -> None:
    page = await client.get("/schema/swagger")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    parsed = parse(page.text)
    assert parsed.inline == []  # no inline script or style: the page's CSP forbids them
    assert len(parsed.references) >= 4  # icon, stylesheet, Swagger UI, the starter script
    loaded: dict[str, httpx.Response] = {}
    for reference in parsed.references:
        assert_local(reference, "/schema/swagger")
        url = urljoin("http://testserver/schema/swagger", reference)
        response = await client.get(url)
        assert response.status_code == 200, url
        assert response.content
        loaded[response.headers["content-type"].split(";")[0]] = response
    assert set(loaded) == {"image/png", "text/css", "text/javascript"}
    for url in CSS_URL.findall(loaded["text/css"].text):
        assert_local(url[1], "swagger-ui.css")
    # the document the starter script fetches is served here too
    document = await client.get(urljoin("http://testserver/", parsed.data["data-openapi-url"]))
    assert document.status_code == 200
    assert document.json()["info"]["title"] == "wlbtrack"


async def test_the_bundled_swagger_ui_can_render_the_served_document(client: httpx.AsyncClient) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    page = parse((await client.get("/schema/swagger")).text)
    bundle = next(ref for ref in page.references if ref.endswith("swagger-ui-bundle.js"))
    version = re.search(r'PACKAGE_VERSION:"(\d+)\.(\d+)\.(\d+)"', (await client.get(bundle)).text)
    assert version is not None
    if document["openapi"].startswith("3.1"):
        assert int(version[1]) >= 5  # Swagger UI 4 shows "Unable to render this definition" for OpenAPI 3.1


@pytest.mark.parametrize("path", HTML_PAGES)
async def test_no_page_refers_to_an_outside_host(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path, headers={"Accept": "text/html"})
    for reference in parse(response.text).references:
        assert_local(reference, path)
    assert not OUTSIDE.search(CSS_URL.sub("", response.text).replace("http://www.w3.org/", ""))


async def test_the_openapi_document_names_no_outside_host(client: httpx.AsyncClient) -> None:
    for path in ("/schema", "/schema/openapi.json"):
        document = (await client.get(path)).json()
        assert [text for text in every_string(document) if OUTSIDE.search(text)] == []


async def test_every_file_the_page_loads_answers_head_as_get(client: httpx.AsyncClient) -> None:
    page = parse((await client.get("/schema/swagger")).text)
    files = [reference for reference in page.references if reference.startswith("/schema/swagger-ui/")]
    assert len(files) >= 4
    for url in files:
        get, head = await client.get(url), await client.head(url)
        assert head.status_code == get.status_code == 200, url
        assert head.content == b""
        assert int(head.headers["content-length"]) == len(get.content), url
        for name in ("content-type", "cache-control", "etag", "last-modified", "content-security-policy"):
            assert head.headers[name] == get.headers[name], (url, name)
    assert (await client.head("/schema/swagger-ui/index.html")).status_code == 404


async def test_only_swagger_ui_files_are_served(client: httpx.AsyncClient) -> None:
    page = parse((await client.get("/schema/swagger")).text)
    folder = next(ref for ref in page.references if ref.endswith(".css")).rsplit("/", 1)[0]
    for name in ("index.html", "swagger-initializer.js", "oauth2-redirect.html", "..%2F..%2Fapp.py", "x"):
        assert (await client.get(f"{folder}/{name}")).status_code == 404, name
    # no OAuth2 here, so no redirect page (it would need an inline script)
    assert (await client.get("/schema/oauth2-redirect.html")).status_code == 404


async def test_the_docs_have_a_strict_content_security_policy(client: httpx.AsyncClient) -> None:
    for path in ("/schema/swagger", "/schema/swagger-ui/swagger-ui.css", "/schema/openapi.json"):
        policy = (await client.get(path)).headers["content-security-policy"]
        directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
        assert directives["default-src"] == ["'none'"]
        assert directives["script-src"] == ["'self'"]
        assert directives["style-src"] == ["'self'"]
        assert directives["img-src"] == ["'self'", "data:"]
        assert directives["connect-src"] == ["'self'"]
        assert directives["frame-ancestors"] == ["'none'"]
        assert directives["base-uri"] == ["'none'"]
