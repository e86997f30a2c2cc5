"""JSON log lines and the access log; no token, header or request body is ever logged."""

from __future__ import annotations

import logging
import sys
import time
from contextlib import nullcontext
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
        entry = _entry(record.created, record.levelname.lower(), record.name, record.getMessage())
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return _encoder.encode(entry).decode()


def _entry(created: float, level: str, logger: str, message: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "time": datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds"),
        "level": level,
        "logger": logger,
        "message": message,
    }
    if (request_id := current_request_id.get()) is not None:
        entry["request_id"] = request_id
    return entry


class JsonStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """stderr as JSON lines; also takes ready entries, so the access log skips building a LogRecord."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)
        self.setFormatter(JsonFormatter())

    def write_entry(self, entry: dict[str, Any]) -> None:
        """Write one entry as a JSON line, as `emit` would write the record it describes."""
        line = _encoder.encode(entry).decode() + self.terminator
        with self.lock or nullcontext():
            try:
                self.stream.write(line)
                self.flush()
            except Exception:  # like emit: a failing stream never fails the request being logged
                self.handleError(logging.makeLogRecord({"msg": line}))


def _direct_handler() -> JsonStreamHandler | None:
    """The handler access lines may go to directly: the only place the logging setup sends them."""
    root = logging.root
    if access_logger.handlers or access_logger.filters or not access_logger.propagate or root.filters:
        return None
    if len(root.handlers) != 1:
        return None
    handler = root.handlers[0]
    if not isinstance(handler, JsonStreamHandler) or handler.filters or handler.level > logging.INFO:
        return None
    return handler


def logging_config(level: str) -> dict[str, Any]:
    """A dictConfig that sends every logger (ours, uvicorn's, the root) to stderr as JSON lines."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"stderr": {"()": JsonStreamHandler}},
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
    handler = _direct_handler()
    if handler is None:
        access_logger.info("%s %s %s", method, route or "(no route)", status, extra={"fields": fields})
        return
    message = f"{method} {route or '(no route)'} {status}"
    handler.write_entry({**_entry(time.time(), "info", access_logger.name, message), **fields})
