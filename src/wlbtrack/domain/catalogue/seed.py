"""Load seed/catalogue.yaml into the database, idempotently and in place."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import msgspec
import yaml
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col, select

from wlbtrack.domain.catalogue.models import (
    Campaign,
    Department,
    Direction,
    Guideline,
    Initiative,
    InitiativeGroup,
    InitiativeGroupDepartment,
    Responsibility,
)


class SeedGroup(msgspec.Struct, forbid_unknown_fields=True):
    initiatives: list[str]
    departments: list[str]


class SeedGuideline(msgspec.Struct, forbid_unknown_fields=True):
    code: str
    text: str
    initiative_groups: list[SeedGroup]
    note: str | None = None
    source: str = "table"


class SeedDirection(msgspec.Struct, forbid_unknown_fields=True):
    code: str
    name: str
    description: str
    guidelines: list[SeedGuideline]
    note: str | None = None


class SeedCampaign(msgspec.Struct, forbid_unknown_fields=True):
    code: str
    name: str
    tagline: str
    mechanism: str
    directions: list[SeedDirection]
    note: str | None = None


class SeedDepartment(msgspec.Struct, forbid_unknown_fields=True):
    code: str
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


ModelT = TypeVar("ModelT", bound=SQLModel)


async def _upsert(
    session: AsyncSession, model: type[ModelT], code: str, values: dict[str, Any], result: SeedResult
) -> ModelT:
    """Insert the row with this code, or update the fields that differ."""
    row = (await session.execute(select(model).where(model.code == code))).scalar_one_or_none()  # type: ignore[attr-defined]
    if row is None:
        row = model(code=code, **values)
        session.add(row)
        await session.flush()
        result.count(model.__name__, created=True)
        return row
    changed = False
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    if changed:
        await session.flush()
        result.count(model.__name__, created=False)
    return row


async def _current_groups(session: AsyncSession, guideline_id: int) -> list[tuple[list[str], list[int]]]:
    groups = (
        (
            await session.execute(
                select(InitiativeGroup)
                .where(InitiativeGroup.guideline_id == guideline_id)
                .order_by(col(InitiativeGroup.position))
            )
        )
        .scalars()
        .all()
    )
    shape: list[tuple[list[str], list[int]]] = []
    for group in groups:
        names = (
            await session.execute(
                select(Initiative.name)
                .where(Initiative.group_id == group.id)
                .order_by(col(Initiative.position))
            )
        ).scalars()
        departments = (
            await session.execute(
                select(InitiativeGroupDepartment.department_id)
                .where(InitiativeGroupDepartment.group_id == group.id)
                .order_by(col(InitiativeGroupDepartment.department_id))
            )
        ).scalars()
        shape.append((list(names), list(departments)))
    return shape


async def _sync_groups(
    session: AsyncSession,
    guideline: Guideline,
    groups: list[SeedGroup],
    department_ids: dict[str, int],
    result: SeedResult,
) -> None:
    """Replace the guideline's initiative groups when the seed's differ; nothing refers to them."""
    assert guideline.id is not None
    wanted = [
        (list(group.initiatives), sorted(department_ids[code] for code in group.departments))
        for group in groups
    ]
    if await _current_groups(session, guideline.id) == wanted:
        return
    old_ids = select(InitiativeGroup.id).where(InitiativeGroup.guideline_id == guideline.id)
    await session.execute(delete(Initiative).where(Initiative.group_id.in_(old_ids)))  # type: ignore[attr-defined]
    await session.execute(
        delete(InitiativeGroupDepartment).where(InitiativeGroupDepartment.group_id.in_(old_ids))  # type: ignore[attr-defined]
    )
    await session.execute(delete(InitiativeGroup).where(col(InitiativeGroup.guideline_id) == guideline.id))
    for position, (names, departments) in enumerate(wanted):
        group_row = InitiativeGroup(guideline_id=guideline.id, position=position)
        session.add(group_row)
        await session.flush()
        assert group_row.id is not None
        session.add_all(
            Initiative(group_id=group_row.id, name=name, position=i) for i, name in enumerate(names)
        )
        session.add_all(
            InitiativeGroupDepartment(group_id=group_row.id, department_id=department_id)
            for department_id in departments
        )
    await session.flush()
    result.count("InitiativeGroups", created=False)

    current = set(
        (
            await session.execute(
                select(Responsibility.department_id).where(Responsibility.guideline_id == guideline.id)
            )
        ).scalars()
    )
    responsible = {department_id for _, departments in wanted for department_id in departments}
    if current - responsible:
        await session.execute(
            delete(Responsibility).where(
                col(Responsibility.guideline_id) == guideline.id,
                Responsibility.department_id.in_(current - responsible),  # type: ignore[attr-defined]
            )
        )
    session.add_all(
        Responsibility(guideline_id=guideline.id, department_id=department_id)
        for department_id in responsible - current
    )
    await session.flush()


async def load_seed(session: AsyncSession, catalogue: SeedCatalogue) -> SeedResult:
    """Bring the catalogue tables in line with the seed; ids of existing rows never change."""
    result = SeedResult()
    department_ids: dict[str, int] = {}
    for position, seed_department in enumerate(catalogue.departments):
        department = await _upsert(
            session,
            Department,
            seed_department.code,
            {"name": seed_department.name, "name_en": seed_department.name_en, "position": position},
            result,
        )
        assert department.id is not None
        department_ids[department.code] = department.id
    direction_position = guideline_position = 0
    for campaign_position, seed_campaign in enumerate(catalogue.campaigns):
        campaign = await _upsert(
            session,
            Campaign,
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
            direction = await _upsert(
                session,
                Direction,
                seed_direction.code,
                {
                    "campaign_id": campaign.id,
                    "name": seed_direction.name,
                    "description": seed_direction.description,
                    "note": seed_direction.note,
                    "position": direction_position,
                },
                result,
            )
            direction_position += 1
            for seed_guideline in seed_direction.guidelines:
                guideline = await _upsert(
                    session,
                    Guideline,
                    seed_guideline.code,
                    {
                        "direction_id": direction.id,
                        "text": seed_guideline.text,
                        "note": seed_guideline.note,
                        "source": seed_guideline.source,
                        "position": guideline_position,
                    },
                    result,
                )
                guideline_position += 1
                await _sync_groups(
                    session, guideline, seed_guideline.initiative_groups, department_ids, result
                )
    return result


async def catalogue_is_empty(session: AsyncSession) -> bool:
    """Whether no campaign has been loaded yet."""
    return (await session.execute(select(Campaign.id).limit(1))).first() is None
