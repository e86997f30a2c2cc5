"""Load seed/catalogue.yaml into the database, idempotently and in place."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import msgspec
import yaml
from sqlalchemy import Table, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from wlbtrack.domain.catalogue import models as tables
from wlbtrack.domain.catalogue.schemas import (
    CAMPAIGN_CODE,
    CODE_MAX_LENGTH,
    DEPARTMENT_CODE,
    DIRECTION_CODE,
    GUIDELINE_CODE,
)

KINDS = {
    tables.DEPARTMENT: "Department",
    tables.CAMPAIGN: "Campaign",
    tables.DIRECTION: "Direction",
    tables.GUIDELINE: "Guideline",
}


# Codes of the forms the API documents
CampaignCode = Annotated[str, msgspec.Meta(pattern=CAMPAIGN_CODE, max_length=CODE_MAX_LENGTH)]
DirectionCode = Annotated[str, msgspec.Meta(pattern=DIRECTION_CODE, max_length=CODE_MAX_LENGTH)]
GuidelineCode = Annotated[str, msgspec.Meta(pattern=GUIDELINE_CODE, max_length=CODE_MAX_LENGTH)]
DepartmentCode = Annotated[str, msgspec.Meta(pattern=DEPARTMENT_CODE, max_length=CODE_MAX_LENGTH)]


class SeedGroup(msgspec.Struct, forbid_unknown_fields=True):
    initiatives: list[str]
    departments: list[DepartmentCode]


class SeedGuideline(msgspec.Struct, forbid_unknown_fields=True):
    code: GuidelineCode
    text: str
    initiative_groups: list[SeedGroup]
    note: str | None = None
    source: str = "table"


class SeedDirection(msgspec.Struct, forbid_unknown_fields=True):
    code: DirectionCode
    name: str
    description: str
    guidelines: list[SeedGuideline]
    note: str | None = None


class SeedCampaign(msgspec.Struct, forbid_unknown_fields=True):
    code: CampaignCode
    name: str
    tagline: str
    mechanism: str
    directions: list[SeedDirection]
    note: str | None = None


class SeedDepartment(msgspec.Struct, forbid_unknown_fields=True):
    code: DepartmentCode
    name: str
    name_en: str = ""


class SeedCatalogue(msgspec.Struct, forbid_unknown_fields=True):
    departments: list[SeedDepartment]
    campaigns: list[SeedCampaign]


class SeedError(ValueError):
    """The seed file is not a valid catalogue."""


@dataclass
class SeedResult:
    """What a seed run changed."""

    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str, created: bool) -> None:
        target = self.created if created else self.updated
        target[kind] = target.get(kind, 0) + 1

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


def read_seed(path: Path) -> SeedCatalogue:
    """Parse and check the seed file."""
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        catalogue = msgspec.convert(raw, SeedCatalogue)
    except (OSError, yaml.YAMLError, msgspec.ValidationError) as exc:
        raise SeedError(f"{path}: {exc}") from exc
    known = {department.code for department in catalogue.departments}
    for campaign in catalogue.campaigns:
        for direction in campaign.directions:
            for guideline in direction.guidelines:
                for group in guideline.initiative_groups:
                    unknown = set(group.departments) - known
                    if unknown:
                        raise SeedError(f"guideline {guideline.code}: unknown departments {sorted(unknown)}")
    return catalogue


async def _upsert(
    session: AsyncSession, target: Table, code: str, values: dict[str, Any], result: SeedResult
) -> int:
    """Insert the row with this code, or update the fields that differ; its id."""
    row = (await session.execute(select(target).where(target.c.code == code))).first()
    if row is None:
        inserted = await session.execute(target.insert().values(code=code, **values).returning(target.c.id))
        result.count(KINDS[target], created=True)
        return int(inserted.scalar_one())
    changed = {key: value for key, value in values.items() if getattr(row, key) != value}
    if changed:
        await session.execute(update(target).where(target.c.id == row.id).values(**changed))
        result.count(KINDS[target], created=False)
    return int(row.id)


async def _current_groups(session: AsyncSession, guideline_id: int) -> list[tuple[list[str], list[int]]]:
    group_ids = (
        await session.execute(
            select(tables.GROUP.c.id)
            .where(tables.GROUP.c.guideline_id == guideline_id)
            .order_by(tables.GROUP.c.position)
        )
    ).scalars()
    shape: list[tuple[list[str], list[int]]] = []
    for group_id in list(group_ids):
        names = (
            await session.execute(
                select(tables.INITIATIVE.c.name)
                .where(tables.INITIATIVE.c.group_id == group_id)
                .order_by(tables.INITIATIVE.c.position)
            )
        ).scalars()
        departments = (
            await session.execute(
                select(tables.GROUP_DEPARTMENT.c.department_id)
                .where(tables.GROUP_DEPARTMENT.c.group_id == group_id)
                .order_by(tables.GROUP_DEPARTMENT.c.department_id)
            )
        ).scalars()
        shape.append((list(names), list(departments)))
    return shape


async def _sync_groups(
    session: AsyncSession,
    guideline_id: int,
    groups: list[SeedGroup],
    department_ids: dict[str, int],
    result: SeedResult,
) -> None:
    """Replace the guideline's initiative groups when the seed's differ; nothing refers to them."""
    wanted = [
        (list(group.initiatives), sorted(department_ids[code] for code in group.departments))
        for group in groups
    ]
    if await _current_groups(session, guideline_id) == wanted:
        return
    old_ids = select(tables.GROUP.c.id).where(tables.GROUP.c.guideline_id == guideline_id)
    await session.execute(delete(tables.INITIATIVE).where(tables.INITIATIVE.c.group_id.in_(old_ids)))
    await session.execute(
        delete(tables.GROUP_DEPARTMENT).where(tables.GROUP_DEPARTMENT.c.group_id.in_(old_ids))
    )
    await session.execute(delete(tables.GROUP).where(tables.GROUP.c.guideline_id == guideline_id))
    for position, (names, departments) in enumerate(wanted):
        group_id = (
            await session.execute(
                tables.GROUP.insert()
                .values(guideline_id=guideline_id, position=position)
                .returning(tables.GROUP.c.id)
            )
        ).scalar_one()
        if names:
            await session.execute(
                tables.INITIATIVE.insert(),
                [{"group_id": group_id, "name": name, "position": i} for i, name in enumerate(names)],
            )
        if departments:
            await session.execute(
                tables.GROUP_DEPARTMENT.insert(),
                [{"group_id": group_id, "department_id": department_id} for department_id in departments],
            )
    result.count("InitiativeGroups", created=False)

    current = set(
        (
            await session.execute(
                select(tables.RESPONSIBILITY.c.department_id).where(
                    tables.RESPONSIBILITY.c.guideline_id == guideline_id
                )
            )
        ).scalars()
    )
    responsible = {department_id for _, departments in wanted for department_id in departments}
    if current - responsible:
        await session.execute(
            delete(tables.RESPONSIBILITY).where(
                tables.RESPONSIBILITY.c.guideline_id == guideline_id,
                tables.RESPONSIBILITY.c.department_id.in_(current - responsible),
            )
        )
    if responsible - current:
        await session.execute(
            tables.RESPONSIBILITY.insert(),
            [
                {"guideline_id": guideline_id, "department_id": department_id}
                for department_id in sorted(responsible - current)
            ],
        )


async def load_seed(session: AsyncSession, catalogue: SeedCatalogue) -> SeedResult:
    """Bring the catalogue tables in line with the seed; ids of existing rows never change."""
    result = SeedResult()
    department_ids: dict[str, int] = {}
    for position, seed_department in enumerate(catalogue.departments):
        department_ids[seed_department.code] = await _upsert(
            session,
            tables.DEPARTMENT,
            seed_department.code,
            {"name": seed_department.name, "name_en": seed_department.name_en, "position": position},
            result,
        )
    direction_position = guideline_position = 0
    for campaign_position, seed_campaign in enumerate(catalogue.campaigns):
        campaign_id = await _upsert(
            session,
            tables.CAMPAIGN,
            seed_campaign.code,
            {
                "name": seed_campaign.name,
                "tagline": seed_campaign.tagline,
                "mechanism": seed_campaign.mechanism,
                "note": seed_campaign.note,
                "position": campaign_position,
            },
            result,
        )
        for seed_direction in seed_campaign.directions:
            direction_id = await _upsert(
                session,
                tables.DIRECTION,
                seed_direction.code,
                {
                    "campaign_id": campaign_id,
                    "name": seed_direction.name,
                    "description": seed_direction.description,
                    "note": seed_direction.note,
                    "position": direction_position,
                },
                result,
            )
            direction_position += 1
            for seed_guideline in seed_direction.guidelines:
                guideline_id = await _upsert(
                    session,
                    tables.GUIDELINE,
                    seed_guideline.code,
                    {
                        "direction_id": direction_id,
                        "text": seed_guideline.text,
                        "note": seed_guideline.note,
                        "source": seed_guideline.source,
                        "position": guideline_position,
                    },
                    result,
                )
                guideline_position += 1
                await _sync_groups(
                    session, guideline_id, seed_guideline.initiative_groups, department_ids, result
                )
    return result


async def catalogue_is_empty(session: AsyncSession) -> bool:
    """Whether no campaign has been loaded yet."""
    return (await session.execute(select(tables.CAMPAIGN.c.id).limit(1))).first() is None
