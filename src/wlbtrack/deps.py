"""Names of the dependencies handlers receive, for explicit injection."""

from __future__ import annotations

from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from wlbtrack.db import Database
from wlbtrack.domain.auth.tokens import Principal
from wlbtrack.domain.catalogue.snapshot import Catalogue

CatalogueDep = NamedDependency[Catalogue]
DatabaseDep = NamedDependency[Database]
SessionDep = NamedDependency[AsyncSession]
WriteSessionDep = NamedDependency[AsyncSession]
PrincipalDep = NamedDependency[Principal]
