"""JSON log lines and the access log; no token, header or request body is ever logged."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar.types import HTTPScope

from wlbtrack.lib.request_id import current_request_id

access_logger = logging.getLogger("wlbtrack.access")
_encoder = msgspec.json.Encoder(enc_hook=str)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id and the record's `fields`."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if (request_id := current_request_id.get()) is not None:
            entry["request_id"] = request_id
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return _encoder.encode(entry).decode()


def logging_config(level: str) -> dict[str, Any]:
    """A dictConfig that sends every logger (ours, uvicorn's, the root) to stderr as JSON lines."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
        },
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
        "root": {"handlers": ["stderr"], "level": level},
    }


def log_access(scope: HTTPScope, status: int, seconds: float) -> None:
    """One access-log line for an HTTP request: token label, method, route template, status, duration."""
    if not access_logger.isEnabledFor(logging.INFO):
        return
    method, route = scope["method"], scope.get("path_template")
    fields = {
        "token": getattr(scope.get("user"), "label", None),
        "method": method,
        "route": route,
        "status": status,
        "duration_ms": round(seconds * 1000, 2),
    }
    access_logger.info("%s %s %s", method, route or "(no route)", status, extra={"fields": fields})
