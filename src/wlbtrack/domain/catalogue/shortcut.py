"""The unfiltered catalogue lists, answered before routing for callers whose token is already cached."""

from __future__ import annotations

from litestar.types import HTTPScope

from wlbtrack.domain.auth.middleware import parse_bearer
from wlbtrack.domain.auth.tokens import TokenCache
from wlbtrack.domain.catalogue.snapshot import LIST_KINDS, CatalogueCache
from wlbtrack.lib.observe import ReadyResponse
from wlbtrack.lib.ratelimit import COUNTED, RateLimiter

JSON_CONTENT = (b"content-type", b"application/json")


class CatalogueShortcut:
    """GET {prefix}/campaigns, /directions, /guidelines and /departments, straight from the encoded snapshot.

    These lists change only when `wlbtrack seed` runs, yet are polled more than anything else, and
    routing, authentication and dependency injection cost several times what sending them does. The
    shortcut answers only when the handler would send the same 200: no query string, a well-formed bearer
    token already in the token cache, a catalogue checked within its TTL, no Origin header (CORS stays
    with Litestar) and a rate limiter that allows the request. Otherwise it returns None and the request
    is routed as usual; a request the limiter refused carries its decision along, so it is counted once.
    """

    def __init__(self, prefix: str) -> None:
        self.kinds = {f"{prefix}/{kind}": kind for kind in LIST_KINDS}

    async def __call__(self, scope: HTTPScope) -> ReadyResponse | None:
        """The response for this request, or None when it must go through the application."""
        kind = self.kinds.get(scope["path"])
        if kind is None or scope["method"] != "GET" or scope["query_string"]:
            return None
        authorization = None
        for name, value in scope["headers"]:
            if name == b"authorization" and authorization is None:  # the first, as Litestar reads it
                authorization = value
            elif name == b"origin":
                return None
        state = scope["litestar_app"].state
        tokens: TokenCache | None = state.get("token_cache")
        catalogue_cache: CatalogueCache | None = state.get("catalogue_cache")
        if authorization is None or tokens is None or catalogue_cache is None:
            return None
        token = parse_bearer(authorization.decode("latin-1"))
        principal = tokens.get(token) if token is not None else None
        catalogue = catalogue_cache.fresh()
        if token is None or principal is None or catalogue is None:
            return None
        limiter: RateLimiter | None = state.get("rate_limiter")
        decision = await limiter.check(token) if limiter is not None else None
        if decision is not None and not decision.allowed:
            scope[COUNTED] = decision  # type: ignore[literal-required]
            return None
        scope["user"] = principal
        scope["auth"] = token
        scope["path_template"] = scope["path"]
        body = catalogue.list_body(kind)
        headers = [JSON_CONTENT, (b"content-length", str(len(body)).encode())]
        if decision is not None:
            headers.extend(decision.raw_headers())
        return ReadyResponse(headers=headers, body=body)
