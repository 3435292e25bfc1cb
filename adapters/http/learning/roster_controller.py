"""`/api/v1/courses/{course_id}/roster`: a course's managers enroll people from a CSV file (API §15.4)."""

from __future__ import annotations

import codecs
import csv
import io
import tempfile
from collections.abc import Iterator
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, post
from litestar.di import NamedDependency
from litestar.exceptions import ClientException
from litestar.params import QueryParameter
from multipart import parse_options_header

from adapters.http.openapi import errors
from adapters.http.security import BEARER, UuidPath, authenticated, parse_uuid, roster_of
from domain.identity.model import Principal
from domain.learning.ports import Row
from domain.learning.roster import MAX_ROWS
from domain.shared.errors import InvalidInput

NOT_CSV = "Send the roster as text/csv"
NOT_UTF8 = "CSV must be UTF-8"
# 10,000 rows of a generous line each; a larger body is refused (413) before it is read whole.
MAX_BYTES = MAX_ROWS * 1024
IN_MEMORY = 1024 * 1024  # past this, the file waits on disk


class UnsupportedMediaType(ClientException):
    status_code = 415


class RosterRowError(msgspec.Struct, kw_only=True):
    row: Annotated[int, msgspec.Meta(description="The data row, from 1 (the header is not counted)")]
    email: str
    message: str


class RosterResponse(msgspec.Struct, kw_only=True):
    created_users: int
    enrolled: Annotated[int, msgspec.Meta(description="Enrollments this import made, for new and known users")]
    already_enrolled: int
    errors: list[RosterRowError]


class SpooledCsv:
    """The body as it arrived, kept aside (in memory up to 1 MiB, then on disk) and checked to be
    UTF-8 on the way in; its rows are parsed afresh on each reading, never all held at once."""

    def __init__(self) -> None:
        self._file = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY)  # noqa: SIM115 (closed by `close`)
        self._decoder = codecs.getincrementaldecoder("utf-8")()

    async def receive(self, request: Request[Any, Any, Any]) -> None:
        try:
            async for chunk in request.stream():
                self._decoder.decode(chunk)
                self._file.write(chunk)
            self._decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise InvalidInput(NOT_UTF8) from None

    def rows(self) -> Iterator[Row]:
        self._file.seek(0)
        text = io.TextIOWrapper(self._file, encoding="utf-8-sig", newline="")
        try:
            yield from csv.reader(text)
        finally:
            if not self._file.closed:
                text.detach()  # the file stays open for the next reading

    def close(self) -> None:
        self._file.close()


class RosterController(Controller):
    path = "/courses/{course_id:str}/roster"
    tags = ["enrollments"]
    guards = [authenticated]
    security = BEARER

    @post(
        "/",
        operation_id="import_roster",
        status_code=200,
        request_max_body_size=MAX_BYTES,
        responses=errors(401, 403, 404, 413, 415, 422, 429),
    )
    async def import_roster(
        self,
        *,
        request: Request[Any, Any, Any],
        course_id: UuidPath,
        principal: NamedDependency[Principal],
        dry_run: Annotated[bool, QueryParameter(description="Check and count; keep nothing, send nothing")] = False,
        ignore_prerequisites: Annotated[
            bool, QueryParameter(description="Enroll without the course's prerequisites (admins)")
        ] = False,
    ) -> RosterResponse:
        """Enroll the people of a CSV file (`text/csv`, UTF-8, a header row with `email` and
        optionally `full_name`; other columns are ignored) in the course (its managers). Unknown
        emails get a student account and an invitation to choose a password. At most 10,000 rows;
        a bad row is reported in `errors` and never stops the others; re-running a file changes
        nothing. Committed every 500 rows."""
        if parse_options_header(request.headers.get("content-type", ""))[0] != "text/csv":
            raise UnsupportedMediaType(NOT_CSV)
        body = SpooledCsv()
        try:
            await body.receive(request)
            result = await roster_of(request).run(
                principal.user,
                parse_uuid("course_id", course_id),
                body,
                dry_run=dry_run,
                ignore_prerequisites=ignore_prerequisites,
            )
        finally:
            body.close()
        return msgspec.convert(result, RosterResponse, from_attributes=True)
