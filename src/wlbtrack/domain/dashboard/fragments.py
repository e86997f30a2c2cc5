"""Each page's own content rendered once per data version in this worker; the frame (the signed-in name, the
CSRF token of the logout form, the period selector) is rendered per request around it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from wlbtrack.domain.dashboard import charts, labels, linecharts
from wlbtrack.domain.progress.services import ProgressService
from wlbtrack.lib.caching import ResponseCache, ResultCache

Load = Callable[[AsyncSession], Awaitable[Any]]


@dataclass(frozen=True)
class Fragment:
    """A page's title and main content, rendered."""

    title: Markup
    main: Markup


class PageCache:
    """Rendered page contents by everything they depend on: the database and its data version, the
    catalogue version, the page's template and arguments, the period, and today's date (which decides the
    current quarter and whether a quarter is overdue). An entry is never stale, only unused; requests that
    miss the same key at once wait for one rendering (lib.caching.ResultCache)."""

    def __init__(
        self, responses: ResponseCache, results: ResultCache[Fragment], templates: Environment
    ) -> None:
        self.responses = responses
        self.results = results
        self.templates = templates

    async def fragment(
        self, progress: ProgressService, name: str, period: str, load: Load, *arguments: str
    ) -> Fragment:
        """The page `name` at the period, with `data` from `load` in a read session of its own if missing."""
        today = progress.periods.clock.today().isoformat()
        key = await self.responses.key(progress.catalogue.version, name, period, today, *arguments)

        async def render() -> Fragment:
            async with self.responses.database.read_sessions() as session:
                data = await load(session)
            module = self.templates.get_template(name).make_module(
                {
                    "labels": labels,
                    "charts": charts,
                    "lines": linecharts,
                    "catalogue": progress.catalogue,
                    "period": period,
                    "data": data,
                }
            )
            return Fragment(title=Markup(vars(module)["title"]), main=Markup(str(module)))

        return await self.results.get(key, render)
