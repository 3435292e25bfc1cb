"""`/api/v1/courses/{course_id}/assignments`: a course's assignments (API §11.1 G1-G6)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from adapters.http.assignments.schemas import AssignmentCreate, AssignmentResponse, AssignmentUpdate
from adapters.http.bodies import changes_of
from adapters.http.idempotency import stable_id
from adapters.http.openapi import errors
from adapters.http.pagination import PageResponse, page_response
from adapters.http.security import OPTIONAL_BEARER, SIGNED_IN, UuidPath, assignments_of, optional_viewer, parse_uuid
from domain.assignments.assignments import AssignmentChanges, NewAssignment
from domain.assignments.rules import Criterion, LatePolicy
from domain.identity.model import Principal
from domain.shared.pagination import PageParams


def _ids(course_id: str, assignment_id: str) -> tuple[Any, Any]:
    return parse_uuid("course_id", course_id), parse_uuid("assignment_id", assignment_id)


def _nested(data: AssignmentUpdate) -> dict[str, Any]:
    """The members that are structures, as the use case's values (absent and null pass as they are)."""
    converted: dict[str, Any] = {}
    if isinstance(data.late_policy, msgspec.Struct):
        converted["late_policy"] = msgspec.convert(data.late_policy, LatePolicy, from_attributes=True)
    if isinstance(data.rubric, list):
        converted["rubric"] = msgspec.convert(data.rubric, list[Criterion], from_attributes=True)
    return converted


class AssignmentsController(Controller):
    path = "/courses/{course_id:str}/assignments"
    tags = ["assignments"]

    @get("/", operation_id="list_course_assignments", security=OPTIONAL_BEARER, responses=errors(403, 404, 422, 429))
    async def list_assignments(
        self, *, request: Request[Any, Any, Any], course_id: UuidPath, paging: NamedDependency[PageParams]
    ) -> Response[PageResponse[AssignmentResponse]]:
        """A course's assignments, newest first; anyone but its managers sees the published ones of a
        published course."""
        viewer = await optional_viewer(request)
        page = await assignments_of(request).list_assignments(viewer, parse_uuid("course_id", course_id), paging)
        return page_response(request, page, AssignmentResponse.of)

    @post(
        "/",
        operation_id="create_assignment",
        status_code=201,
        **SIGNED_IN,
        responses=errors(401, 403, 404, 409, 422, 429),
    )
    async def create_assignment(
        self,
        *,
        request: Request[Any, Any, Any],
        course_id: UuidPath,
        data: JSONBody[AssignmentCreate],
        principal: NamedDependency[Principal],
    ) -> AssignmentResponse:
        """Add an assignment to the course (managers), optionally on one of its lessons; it starts
        unpublished. A rubric's points must add up to `max_points`."""
        new = msgspec.convert(data.checked(), NewAssignment, from_attributes=True)
        assignment = await assignments_of(request).create_assignment(
            principal.user, parse_uuid("course_id", course_id), new, assignment_id=stable_id(request.scope)
        )
        return AssignmentResponse.of(assignment)

    @get(
        "/{assignment_id:str}",
        operation_id="get_assignment",
        security=OPTIONAL_BEARER,
        responses=errors(404, 422, 429),
    )
    async def get_assignment(
        self, *, request: Request[Any, Any, Any], course_id: UuidPath, assignment_id: UuidPath
    ) -> AssignmentResponse:
        """One assignment: managers see it always, anyone else once it and its course are published."""
        viewer = await optional_viewer(request)
        return AssignmentResponse.of(
            await assignments_of(request).get_assignment(viewer, *_ids(course_id, assignment_id))
        )

    @patch(
        "/{assignment_id:str}",
        operation_id="update_assignment",
        **SIGNED_IN,
        responses=errors(401, 403, 404, 409, 422, 429),
    )
    async def update_assignment(
        self,
        *,
        request: Request[Any, Any, Any],
        course_id: UuidPath,
        assignment_id: UuidPath,
        data: JSONBody[AssignmentUpdate],
        principal: NamedDependency[Principal],
    ) -> AssignmentResponse:
        """Change an assignment (managers); the merged assignment is checked again."""
        changes = changes_of(data.checked(), AssignmentChanges, **_nested(data))
        assignment = await assignments_of(request).update_assignment(
            principal.user, *_ids(course_id, assignment_id), changes
        )
        return AssignmentResponse.of(assignment)

    @delete(
        "/{assignment_id:str}",
        operation_id="delete_assignment",
        **SIGNED_IN,
        responses=errors(401, 403, 404, 409, 422, 429),
    )
    async def delete_assignment(
        self,
        *,
        request: Request[Any, Any, Any],
        course_id: UuidPath,
        assignment_id: UuidPath,
        principal: NamedDependency[Principal],
    ) -> None:
        """Delete an assignment (managers); refused once anyone has submitted to it."""
        await assignments_of(request).delete_assignment(principal.user, *_ids(course_id, assignment_id))

    @post(
        "/{assignment_id:str}/publish",
        operation_id="publish_assignment",
        status_code=200,
        **SIGNED_IN,
        responses=errors(401, 403, 404, 422, 429),
    )
    async def publish(
        self,
        *,
        request: Request[Any, Any, Any],
        course_id: UuidPath,
        assignment_id: UuidPath,
        principal: NamedDependency[Principal],
    ) -> AssignmentResponse:
        """Publish (managers): students see it, and its lesson completes only by passing it."""
        service = assignments_of(request)
        return AssignmentResponse.of(
            await service.publish(principal.user, *_ids(course_id, assignment_id), published=True)
        )

    @post(
        "/{assignment_id:str}/unpublish",
        operation_id="unpublish_assignment",
        status_code=200,
        **SIGNED_IN,
        responses=errors(401, 403, 404, 422, 429),
    )
    async def unpublish(
        self,
        *,
        request: Request[Any, Any, Any],
        course_id: UuidPath,
        assignment_id: UuidPath,
        principal: NamedDependency[Principal],
    ) -> AssignmentResponse:
        """Unpublish (managers): hidden from students, and its lesson can be completed by hand again."""
        service = assignments_of(request)
        return AssignmentResponse.of(
            await service.publish(principal.user, *_ids(course_id, assignment_id), published=False)
        )
