"""Response schemas of the catalogue API."""

from __future__ import annotations

import msgspec


class DepartmentRef(msgspec.Struct):
    """A responsible department (担当部)."""

    code: str
    name: str


class DirectionRef(msgspec.Struct):
    """A policy direction (取り組みの方向性), by code and name."""

    code: str
    name: str


class GuidelineRef(msgspec.Struct):
    """A guideline (目安), by code and text."""

    code: str
    text: str


class CampaignPublic(msgspec.Struct):
    """A campaign (大作戦) with its policy directions."""

    code: str
    name: str
    tagline: str
    mechanism: str
    note: str | None
    directions: list[DirectionRef]


class DirectionPublic(msgspec.Struct):
    """A policy direction (取り組みの方向性) with its guidelines."""

    code: str
    name: str
    description: str
    note: str | None
    campaign: str
    guidelines: list[GuidelineRef]


class InitiativeGroupPublic(msgspec.Struct):
    """Main initiatives (主な取り組み) run together by the same departments."""

    initiatives: list[str]
    departments: list[DepartmentRef]


class GuidelinePublic(msgspec.Struct):
    """A guideline (目安) with its responsible departments and initiative groups."""

    code: str
    text: str
    note: str | None
    source: str
    direction: str
    campaign: str
    departments: list[DepartmentRef]
    initiative_groups: list[InitiativeGroupPublic]


class DepartmentPublic(msgspec.Struct):
    """A responsible department (担当部)."""

    code: str
    name: str
    name_en: str


class DepartmentDetail(msgspec.Struct):
    """A department with the guidelines it reports on."""

    code: str
    name: str
    name_en: str
    guidelines: list[GuidelineRef]


class InitiativePublic(msgspec.Struct):
    """A main initiative (主な取り組み) with the guideline it serves."""

    name: str
    guideline: str
    departments: list[DepartmentRef]


class CampaignList(msgspec.Struct):
    items: list[CampaignPublic]
    total: int


class DirectionList(msgspec.Struct):
    items: list[DirectionPublic]
    total: int


class GuidelineList(msgspec.Struct):
    items: list[GuidelinePublic]
    total: int


class DepartmentList(msgspec.Struct):
    items: list[DepartmentPublic]
    total: int


class InitiativeList(msgspec.Struct):
    items: list[InitiativePublic]
    total: int
