"""Idempotency-Key on POST: the stored response is written in the same transaction as the write."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Request, Response
from litestar.params import HeaderParameter
from sqlalchemy import Column, LargeBinary, UniqueConstraint, select, update
from sqlmodel import Field, SQLModel

from wlbtrack.db import WriteSession
from wlbtrack.lib.errors import ProblemError
from wlbtrack.lib.i18n import Msg
from wlbtrack.lib.tables import insert, table
from wlbtrack.lib.types import UTCDateTime, utcnow

HEADER = "Idempotency-Key"
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]+")  # header bytes arrive as Latin-1; keys are ASCII text
MAX_KEY_LENGTH = 255
# What the document states: printable ASCII with at least one visible character (HTTP drops the spaces
# around a header's value, so a key of spaces arrives empty). Checked here, not by Litestar, so that the
# problem names the header as sent.
KEY_SCHEMA = {"minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": "^[ -~]*[!-~][ -~]*$"}

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name=HEADER,
        description=(
            "1–255 printable ASCII characters that make a retried POST safe: the same key with the same "
            "body from the same token returns the original response and writes nothing more; the same key "
            "with a different body is a 422."
        ),
        schema_extra=KEY_SCHEMA,
    ),
]

S = TypeVar("S", bound=msgspec.Struct)


class IdempotencyRecord(SQLModel, table=True):
    """The stored response to a POST made with an Idempotency-Key."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("token_id", "key", name="uq_idempotency_key"),)

    id: int | None = Field(default=None, primary_key=True)
    token_id: int = Field(foreign_key="api_token.id")
    key: str = Field(max_length=255)
    method: str = Field(max_length=8)
    path: str = Field(max_length=500)
    request_hash: str = Field(max_length=64)
    status_code: int
    response_body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


RECORD = table(IdempotencyRecord)


def fingerprint(request: Request[Any, Any, Any], body: msgspec.Struct | None) -> str:
    """A hash of the method, path and (canonically re-encoded) body."""
    digest = hashlib.sha256(f"{request.method} {request.url.path}\n".encode())
    if body is not None:
        digest.update(msgspec.json.encode(body))
    return digest.hexdigest()


async def _claim(
    session: WriteSession, token_id: int, key: str, request: Request[Any, Any, Any], request_hash: str
) -> int | None:
    """Insert a placeholder record for the key; None when the key is taken.

    On PostgreSQL a concurrent transaction holding the same key makes this wait until it ends.
    """
    statement = (
        insert(session, RECORD)
        .values(
            token_id=token_id,
            key=key,
            method=request.method,
            path=request.url.path[:500],
            request_hash=request_hash,
            status_code=0,
            response_body=b"",
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["token_id", "key"])
        .returning(RECORD.c.id)
    )
    record_id: int | None = (await session.execute(statement)).scalar_one_or_none()
    return record_id


@dataclass(frozen=True)
class IdempotentWrite:
    """A write request: its write session, and the Idempotency-Key (if any) the token sent."""

    request: Request[Any, Any, Any]
    session: WriteSession
    token_id: int
    idempotency_key: str | None

    async def commit(
        self,
        body: msgspec.Struct | None,
        response_type: type[S],
        status_code: int,
        write: Callable[[], Awaitable[S]],
        stored: Callable[[S], S] | None = None,
    ) -> Response[S]:
        """Run `write` in one transaction, or replay the response the token stored under its key.

        `stored` transforms the response before it is kept (e.g. to drop a secret).
        """
        key, session, token_id = self.idempotency_key, self.session, self.token_id
        async with session.begin():
            if key is None:
                return Response(await write(), status_code=status_code)
            if not 1 <= len(key) <= MAX_KEY_LENGTH:
                raise ProblemError(400, Msg("must be 1–{max} characters", max=MAX_KEY_LENGTH), field=HEADER)
            if not _PRINTABLE_ASCII.fullmatch(key):
                raise ProblemError(400, Msg("must be printable ASCII characters"), field=HEADER)
            request_hash = fingerprint(self.request, body)
            record_id = await _claim(session, token_id, key, self.request, request_hash)
            if record_id is None:
                record = (
                    await session.execute(
                        select(RECORD.c.request_hash, RECORD.c.status_code, RECORD.c.response_body).where(
                            RECORD.c.token_id == token_id, RECORD.c.key == key
                        )
                    )
                ).one()
                if record.request_hash != request_hash:
                    raise ProblemError(422, Msg("this key was used for a different request"), field=HEADER)
                return Response(
                    msgspec.json.decode(record.response_body, type=response_type),
                    status_code=record.status_code,
                    headers={"Idempotent-Replayed": "true"},
                )
            result = await write()
            kept = stored(result) if stored is not None else result
            await session.execute(
                update(RECORD)
                .where(RECORD.c.id == record_id)
                .values(status_code=status_code, response_body=msgspec.json.encode(kept))
            )
            return Response(result, status_code=status_code)
