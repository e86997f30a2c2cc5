"""OpenAPI details Litestar cannot infer: the ETag headers and the CSV form of the exports."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.openapi.spec import (
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    Schema,
)

_STRING = Schema(type=OpenAPIType.STRING)


@dataclass
class CachedOperation(Operation):
    """An operation answering with an ETag and honouring If-None-Match."""

    def __post_init__(self) -> None:
        self.parameters = [
            *(self.parameters or []),
            Parameter(
                name="If-None-Match",
                param_in="header",
                schema=_STRING,
                description="The ETag of a response already held: 304 while it is still current",
            ),
        ]
        ok = (self.responses or {}).get("200")
        if isinstance(ok, OpenAPIResponse):
            ok.headers = {
                **(ok.headers or {}),
                "ETag": OpenAPIHeader(schema=_STRING, description="Changes whenever the data changes"),
            }


@dataclass
class ExportOperation(CachedOperation):
    """An export: JSON pages, or with `format=csv` a CSV attachment."""

    def __post_init__(self) -> None:
        super().__post_init__()
        ok = (self.responses or {}).get("200")
        if isinstance(ok, OpenAPIResponse):
            csv = OpenAPIMediaType(
                schema=Schema(
                    type=OpenAPIType.STRING,
                    description="UTF-8 with a BOM, one header row naming the JSON row fields, then the rows",
                )
            )
            ok.content = {**(ok.content or {}), "text/csv": csv}
            ok.headers = {
                **(ok.headers or {}),
                "Content-Disposition": OpenAPIHeader(
                    schema=_STRING, description="With format=csv: attachment; filename=wlbtrack-….csv"
                ),
            }
