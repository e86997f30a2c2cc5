"""Reference app: a minimal Litestar app returning the bytes of GET /api/v1/guidelines as a constant.

Serve with `uvicorn reference_const:app --app-dir benchmarks`; WLB_REF_BODY_FILE names the file holding
the body that run.py fetched from the real service.
"""

from __future__ import annotations

import os
from pathlib import Path

from litestar import Litestar, Response, get

BODY = Path(os.environ["WLB_REF_BODY_FILE"]).read_bytes()


@get("/api/v1/guidelines", sync_to_thread=False)
def guidelines() -> Response[bytes]:
    """The constant body."""
    return Response(content=BODY, media_type="application/json")


@get("/ready", sync_to_thread=False)
def ready() -> dict[str, str]:
    """Readiness probe for run.py."""
    return {"status": "ready"}


app = Litestar(route_handlers=[guidelines, ready])
