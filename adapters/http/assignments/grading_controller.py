"""A course's grading: the queue of work waiting for a grader (API §11.2) and the gradebook,
as JSON and as a streamed CSV (API §11.3); and one enrollment's grades."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Stream

from adapters.http.assignments.schemas import (
    GradebookResponse,
    GradeItemResponse,
    QueueItemResponse,
    StudentGradesResponse,
    StudentRowResponse,
)
from adapters.http.openapi import errors
from adapters.http.pagination import PageResponse, page_link, page_of, page_response
from adapters.http.security import BEARER, UuidPath, authenticated, gradebook_of, grading_queue_of, parse_uuid
from domain.assignments.gradebook import StudentRow, csv_header, csv_row
from domain.identity.model import Principal
from domain.shared.pagination import PageParams
from domain.shared.spreadsheets import neutralized

CSV = "text/csv; charset=utf-8"


def _csv_lines(rows: Iterable[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([neutralized(cell) for cell in row] for row in rows)
    return buffer.getvalue().encode()


async def _csv(header: list[str], batches: AsyncIterator[list[StudentRow]]) -> AsyncIterator[bytes]:
    yield _csv_lines([header])
    async for batch in batches:
        yield _csv_lines(csv_row(row) for row in batch)


class GradingController(Controller):
    path = "/courses/{course_id:str}"
    tags = ["grading"]
    guards = [authenticated]
    security = BEARER

    @get("/grading-queue", operation_id="get_grading_queue", responses=errors(401, 403, 404, 422, 429))
    async def queue(
        self,
        *,
        request: Request[Any, Any, Any],
        course_id: UuidPath,
        principal: NamedDependency[Principal],
        paging: NamedDependency[PageParams],
    ) -> Response[PageResponse[QueueItemResponse]]:
        """Everything in the course waiting for a grader, oldest first: attempts with ungraded
        essays and submissions not yet graded (the course's managers)."""
        page = await grading_queue_of(request).waiting(principal.user, parse_uuid("course_id", course_id), paging)
        return page_response(request, page, QueueItemResponse.of)

    @get("/gradebook", operation_id="get_gradebook", responses=errors(401, 403, 404, 422, 429))
    async def gradebook(
        self,
        *,
        request: Request[Any, Any, Any],
        course_id: UuidPath,
        principal: NamedDependency[Principal],
        paging: NamedDependency[PageParams],
    ) -> Response[GradebookResponse]:
        """The course's published quizzes and assignments, and a page of its students (in the order they enrolled) with
        each one's grade for each and the weighted course percentage (the course's managers)."""
        book = await gradebook_of(request).gradebook(principal.user, parse_uuid("course_id", course_id), paging)
        body = GradebookResponse(
            items=[GradeItemResponse.of(i) for i in book.items], rows=page_of(book.rows, StudentRowResponse.of, request)
        )
        link = page_link(request, book.rows)
        return Response(body, headers={"Link": link} if link else None)

    @get(
        "/gradebook.csv",
        operation_id="export_gradebook",
        responses={
            200: ResponseSpec(
                data_container=str,
                media_type=CSV,
                description="A header row, then one row per student; streamed. Cells that could start a "
                "spreadsheet formula are prefixed with `'`.",
            ),
            **errors(401, 403, 404, 422, 429),
        },
    )
    async def export(
        self, *, request: Request[Any, Any, Any], course_id: UuidPath, principal: NamedDependency[Principal]
    ) -> Stream:
        """The whole gradebook as CSV (the course's managers), read and sent in batches."""
        cid = parse_uuid("course_id", course_id)
        items, batches = await gradebook_of(request).export(principal.user, cid)
        return Stream(
            _csv(csv_header(items), batches),
            media_type="text/csv",  # the response adds its charset, utf-8
            headers={"Content-Disposition": f'attachment; filename="gradebook-{cid}.csv"'},
        )


class EnrollmentGradesController(Controller):
    path = "/enrollments/{enrollment_id:str}/grades"
    tags = ["grading"]
    guards = [authenticated]
    security = BEARER

    @get("/", operation_id="get_enrollment_grades", responses=errors(401, 403, 404, 422, 429))
    async def grades(
        self, *, request: Request[Any, Any, Any], enrollment_id: UuidPath, principal: NamedDependency[Principal]
    ) -> StudentGradesResponse:
        """One enrollment's row of the gradebook, with the items (its student, the course's managers)."""
        grades = await gradebook_of(request).of_enrollment(principal.user, parse_uuid("enrollment_id", enrollment_id))
        return StudentGradesResponse.of(grades)
