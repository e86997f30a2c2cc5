"""Response schemas of the catalogue API, and the forms of its codes in parameters."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar.params import PathParameter, QueryParameter

from wlbtrack.lib.validation import Code

# The forms of the catalogue's codes. The seed file must follow them (seed.py), so the document states
# them for every code parameter; the service still answers any code it does not have, of whatever form,
# as unknown: 404 in a path, 422 naming the parameter in a query filter.
CODE_MAX_LENGTH = 64
CAMPAIGN_CODE = r"^[1-9][0-9]{0,2}$"
DIRECTION_CODE = r"^[1-9][0-9]{0,2}\.[1-9][0-9]{0,2}$"
GUIDELINE_CODE = r"^[1-9][0-9]{0,2}\.[1-9][0-9]{0,2}\.[1-9][0-9]{0,2}$"
DEPARTMENT_CODE = r"^[a-z][a-z0-9-]*$"


def _form(pattern: str) -> dict[str, Any]:
    """A code parameter's schema keywords; stated in the document only, as the docstring above says."""
    return {"pattern": pattern, "minLength": 1, "maxLength": CODE_MAX_LENGTH}


CAMPAIGN = "Campaign (大作戦) code, e.g. 1"
DIRECTION = "Policy direction (取り組みの方向性) code, e.g. 1.2"
GUIDELINE = "Guideline (目安) code, e.g. 1.1.4"
DEPARTMENT = "Department (担当部) code, e.g. children"
UNKNOWN_FILTER = "; a code the plan does not have is a 422 naming the parameter"
CampaignFilter = Annotated[
    str | None, QueryParameter(description=CAMPAIGN + UNKNOWN_FILTER, schema_extra=_form(CAMPAIGN_CODE))
]
DirectionFilter = Annotated[
    str | None, QueryParameter(description=DIRECTION + UNKNOWN_FILTER, schema_extra=_form(DIRECTION_CODE))
]
GuidelineFilter = Annotated[
    str | None, QueryParameter(description=GUIDELINE + UNKNOWN_FILTER, schema_extra=_form(GUIDELINE_CODE))
]
DepartmentFilter = Annotated[
    str | None,
    QueryParameter(description=DEPARTMENT + UNKNOWN_FILTER, schema_extra=_form(DEPARTMENT_CODE)),
]
# Codes in request bodies: any visible text (lib.validation.Code), its form stated in the document only, as
# for parameters; a code the plan does not have is a 422 naming the field
GuidelineCodeIn = Annotated[Code, msgspec.Meta(extra_json_schema={"extra": {"pattern": GUIDELINE_CODE}})]
DepartmentCodeIn = Annotated[Code, msgspec.Meta(extra_json_schema={"extra": {"pattern": DEPARTMENT_CODE}})]
CampaignPath = Annotated[str, PathParameter(description=CAMPAIGN, schema_extra=_form(CAMPAIGN_CODE))]
DirectionPath = Annotated[str, PathParameter(description=DIRECTION, schema_extra=_form(DIRECTION_CODE))]
GuidelinePath = Annotated[str, PathParameter(description=GUIDELINE, schema_extra=_form(GUIDELINE_CODE))]
DepartmentPath = Annotated[str, PathParameter(description=DEPARTMENT, schema_extra=_form(DEPARTMENT_CODE))]


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
