"""The Swagger UI page at /schema/swagger, with every file it loads served by the service itself."""

from __future__ import annotations

from html import escape
from importlib.resources import files
from pathlib import Path
from typing import Any

from litestar import Request, Router, get, head
from litestar.datastructures import CacheControlHeader
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.params import FromPath
from litestar.response.file import ASGIFileResponse
from swagger_ui_bundle import swagger_ui_path

from wlbtrack.lib.errors import ProblemError
from wlbtrack.lib.i18n import Msg

# Ward networks reach no internet (LGWAN), and people paste tokens into this page: nothing comes from a CDN.
ASSETS: dict[str, tuple[Path, str]] = {
    "swagger-ui-bundle.js": (Path(swagger_ui_path) / "swagger-ui-bundle.js", "text/javascript"),
    "swagger-ui.css": (Path(swagger_ui_path) / "swagger-ui.css", "text/css"),
    "favicon-32x32.png": (Path(swagger_ui_path) / "favicon-32x32.png", "image/png"),
    "swagger-init.js": (Path(str(files("wlbtrack.lib") / "static" / "swagger-init.js")), "text/javascript"),
}
ASSET_ROUTE = "swagger_ui_asset"
ASSET_PATH = "/swagger-ui/{file:str}"
ASSET_CACHE = CacheControlHeader(public=True, max_age=86400)


def asset_response(file: str, *, head: bool) -> ASGIFileResponse:
    """One of Swagger UI's files, from the installed swagger-ui-bundle-v2 package (or ours); for HEAD, the
    headers GET sends and no body.

    Built here rather than returned as a File: Litestar 2 sends a File's body to HEAD too, and leaves
    Content-Type and the route's Cache-Control off such a response (its static-files router does the same).
    """
    if file not in ASSETS:
        raise ProblemError(404, Msg("no such file: {file}", file=file), field="file")
    path, media_type = ASSETS[file]
    content_type = f"{media_type}; charset=utf-8" if media_type.startswith("text/") else media_type
    return ASGIFileResponse(
        file_path=path,
        filename=path.name,
        content_disposition_type="inline",
        media_type=media_type,
        headers={"content-type": content_type, ASSET_CACHE.HEADER_NAME: ASSET_CACHE.to_header()},
        is_head_response=head,
    )


@get(ASSET_PATH, name=ASSET_ROUTE, sync_to_thread=False, include_in_schema=False)
def swagger_ui_asset(file: FromPath[str]) -> ASGIFileResponse:
    """One of Swagger UI's files."""
    return asset_response(file, head=False)


@head(ASSET_PATH, sync_to_thread=False, include_in_schema=False)
def swagger_ui_asset_head(file: FromPath[str]) -> ASGIFileResponse:
    """The headers of one of Swagger UI's files, as GET answers them."""
    return asset_response(file, head=True)


class LocalSwaggerRenderPlugin(OpenAPIRenderPlugin):
    """Litestar's Swagger page without the CDN and without inline script: its files come from this service."""

    def __init__(self, path: str = "/swagger") -> None:
        super().__init__(path=path, favicon="", style="")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        """The HTML page; the script in swagger-init.js loads the document from the OpenAPI JSON route."""

        def asset(name: str) -> str:
            return escape(request.app.route_reverse(ASSET_ROUTE, file=name))

        page = f"""<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{escape(openapi_schema["info"]["title"])}</title>
    <link rel="icon" type="image/png" href="{asset("favicon-32x32.png")}">
    <link rel="stylesheet" href="{asset("swagger-ui.css")}">
  </head>
  <body>
    <div id="swagger-ui" data-openapi-url="{escape(self.get_openapi_json_route(request))}"></div>
    <script src="{asset("swagger-ui-bundle.js")}"></script>
    <script src="{asset("swagger-init.js")}"></script>
  </body>
</html>
"""
        return page.encode()

    def receive_router(self, router: Router) -> None:
        """Serve Swagger UI's files beside the page (not Litestar's OAuth2 redirect page: no OAuth2 here)."""
        router.register(swagger_ui_asset)
        router.register(swagger_ui_asset_head)
