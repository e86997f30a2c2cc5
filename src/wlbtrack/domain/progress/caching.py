"""Entity tags for progress and export responses, derived from the request and the data version."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, TypeVar

from litestar import Request, Response
from litestar.openapi.datastructures import ResponseSpec
from sqlalchemy.ext.asyncio import AsyncSession

from wlbtrack.domain.catalogue.snapshot import Catalogue
from wlbtrack.lib import changes

T = TypeVar("T")

NOT_MODIFIED = ResponseSpec(
    data_container=None, description="Not modified: the ETag sent in If-None-Match is still current"
)


@dataclass(frozen=True)
class Conditional:
    """The ETag of a response and whether the client already holds it."""

    tag: str
    fresh: bool

    @classmethod
    async def of(
        cls, request: Request[Any, Any, Any], session: AsyncSession, catalogue: Catalogue, *resolved: str
    ) -> Conditional:
        """The tag of this request (path, query and resolved defaults) at the current data version.

        The version is read before the data, so a write racing the response can only make the tag
        older than the body, never newer: the client then refetches.
        """
        version = await changes.current(session, changes.DATA)
        query = sorted(request.query_params.multi_items())
        material = repr((request.url.path, query, resolved, version, catalogue.version))
        tag = '"' + hashlib.sha256(material.encode("utf-8")).hexdigest()[:32] + '"'
        header = request.headers.get("if-none-match", "")
        held = {item.strip().removeprefix("W/") for item in header.split(",")}
        return cls(tag=tag, fresh=tag in held or "*" in held)

    @property
    def headers(self) -> dict[str, str]:
        """ETag plus a Cache-Control that makes clients revalidate."""
        return {"ETag": self.tag, "Cache-Control": "private, no-cache"}

    def not_modified(self) -> Response[Any]:
        """304 with the tag and no body."""
        return Response(content=None, status_code=304, headers=self.headers)

    def respond(self, content: T) -> Response[T]:
        """200 with the content and the tag."""
        return Response(content=content, headers=self.headers)
