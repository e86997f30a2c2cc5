"""The dashboard's errors as Japanese pages; under /api/v1 they stay problem documents."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.plugins.problem_details import ProblemDetailsException
from litestar.response import Template

from wlbtrack.lib.errors import ProblemError

# what the page's heading says for each status; the detail below it says why
HEADINGS = {
    400: "リクエストが正しくありません",
    403: "この操作はできません",
    404: "ページが見つかりません",
    405: "この方法では開けません",
    409: "ほかの操作と重なりました",
    413: "送られたデータが大きすぎます",
    422: "入力が正しくありません",
    429: "リクエストが多すぎます",
    500: "エラーが発生しました",
    503: "ただいま利用できません",
}


def error_page(_request: Request[Any, Any, Any], exc: ProblemDetailsException) -> Response[Any]:
    """The error as a page extending base.html: the status's heading and the detail in Japanese."""
    detail = exc.message.render("ja") if isinstance(exc, ProblemError) else (exc.detail or "")
    return Template(
        "error.html",
        context={
            "status": exc.status_code,
            "heading": HEADINGS.get(exc.status_code, "エラーが発生しました"),
            "detail": detail,
        },
        status_code=exc.status_code,
        headers=exc.headers,
    )
