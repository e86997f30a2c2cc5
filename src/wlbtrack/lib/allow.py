"""OPTIONS answers with every method of the path.

Litestar builds an OPTIONS handler when it first creates a path's route and lists that route's methods;
when it merges more handlers into the path later (GET and POST of one controller path, registered one
after the other), the new route keeps the first OPTIONS handler, whose `Allow` misses the later methods.
A 405 lists them all. This hook answers OPTIONS from the merged route, so both agree with the document.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.routes import HTTPRoute
from litestar.status_codes import HTTP_204_NO_CONTENT


def _methods(request: Request[Any, Any, Any]) -> list[str]:
    handler = request.scope["route_handler"]
    for route in request.app.routes:
        if isinstance(route, HTTPRoute) and any(h is handler for h in route.route_handlers):
            return sorted(route.methods)
    return ["OPTIONS"]  # pragma: no cover - every handler belongs to a route


async def answer_options(request: Request[Any, Any, Any]) -> Response[None] | None:
    """A before-request hook: OPTIONS is a 204 whose `Allow` lists every method of the path."""
    if request.method != "OPTIONS":
        return None
    return Response(
        content=None,
        status_code=HTTP_204_NO_CONTENT,
        headers={"Allow": ", ".join(_methods(request))},
        media_type="text/plain",
    )
