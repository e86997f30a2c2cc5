"""Table models of the plan catalogue, loaded from seed/catalogue.yaml."""

from __future__ import annotations

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from wlbtrack.lib.tables import table


class Department(SQLModel, table=True):
    """A responsible department (担当部)."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    name_en: str = Field(default="", max_length=200)
    position: int = 0


class Campaign(SQLModel, table=True):
    """A campaign (大作戦), one of the plan's three mechanisms (実現のための仕掛け)."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True)
    name: str = Field(max_length=200)
    tagline: str = Field(max_length=200)
    mechanism: str = Field(max_length=200)
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    position: int = 0


class Direction(SQLModel, table=True):
    """A policy direction (取り組みの方向性) of a campaign."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    name: str = Field(max_length=200)
    description: str = Field(sa_column=Column(Text, nullable=False))
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    position: int = 0


class Guideline(SQLModel, table=True):
    """A guideline (推進に向けた取り組みの目安): one row of a direction's detailed table."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True)
    direction_id: int = Field(foreign_key="direction.id", index=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    source: str = Field(default="table", max_length=16)
    position: int = 0


class InitiativeGroup(SQLModel, table=True):
    """A group of main initiatives (主な取り組み) under a guideline, owned by its departments."""

    __tablename__ = "initiative_group"

    id: int | None = Field(default=None, primary_key=True)
    guideline_id: int = Field(foreign_key="guideline.id", index=True)
    position: int = 0


class Initiative(SQLModel, table=True):
    """One main initiative (主な取り組み)."""

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="initiative_group.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=300)
    position: int = 0


class InitiativeGroupDepartment(SQLModel, table=True):
    """A department responsible for an initiative group."""

    __tablename__ = "initiative_group_department"

    group_id: int = Field(foreign_key="initiative_group.id", primary_key=True, ondelete="CASCADE")
    department_id: int = Field(foreign_key="department.id", primary_key=True, index=True)


class Responsibility(SQLModel, table=True):
    """A (guideline, department) pair: the department reports on the guideline."""

    guideline_id: int = Field(foreign_key="guideline.id", primary_key=True)
    department_id: int = Field(foreign_key="department.id", primary_key=True, index=True)


# Their Core tables, for queries
DEPARTMENT, CAMPAIGN, DIRECTION, GUIDELINE = (table(m) for m in (Department, Campaign, Direction, Guideline))
GROUP, INITIATIVE = table(InitiativeGroup), table(Initiative)
GROUP_DEPARTMENT, RESPONSIBILITY = table(InitiativeGroupDepartment), table(Responsibility)
