"""Entity tags for progress and export responses, derived from the request and the data version."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from litestar import MediaType, Request, Response
from litestar.openapi.datastructures import ResponseSpec
from litestar.serialization import encode_json
from sqlalchemy.ext.asyncio import AsyncSession

from wlbtrack.db import Database
from wlbtrack.domain.catalogue.snapshot import Catalogue
from wlbtrack.lib.data_version import DataVersion

T = TypeVar("T")

NOT_MODIFIED = ResponseSpec(
    data_container=None, description="Not modified: the ETag sent in If-None-Match is still current"
)


class ResultCache:
    """This worker's recent progress results as encoded JSON, by ETag (which includes the data version)."""

    def __init__(self, max_entries: int) -> None:
        self._max_entries = max_entries
        self._entries: OrderedDict[str, bytes] = OrderedDict()

    def get(self, tag: str) -> bytes | None:
        value = self._entries.get(tag)
        if value is not None:
            self._entries.move_to_end(tag)
        return value

    def put(self, tag: str, value: bytes) -> None:
        self._entries[tag] = value
        self._entries.move_to_end(tag)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)


RESULTS = ResultCache(max_entries=128)


@dataclass(frozen=True)
class Conditional:
    """The ETag of a response, whether the client already holds it, and where to compute it if not."""

    tag: str
    fresh: bool
    database: Database

    @classmethod
    async def of(cls, request: Request[Any, Any, Any], catalogue: Catalogue, *resolved: str) -> Conditional:
        """The tag of this request (path, query and resolved defaults) at the current data version.

        The database comes from the application's state rather than as a dependency: with two
        dependencies Litestar resolves them in an anyio task group, which costs a cached response a
        fifth of its time (benchmarks/RESULTS.md, Findings).

        The version is read before the data, so a write racing the response can only make the tag
        older than the body, never newer: the client then refetches. On PostgreSQL the version is this
        worker's copy (lib.data_version): the writing worker knows its write before responding, other
        workers and instances learn it by NOTIFY on commit, so for a few milliseconds after another
        worker's write they may still answer with the previous tag and body.
        """
        data_version: DataVersion = request.app.state.data_version
        version = await data_version.current()
        query = sorted(request.query_params.multi_items())
        material = repr((request.url.path, query, resolved, version, catalogue.version))
        tag = '"' + hashlib.sha256(material.encode("utf-8")).hexdigest()[:32] + '"'
        header = request.headers.get("if-none-match", "")
        held = {item.strip().removeprefix("W/") for item in header.split(",")}
        return cls(tag=tag, fresh=tag in held or "*" in held, database=request.app.state.database)

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

    async def respond_cached(self, compute: Callable[[AsyncSession], Awaitable[T]]) -> Response[T]:
        """200 with the content for this tag, computed and encoded only if this worker has not done so yet.

        Progress changes only on writes, and every write changes the data version and so the tag.
        """
        body = RESULTS.get(self.tag)
        if body is None:
            async with self.database.read_sessions() as session:
                body = encode_json(await compute(session))
            RESULTS.put(self.tag, body)
        return cast("Response[T]", Response(content=body, media_type=MediaType.JSON, headers=self.headers))
