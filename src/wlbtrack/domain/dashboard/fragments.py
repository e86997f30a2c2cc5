"""Signed-in pages rendered once per data version in this worker, but for the two parts that belong to the
request: the logout form's CSRF token and the signed-in name."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment
from markupsafe import Markup, escape
from sqlalchemy.ext.asyncio import AsyncSession

from wlbtrack.domain.dashboard import charts, labels, linecharts, pages
from wlbtrack.domain.progress.services import ProgressService
from wlbtrack.lib.caching import ResponseCache, ResultCache

Load = Callable[[AsyncSession], Awaitable[Any]]
# stands in a cached page for what each request fills in; random, so no page content can contain it
PER_REQUEST = Markup("\x00" + secrets.token_hex(16))


@dataclass(frozen=True)
class Page:
    """A signed-in page, encoded, around the places of the CSRF token and the signed-in name."""

    before: bytes
    between: bytes
    after: bytes

    def body(self, csrf: str, who: str) -> bytes:
        """The page for one request: its own CSRF token and name, escaped."""
        return b"".join(
            (self.before, str(escape(csrf)).encode(), self.between, str(escape(who)).encode(), self.after)
        )


class PageCache:
    """Rendered signed-in pages by everything they depend on: the database and its data version, the
    catalogue version, the page's template, path and arguments, the period, and today's date (which decides
    the current quarter, so the period choices, and whether a quarter is overdue). An entry is never stale,
    only unused; requests that miss the same key at once wait for one rendering (lib.caching.ResultCache)."""

    def __init__(self, responses: ResponseCache, results: ResultCache[Page], templates: Environment) -> None:
        self.responses = responses
        self.results = results
        self.templates = templates

    async def page(
        self, progress: ProgressService, name: str, period: str, path: str, load: Load, *arguments: str
    ) -> Page:
        """The page `name` (its content from the template `name`, its data from `load` in a read session of
        its own) inside the nav and the period selector."""
        today = progress.periods.clock.today().isoformat()
        key = await self.responses.key(progress.catalogue.version, name, period, today, path, *arguments)

        async def render() -> Page:
            async with self.responses.database.read_sessions() as session:
                data = await load(session)
            context = {"labels": labels, "catalogue": progress.catalogue, "period": period}
            content = self.templates.get_template(name).make_module(
                {**context, "charts": charts, "lines": linecharts, "data": data}
            )
            whole = self.templates.get_template("page.html").render(
                **context,
                periods=pages.period_choices(progress.periods),
                path=path,
                title=Markup(vars(content)["title"]),
                main=Markup(str(content)),
                csrf=PER_REQUEST,
                who=PER_REQUEST,
            )
            before, between, after = whole.split(PER_REQUEST)
            return Page(before.encode(), between.encode(), after.encode())

        return await self.results.get(key, render)
