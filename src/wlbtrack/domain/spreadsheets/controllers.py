"""HTTP API of spreadsheets: a department's quarter as a workbook, and uploads of workbooks and CSV files."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Annotated, Any

import anyio.to_thread
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.exceptions import ClientException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
)
from litestar.params import QueryParameter

from wlbtrack.db import ReadSession
from wlbtrack.domain.auth.guards import writers_only
from wlbtrack.domain.auth.services import (
    WRITE_CONTEXT,
    Principal,
    PrincipalDep,
    WriteContextDep,
    own_department_only,
)
from wlbtrack.domain.catalogue.schemas import DepartmentPath
from wlbtrack.domain.catalogue.services import Catalogue, CatalogueDep
from wlbtrack.domain.periods.services import PeriodRules, PeriodsDep
from wlbtrack.domain.progress.schemas import PeriodParam
from wlbtrack.domain.spreadsheets import services
from wlbtrack.domain.spreadsheets.reader import too_large
from wlbtrack.domain.spreadsheets.schemas import (
    CSV_MEDIA_TYPE,
    MAX_FILE_BYTES,
    XLSX_MEDIA_TYPE,
    ImportFingerprint,
    ImportResult,
    Upload,
)
from wlbtrack.lib.errors import ProblemError
from wlbtrack.lib.i18n import Msg
from wlbtrack.lib.metrics import record_submission
from wlbtrack.lib.responses import errors, problem
from wlbtrack.lib.text import shown

AnyRequest = Request[Any, Any, Any]
MULTIPART_OVERHEAD = 64_000  # boundaries and part headers around a file of MAX_FILE_BYTES
# Content types of a file sent as the raw body; other than multipart, anything else is a 415.
RAW_MEDIA_TYPES = frozenset(
    {
        XLSX_MEDIA_TYPE,
        CSV_MEDIA_TYPE,
        "application/csv",
        "application/vnd.ms-excel",
        "application/octet-stream",
    }
)
_BINARY = Schema(type=OpenAPIType.STRING, format="binary")  # type: ignore[arg-type]
UPLOAD_DESCRIPTION = (
    "The workbook (.xlsx) or CSV file in the multipart field `file`; or the file itself as the body, "
    f"with Content-Type {XLSX_MEDIA_TYPE} or {CSV_MEDIA_TYPE}."
)
UPLOAD_FORM = Schema(
    type=OpenAPIType.OBJECT,
    title="Upload",
    description=UPLOAD_DESCRIPTION,
    properties={"file": _BINARY},
    required=["file"],
)


@dataclass
class WorkbookOperation(Operation):
    """The template's 200 is an .xlsx file."""

    def __post_init__(self) -> None:
        ok = (self.responses or {}).get("200")
        if isinstance(ok, OpenAPIResponse):
            ok.content = {XLSX_MEDIA_TYPE: OpenAPIMediaType(schema=_BINARY)}


@dataclass
class ImportOperation(Operation):
    """The upload's body: a multipart form with the field `file`, or the file itself with its content type."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            content={
                RequestEncodingType.MULTI_PART: OpenAPIMediaType(schema=UPLOAD_FORM),
                **{
                    media_type: OpenAPIMediaType(schema=_BINARY)
                    for media_type in (XLSX_MEDIA_TYPE, CSV_MEDIA_TYPE)
                },
            },
            description=UPLOAD_DESCRIPTION,
            required=True,
        )


async def read_upload(request: AnyRequest) -> Upload:
    """The uploaded file: the multipart field `file`, or the raw body (413 over the size limit, 415 for
    another content type).

    A file arrives in one of two encodings, and a handler's `data` is decoded by one decoder chosen by its
    declared media type; so the body is read here, through Request.body() and Request.form().
    """
    try:
        body = await request.body()
    except RequestEntityTooLarge as exc:
        raise too_large(Msg("the request body")) from exc
    media_type, options = request.content_type
    if media_type == RequestEncodingType.MULTI_PART:
        if not options.get("boundary"):
            raise ProblemError(400, Msg("multipart/form-data without a boundary"), field="Content-Type")
        try:
            upload = (await request.form()).get("file")
        except ClientException as exc:  # e.g. a part's headers (its filename) that are not UTF-8
            raise ProblemError(
                400, Msg("the upload cannot be read: {reason}", reason=exc.detail), field="file"
            ) from exc
        if not isinstance(upload, UploadFile):
            raise ProblemError(400, Msg("the multipart form has no file in the field `file`"), field="file")
        try:
            content = await upload.read(MAX_FILE_BYTES + 1)
        finally:
            await upload.close()
        return Upload(content, shown(upload.filename) or "upload")
    if media_type not in RAW_MEDIA_TYPES:
        raise ProblemError(
            415,
            Msg(
                "{media_type} is not accepted; send multipart/form-data with the field `file`, "
                "or the file itself as {xlsx} or {csv}",
                media_type=media_type or "none",
                xlsx=XLSX_MEDIA_TYPE,
                csv=CSV_MEDIA_TYPE,
            ),
            field="Content-Type",
        )
    return Upload(body, "upload.xlsx" if media_type == XLSX_MEDIA_TYPE else "upload.csv")


async def workbook_download(
    session: ReadSession,
    catalogue: Catalogue,
    periods: PeriodRules,
    principal: Principal,
    department: str,
    period: str | None,
) -> Response[bytes]:
    """A department's quarter (default the current one) as a workbook to save: 404 for an unknown
    department, 403 when a department token asks for another department's (the API and the dashboard)."""
    if department not in catalogue.departments:
        raise ProblemError(404, Msg("no department with code {code!r}", code=department), field="department")
    own_department_only(
        principal,
        catalogue,
        department,
        lambda **terms: Msg("a token of {own} cannot fetch {department}'s workbook", **terms),
    )
    chosen = periods.parse_optional("period", period) or periods.current()
    rows = await services.template_rows(session, catalogue, department, chosen)
    content = await anyio.to_thread.run_sync(services.template_workbook, catalogue, department, chosen, rows)
    filename = f"wlbtrack_{department}_{chosen.code}.xlsx"
    return Response(
        content,
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


class TemplateController(Controller):
    """A department's quarter as an .xlsx workbook to fill in and upload."""

    path = "/templates"
    tags = ("spreadsheets",)

    @get(
        "/{department:str}",
        summary="Download a department's quarter as a workbook",
        media_type=XLSX_MEDIA_TYPE,
        responses=errors(403, 404, 422),
        operation_class=WorkbookOperation,
    )
    async def download_template(
        self,
        department: DepartmentPath,
        principal: PrincipalDep,
        catalogue: CatalogueDep,
        periods: PeriodsDep,
        session: NamedDependency[ReadSession],
        period: PeriodParam = None,
    ) -> Response[bytes]:
        """Sheets `reports` (one row per guideline of the department), `values` (one per indicator) and 説明.

        Columns are the exports' columns plus helper columns (`guideline_text`, `previous_status`,
        `previous_summary`; `previous_value`); existing reports and values of the period are filled in.
        Only `status`, `summary`, `value` and `note` are editable. A department token may fetch only its own
        department's workbook.
        """
        return await workbook_download(session, catalogue, periods, principal, department, period)


DryRunParam = Annotated[
    bool, QueryParameter(description="true: check the file and answer what would be written, writing nothing")
]


class ImportController(Controller):
    """Uploads of a department's quarter as a workbook or CSV file, written like a quarterly batch."""

    path = "/imports"
    tags = ("spreadsheets",)
    dependencies = WRITE_CONTEXT

    @post(
        "/",
        summary="Upload a quarter's workbook or CSV file",
        status_code=201,
        guards=[writers_only],
        dependencies={"upload": Provide(read_upload)},
        request_max_body_size=MAX_FILE_BYTES + MULTIPART_OVERHEAD,
        responses={
            200: ResponseSpec(
                ImportResult, description="dry_run=true: what a commit would write; nothing written"
            ),
            **errors(403, 409, 413, 415, 422),
            413: problem(
                "File larger than 5 MB, expanding beyond 64 MB, or with more than 20,000 rows or 100 columns"
            ),
        },
        operation_class=ImportOperation,
    )
    async def upload(
        self,
        upload: NamedDependency[Upload],
        catalogue: CatalogueDep,
        periods: PeriodsDep,
        dry_run: DryRunParam = False,
        *,
        context: WriteContextDep,  # after dry_run: the Idempotency-Key header follows it in the document
    ) -> Response[ImportResult]:
        """Write the reports and values of one department and period from the sheets `reports` (報告) and
        `values` (指標) of a workbook, or from a CSV file with the columns of an export.

        Rows with nothing to write are skipped, rows equal to the current revision are unchanged, the rest
        is written in one transaction as by the quarterly batch (201), or only reported with `dry_run=true`
        (200). On any problem nothing is written and `errors` lists every one with its `sheet`, `row`,
        `column`, `cell` (like `values!K7`) and `field`: 403 when all are permission problems, else 422.
        A closed period is a 409; a file over 5 MB a 413; not a workbook or CSV a 415.
        """
        if len(upload.content) > MAX_FILE_BYTES:
            raise too_large(upload.filename)
        parsed = await anyio.to_thread.run_sync(services.parse_upload, upload.content, upload.filename)
        fingerprint = ImportFingerprint(
            sha256=hashlib.sha256(upload.content).hexdigest(),
            query=sorted(context.request.query_params.multi_items()),
        )

        async def write() -> ImportResult:
            return await services.import_upload(
                context.session, catalogue, context.principal, periods, parsed, dry_run
            )

        response = await context.commit(fingerprint, ImportResult, 200 if dry_run else 201, write)
        result = response.content
        if not dry_run and "Idempotent-Replayed" not in response.headers and result.items:
            record_submission(result.department, "import")
            for kind, counts in (("report", result.reports), ("value", result.values)):
                if counts.written:
                    record_submission(result.department, kind, counts.written)
        return response
