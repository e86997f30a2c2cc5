"""Read API of the plan catalogue."""

from __future__ import annotations

from typing import Annotated, TypeVar, cast

from litestar import Controller, get
from litestar.params import QueryParameter

from wlbtrack.domain.catalogue.schemas import (
    CampaignFilter,
    CampaignList,
    CampaignPath,
    CampaignPublic,
    DepartmentDetail,
    DepartmentFilter,
    DepartmentList,
    DepartmentPath,
    DirectionFilter,
    DirectionList,
    DirectionPath,
    DirectionPublic,
    GuidelineList,
    GuidelinePath,
    GuidelinePublic,
    InitiativeList,
    InitiativePublic,
)
from wlbtrack.domain.catalogue.services import CatalogueDep
from wlbtrack.lib.errors import ProblemError
from wlbtrack.lib.i18n import Msg
from wlbtrack.lib.responses import NOT_FOUND, errors

FILTER_ERRORS = errors(422)

T = TypeVar("T")


# A handler may return bytes from Catalogue.encoded: Litestar sends them unchanged as application/json,
# while the annotated return type still describes the response in the OpenAPI document.


NO_SUCH_CODE = {
    "campaign": Msg("no campaign with code {code!r}"),
    "direction": Msg("no direction with code {code!r}"),
    "guideline": Msg("no guideline with code {code!r}"),
    "department": Msg("no department with code {code!r}"),
}


def _one(kind: str, items: dict[str, T], code: str) -> T:
    """The item with this code; 404 naming `code` when there is none."""
    if code not in items:
        raise ProblemError(404, Msg(NO_SUCH_CODE[kind].template, code=code), field="code")
    return items[code]


def _filter(kind: str, items: dict[str, T], name: str, code: str | None) -> str | None:
    """A query filter's code, checked: 422 naming the parameter when nothing has it (as every filter does)."""
    if code is not None and code not in items:
        raise ProblemError(422, Msg(NO_SUCH_CODE[kind].template, code=code), field=name)
    return code


class CampaignController(Controller):
    """Campaigns (大作戦)."""

    path = "/campaigns"
    tags = ("catalogue",)

    @get("/", summary="List campaigns (大作戦)", responses=errors())
    async def list_campaigns(self, catalogue: CatalogueDep) -> CampaignList:
        """The three campaigns (大作戦, "great campaign"): the plan's mechanisms for work-life balance."""
        return cast("CampaignList", catalogue.list_body("campaigns"))

    @get("/{code:str}", summary="Get a campaign (大作戦)", responses=NOT_FOUND)
    async def get_campaign(self, catalogue: CatalogueDep, code: CampaignPath) -> CampaignPublic:
        """One campaign with its policy directions."""
        return _one("campaign", catalogue.campaigns, code)


class DirectionController(Controller):
    """Policy directions (取り組みの方向性)."""

    path = "/directions"
    tags = ("catalogue",)

    @get("/", summary="List policy directions (取り組みの方向性)", responses=FILTER_ERRORS)
    async def list_directions(
        self, catalogue: CatalogueDep, campaign: CampaignFilter = None
    ) -> DirectionList:
        """Policy directions (取り組みの方向性, "direction of efforts"), optionally of one campaign."""
        if _filter("campaign", catalogue.campaigns, "campaign", campaign) is None:
            return cast("DirectionList", catalogue.list_body("directions"))
        items = [d for d in catalogue.directions.values() if d.campaign == campaign]
        return DirectionList(items=items, total=len(items))

    @get("/{code:str}", summary="Get a policy direction (取り組みの方向性)", responses=NOT_FOUND)
    async def get_direction(self, catalogue: CatalogueDep, code: DirectionPath) -> DirectionPublic:
        """One policy direction with its guidelines."""
        return _one("direction", catalogue.directions, code)


class GuidelineController(Controller):
    """Guidelines (目安)."""

    path = "/guidelines"
    tags = ("catalogue",)

    @get("/", summary="List guidelines (目安)", responses=FILTER_ERRORS)
    async def list_guidelines(
        self,
        catalogue: CatalogueDep,
        campaign: CampaignFilter = None,
        direction: DirectionFilter = None,
        department: DepartmentFilter = None,
    ) -> GuidelineList:
        """Guidelines (推進に向けた取り組みの目安, "benchmarks for promotion"): what the ward commits to.

        Filter by campaign code, direction code or responsible department code (担当部); an unknown code
        is a 422 naming the parameter.
        """
        _filter("campaign", catalogue.campaigns, "campaign", campaign)
        _filter("direction", catalogue.directions, "direction", direction)
        _filter("department", catalogue.departments, "department", department)
        if campaign is None and direction is None and department is None:
            return cast("GuidelineList", catalogue.list_body("guidelines"))
        items = [
            g
            for g in catalogue.guidelines.values()
            if (campaign is None or g.campaign == campaign)
            and (direction is None or g.direction == direction)
            and (department is None or any(d.code == department for d in g.departments))
        ]
        return GuidelineList(items=items, total=len(items))

    @get("/{code:str}", summary="Get a guideline (目安)", responses=NOT_FOUND)
    async def get_guideline(self, catalogue: CatalogueDep, code: GuidelinePath) -> GuidelinePublic:
        """One guideline with its responsible departments and groups of main initiatives (主な取り組み)."""
        guideline = _one("guideline", catalogue.guidelines, code)
        return cast("GuidelinePublic", catalogue.encoded(f"guideline {code}", lambda: guideline))


class DepartmentController(Controller):
    """Responsible departments (担当部)."""

    path = "/departments"
    tags = ("catalogue",)

    @get("/", summary="List responsible departments (担当部)", responses=errors())
    async def list_departments(self, catalogue: CatalogueDep) -> DepartmentList:
        """The ward departments (担当部, "department in charge") that own initiatives and report progress."""
        return cast("DepartmentList", catalogue.list_body("departments"))

    @get("/{code:str}", summary="Get a department (担当部) and its guidelines", responses=NOT_FOUND)
    async def get_department(self, catalogue: CatalogueDep, code: DepartmentPath) -> DepartmentDetail:
        """One department with the guidelines it is responsible for."""
        department = _one("department", catalogue.departments, code)
        return DepartmentDetail(
            code=department.code,
            name=department.name,
            name_en=department.name_en,
            guidelines=catalogue.guidelines_of(code),
        )


class InitiativeController(Controller):
    """Main initiatives (主な取り組み)."""

    path = "/initiatives"
    tags = ("catalogue",)

    @get("/", summary="Search main initiatives (主な取り組み)", responses=errors())
    async def search_initiatives(
        self,
        catalogue: CatalogueDep,
        q: Annotated[str | None, QueryParameter(max_length=200, description="Substring of the name")] = None,
    ) -> InitiativeList:
        """Main initiatives (主な取り組み) whose name contains `q` (a Japanese substring); all without `q`."""
        items = [
            InitiativePublic(name=name, guideline=g.code, departments=group.departments)
            for g in catalogue.guidelines.values()
            for group in g.initiative_groups
            for name in group.initiatives
            if q is None or q in name
        ]
        return InitiativeList(items=items, total=len(items))
