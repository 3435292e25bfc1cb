"""Submissions: handing work in to an assignment, and reading, grading and returning it (API §11.1 G7-G12)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter

from adapters.http.assignments.schemas import GradeRequest, ReturnRequest, SubmissionCreate, SubmissionResponse
from adapters.http.idempotency import stable_id
from adapters.http.openapi import errors
from adapters.http.pagination import PageResponse, page_response
from adapters.http.security import BEARER, UuidPath, authenticated, parse_uuid, submissions_of
from domain.assignments.model import SubmissionStatus
from domain.assignments.submissions import GradeInput, NewSubmission
from domain.identity.model import Principal
from domain.shared.pagination import PageParams


class AssignmentSubmissionsController(Controller):
    path = "/assignments/{assignment_id:str}/submissions"
    tags = ["submissions"]
    guards = [authenticated]
    security = BEARER

    @post("/", operation_id="submit_assignment", status_code=201, responses=errors(401, 403, 404, 409, 422, 429))
    async def submit(
        self,
        *,
        request: Request[Any, Any, Any],
        assignment_id: UuidPath,
        data: JSONBody[SubmissionCreate],
        principal: NamedDependency[Principal],
    ) -> SubmissionResponse:
        """Hand work in (the student of an active or completed enrollment): text, files uploaded first
        with `POST /files/upload`, or both, as the assignment's `submission_types` say. Late
        submissions are accepted as its late policy says."""
        view = await submissions_of(request).submit(
            principal.user,
            parse_uuid("assignment_id", assignment_id),
            msgspec.convert(data, NewSubmission, from_attributes=True),
            submission_id=stable_id(request.scope),
        )
        return SubmissionResponse.of(view)

    @get("/", operation_id="list_submissions", responses=errors(401, 403, 404, 422, 429))
    async def list_submissions(
        self,
        *,
        request: Request[Any, Any, Any],
        assignment_id: UuidPath,
        principal: NamedDependency[Principal],
        paging: NamedDependency[PageParams],
        status: Annotated[
            SubmissionStatus | None, QueryParameter(description="Only submissions in this status")
        ] = None,
        student_id: Annotated[UUID | None, QueryParameter(description="Only this student's submissions")] = None,
    ) -> Response[PageResponse[SubmissionResponse]]:
        """Every submission to the assignment, newest first (the course's managers)."""
        page = await submissions_of(request).of_assignment(
            principal.user,
            parse_uuid("assignment_id", assignment_id),
            paging,
            status=status,
            student_id=student_id,
        )
        return page_response(request, page, SubmissionResponse.of)

    @get("/mine", operation_id="list_my_submissions", responses=errors(401, 404, 422, 429))
    async def mine(
        self,
        *,
        request: Request[Any, Any, Any],
        assignment_id: UuidPath,
        principal: NamedDependency[Principal],
        paging: NamedDependency[PageParams],
    ) -> Response[PageResponse[SubmissionResponse]]:
        """The caller's own submissions, newest first; grades show once graded or returned."""
        page = await submissions_of(request).mine(principal.user, parse_uuid("assignment_id", assignment_id), paging)
        return page_response(request, page, SubmissionResponse.of)


class SubmissionsController(Controller):
    path = "/submissions/{submission_id:str}"
    tags = ["submissions"]
    guards = [authenticated]
    security = BEARER

    @get("/", operation_id="get_submission", responses=errors(401, 403, 404, 422, 429))
    async def get_submission(
        self, *, request: Request[Any, Any, Any], submission_id: UuidPath, principal: NamedDependency[Principal]
    ) -> SubmissionResponse:
        """One submission, for its submitter and the course's managers."""
        view = await submissions_of(request).get(principal.user, parse_uuid("submission_id", submission_id))
        return SubmissionResponse.of(view)

    @post("/grade", operation_id="grade_submission", status_code=200, responses=errors(401, 403, 404, 409, 422, 429))
    async def grade(
        self,
        *,
        request: Request[Any, Any, Any],
        submission_id: UuidPath,
        data: JSONBody[GradeRequest],
        principal: NamedDependency[Principal],
    ) -> SubmissionResponse:
        """Grade (the course's managers): `points`, or one score per rubric criterion. The late
        penalty is applied; grading again replaces the grade. A pass completes the lesson."""
        view = await submissions_of(request).grade(
            principal.user,
            parse_uuid("submission_id", submission_id),
            msgspec.convert(data, GradeInput, from_attributes=True),
        )
        return SubmissionResponse.of(view)

    @post("/return", operation_id="return_submission", status_code=200, responses=errors(401, 403, 404, 409, 422, 429))
    async def return_for_revision(
        self,
        *,
        request: Request[Any, Any, Any],
        submission_id: UuidPath,
        data: JSONBody[ReturnRequest],
        principal: NamedDependency[Principal],
    ) -> SubmissionResponse:
        """Return for revision with feedback (the course's managers): the student may submit again,
        even past `max_submissions`."""
        view = await submissions_of(request).return_for_revision(
            principal.user, parse_uuid("submission_id", submission_id), data.feedback
        )
        return SubmissionResponse.of(view)
