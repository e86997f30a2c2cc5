"""The catalogue as an in-memory snapshot (with its list responses encoded once), reloaded after a re-seed."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from litestar.di import NamedDependency
from litestar.serialization import encode_json
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from wlbtrack.db import ReadSession
from wlbtrack.domain.catalogue.models import (
    CAMPAIGN,
    DEPARTMENT,
    DIRECTION,
    GROUP,
    GROUP_DEPARTMENT,
    GUIDELINE,
    INITIATIVE,
    RESPONSIBILITY,
)
from wlbtrack.domain.catalogue.schemas import (
    CampaignList,
    CampaignPublic,
    DepartmentList,
    DepartmentPublic,
    DepartmentRef,
    DirectionList,
    DirectionPublic,
    DirectionRef,
    GuidelineList,
    GuidelinePublic,
    GuidelineRef,
    InitiativeGroupPublic,
)
from wlbtrack.lib import changes
from wlbtrack.lib.clock import Clock
from wlbtrack.lib.i18n import Term
from wlbtrack.lib.structs import from_attributes


@dataclass
class Catalogue:
    """The whole catalogue, by code, in document order, with database ids for queries."""

    version: int = -1
    campaigns: dict[str, CampaignPublic] = field(default_factory=dict)
    directions: dict[str, DirectionPublic] = field(default_factory=dict)
    guidelines: dict[str, GuidelinePublic] = field(default_factory=dict)
    departments: dict[str, DepartmentPublic] = field(default_factory=dict)
    guideline_ids: dict[str, int] = field(default_factory=dict)
    department_ids: dict[str, int] = field(default_factory=dict)

    def guideline_code(self, guideline_id: int) -> str:
        return self._guideline_codes[guideline_id]

    def department_code(self, department_id: int) -> str:
        return self._department_codes[department_id]

    def department_term(self, code: str) -> Term:
        """A department in a message: its code, in Japanese its name (the glossary never shows the slug)."""
        department = self.departments.get(code)
        return Term(code) if department is None else Term(code, ja=department.name)

    def responsible(self, guideline_code: str) -> set[str]:
        """Codes of the departments that report on a guideline."""
        return {department.code for department in self.guidelines[guideline_code].departments}

    def guidelines_of(self, department_code: str) -> list[GuidelineRef]:
        return [
            GuidelineRef(code=g.code, text=g.text)
            for g in self.guidelines.values()
            if any(d.code == department_code for d in g.departments)
        ]

    def encoded(self, key: str, build: Callable[[], object]) -> bytes:
        """The JSON of a response that depends only on this snapshot, encoded once per snapshot."""
        body = self._encoded.get(key)
        if body is None:
            body = self._encoded[key] = encode_json(build())
        return body

    def list_body(self, kind: str) -> bytes:
        """The JSON of an unfiltered list: 'campaigns', 'directions', 'guidelines' or 'departments'."""
        return self.encoded(kind, lambda: _LISTS[kind](self))

    def __post_init__(self) -> None:
        self._guideline_codes = {v: k for k, v in self.guideline_ids.items()}
        self._department_codes = {v: k for k, v in self.department_ids.items()}
        self._encoded: dict[str, bytes] = {}


_LISTS: dict[str, Callable[[Catalogue], object]] = {
    "campaigns": lambda c: CampaignList(items=list(c.campaigns.values()), total=len(c.campaigns)),
    "directions": lambda c: DirectionList(items=list(c.directions.values()), total=len(c.directions)),
    "guidelines": lambda c: GuidelineList(items=list(c.guidelines.values()), total=len(c.guidelines)),
    "departments": lambda c: DepartmentList(items=list(c.departments.values()), total=len(c.departments)),
}
LIST_KINDS = frozenset(_LISTS)


async def read_catalogue(session: AsyncSession, version: int) -> Catalogue:
    """Read every catalogue table once and assemble the public shapes."""
    departments = (await session.execute(select(DEPARTMENT).order_by(DEPARTMENT.c.position))).all()
    department_by_id = {d.id: d for d in departments}
    campaigns = (await session.execute(select(CAMPAIGN).order_by(CAMPAIGN.c.position))).all()
    directions = (await session.execute(select(DIRECTION).order_by(DIRECTION.c.position))).all()
    guidelines = (await session.execute(select(GUIDELINE).order_by(GUIDELINE.c.position))).all()
    groups = (await session.execute(select(GROUP).order_by(GROUP.c.guideline_id, GROUP.c.position))).all()
    initiatives: dict[int, list[str]] = defaultdict(list)
    for group_id, name in await session.execute(
        select(INITIATIVE.c.group_id, INITIATIVE.c.name).order_by(
            INITIATIVE.c.group_id, INITIATIVE.c.position
        )
    ):
        initiatives[group_id].append(name)
    group_departments: dict[int, set[int]] = defaultdict(set)
    for group_id, department_id in await session.execute(
        select(GROUP_DEPARTMENT.c.group_id, GROUP_DEPARTMENT.c.department_id)
    ):
        group_departments[group_id].add(department_id)
    responsible: dict[int, set[int]] = defaultdict(set)
    for guideline_id, department_id in await session.execute(
        select(RESPONSIBILITY.c.guideline_id, RESPONSIBILITY.c.department_id)
    ):
        responsible[guideline_id].add(department_id)

    def refs(ids: set[int]) -> list[DepartmentRef]:
        ordered = sorted((department_by_id[i] for i in ids), key=lambda d: d.position)
        return [DepartmentRef(code=d.code, name=d.name) for d in ordered]

    groups_by_guideline: dict[int, list[InitiativeGroupPublic]] = defaultdict(list)
    for group in groups:
        groups_by_guideline[group.guideline_id].append(
            InitiativeGroupPublic(
                initiatives=initiatives[group.id], departments=refs(group_departments[group.id])
            )
        )
    campaign_code = {c.id: c.code for c in campaigns}
    direction_by_id = {d.id: d for d in directions}
    guideline_public = {
        g.code: from_attributes(
            GuidelinePublic,
            g,
            direction=direction_by_id[g.direction_id].code,
            campaign=campaign_code[direction_by_id[g.direction_id].campaign_id],
            departments=refs(responsible[g.id]),
            initiative_groups=groups_by_guideline[g.id],
        )
        for g in guidelines
    }
    direction_public = {
        d.code: from_attributes(
            DirectionPublic,
            d,
            campaign=campaign_code[d.campaign_id],
            guidelines=[GuidelineRef(code=g.code, text=g.text) for g in guidelines if g.direction_id == d.id],
        )
        for d in directions
    }
    campaign_public = {
        c.code: from_attributes(
            CampaignPublic,
            c,
            directions=[DirectionRef(code=d.code, name=d.name) for d in directions if d.campaign_id == c.id],
        )
        for c in campaigns
    }
    return Catalogue(
        version=version,
        campaigns=campaign_public,
        directions=direction_public,
        guidelines=guideline_public,
        departments={d.code: from_attributes(DepartmentPublic, d) for d in departments},
        guideline_ids={g.code: g.id for g in guidelines},
        department_ids={d.code: d.id for d in departments},
    )


class CatalogueCache:
    """Holds the current catalogue; checks the database's catalogue version at most every `ttl` seconds.

    A catalogue used in the second half of its check interval is checked again in the background, so
    steady traffic never waits for the check, while no snapshot is served more than `ttl` after its check.
    """

    def __init__(self, sessions: async_sessionmaker[ReadSession], ttl: float, clock: Clock) -> None:
        self._sessions = sessions
        self._ttl = ttl
        self._clock = clock
        self._catalogue = Catalogue()
        self._checked_at = float("-inf")
        self._lock = asyncio.Lock()
        self._background: asyncio.Task[None] | None = None

    def fresh(self) -> Catalogue | None:
        """The catalogue if it was checked less than `ttl` seconds ago, without waiting; otherwise None."""
        age = self._clock.monotonic() - self._checked_at
        if age >= self._ttl:
            return None
        if age >= self._ttl / 2 and self._background is None:
            self._background = asyncio.create_task(self._check())
            self._background.add_done_callback(self._background_done)
        return self._catalogue

    async def get(self) -> Catalogue:
        """The catalogue, reloaded first if the seed changed it."""
        if self.fresh() is None:
            await self._check()
        return self._catalogue

    async def _check(self) -> None:
        """Compare the catalogue version with the database's and reload on a change; one check at a time."""
        async with self._lock:
            if self._clock.monotonic() - self._checked_at < self._ttl / 2:
                return  # checked by whoever held the lock before
            started = self._clock.monotonic()
            async with self._sessions() as session:
                version = await changes.current(session, changes.CATALOGUE)
                if version != self._catalogue.version:
                    self._catalogue = await read_catalogue(session, version)
            self._checked_at = started

    def _background_done(self, task: asyncio.Task[None]) -> None:
        self._background = None
        if not task.cancelled():
            task.exception()  # a failed check is retried by the next request; get() raises once stale


CatalogueDep = NamedDependency[Catalogue]
