"""`/api/v1/enrollments`: enrolling, progress, reviews, and a course's enrollments (API §5.6)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post, put
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody

from adapters.http.bodies import input_of
from adapters.http.learning.schemas import (
    CourseEnrollmentStats,
    EnrollmentCreate,
    EnrollmentDetailResponse,
    EnrollmentResponse,
    LessonProgressResponse,
    LessonProgressUpdate,
    ReviewCreate,
)
from adapters.http.openapi import errors
from adapters.http.pagination import PageResponse, page_response
from adapters.http.security import BEARER, UuidPath, authenticated, learning_of, parse_uuid, require_roles
from domain.identity.model import Principal, Role
from domain.learning.model import ProgressUpdate
from domain.learning.services import ONLY_STUDENTS
from domain.shared.pagination import PageParams

student_or_admin = require_roles(Role.STUDENT, Role.ADMIN, detail=ONLY_STUDENTS)


class EnrollmentsController(Controller):
    path = "/enrollments"
    tags = ["enrollments"]
    guards = [authenticated]
    security = BEARER

    @post(
        "/",
        operation_id="enroll",
        guards=[student_or_admin],
        responses={
            200: ResponseSpec(
                data_container=EnrollmentResponse, description="Already enrolled: the existing enrollment"
            ),
            **errors(401, 402, 403, 404, 422, 429),
        },
        status_code=201,
    )
    async def enroll(
        self,
        *,
        request: Request[Any, Any, Any],
        data: JSONBody[EnrollmentCreate],
        principal: NamedDependency[Principal],
    ) -> Response[EnrollmentResponse]:
        """Enroll the caller (a student, or an admin for themselves) in a published course: `201` with
        the new enrollment, or `200` with the existing one when already enrolled. A paid course is
        entered through a paid order: `402` names where (`order_url`); admins are exempt."""
        enrolled = await learning_of(request).enroll(principal.user, data.course_id)
        status = 201 if enrolled.created else 200
        headers = {"Location": f"/api/v1/enrollments/{enrolled.enrollment.id}"} if enrolled.created else None
        return Response(EnrollmentResponse.of(enrolled.enrollment), status_code=status, headers=headers)

    @get("/my-courses", operation_id="list_my_enrollments", responses=errors(401, 422, 429))
    async def my_courses(
        self,
        *,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        paging: NamedDependency[PageParams],
    ) -> Response[PageResponse[EnrollmentResponse]]:
        """The caller's enrollments, newest first."""
        page = await learning_of(request).my_courses(principal.user, paging)
        return page_response(request, page, EnrollmentResponse.of)

    @get("/courses/{course_id:str}", operation_id="list_course_enrollments", responses=errors(401, 403, 404, 422, 429))
    async def course_enrollments(
        self,
        *,
        request: Request[Any, Any, Any],
        course_id: UuidPath,
        principal: NamedDependency[Principal],
        paging: NamedDependency[PageParams],
    ) -> Response[PageResponse[EnrollmentResponse]]:
        """A course's enrollments, newest first (the course's managers)."""
        page = await learning_of(request).course_enrollments(principal.user, parse_uuid("course_id", course_id), paging)
        return page_response(request, page, EnrollmentResponse.of)

    @get(
        "/courses/{course_id:str}/stats",
        operation_id="get_course_enrollment_stats",
        responses=errors(401, 403, 404, 422, 429),
    )
    async def course_stats(
        self, *, request: Request[Any, Any, Any], course_id: UuidPath, principal: NamedDependency[Principal]
    ) -> CourseEnrollmentStats:
        """How many are enrolled in a course, active and completed, and their mean progress (managers)."""
        stats = await learning_of(request).course_stats(principal.user, parse_uuid("course_id", course_id))
        return CourseEnrollmentStats.of(stats)

    @get("/{enrollment_id:str}", operation_id="get_enrollment", responses=errors(401, 403, 404, 422, 429))
    async def get_enrollment(
        self, *, request: Request[Any, Any, Any], enrollment_id: UuidPath, principal: NamedDependency[Principal]
    ) -> EnrollmentDetailResponse:
        """One enrollment (its student, the course's owner, admins), with the student's next lesson."""
        enrollment, upcoming = await learning_of(request).get_enrollment(
            principal.user, parse_uuid("enrollment_id", enrollment_id)
        )
        return EnrollmentDetailResponse.with_next(enrollment, upcoming)

    @put(
        "/{enrollment_id:str}/lessons/{lesson_id:str}/progress",
        operation_id="update_lesson_progress",
        responses=errors(400, 401, 403, 404, 409, 422, 429),
    )
    async def update_progress(
        self,
        *,
        request: Request[Any, Any, Any],
        enrollment_id: UuidPath,
        lesson_id: UuidPath,
        data: JSONBody[LessonProgressUpdate],
        principal: NamedDependency[Principal],
    ) -> LessonProgressResponse:
        """Report progress on a lesson (the enrollment's student, admins). Members merge with what is
        stored; a completed lesson stays completed; the enrollment's figures are recomputed at once."""
        eid, lid = parse_uuid("enrollment_id", enrollment_id), parse_uuid("lesson_id", lesson_id)
        update = input_of(data.checked(), ProgressUpdate)
        progress = await learning_of(request).update_progress(principal.user, eid, lid, update)
        return LessonProgressResponse.of(progress)

    @post(
        "/{enrollment_id:str}/lessons/{lesson_id:str}/complete",
        operation_id="complete_lesson",
        status_code=200,
        responses=errors(401, 403, 404, 409, 422, 429),
    )
    async def complete_lesson(
        self,
        *,
        request: Request[Any, Any, Any],
        enrollment_id: UuidPath,
        lesson_id: UuidPath,
        principal: NamedDependency[Principal],
    ) -> LessonProgressResponse:
        """Mark a lesson completed: the same as reporting `{status: completed, completion_percentage: 100}`."""
        eid, lid = parse_uuid("enrollment_id", enrollment_id), parse_uuid("lesson_id", lesson_id)
        progress = await learning_of(request).complete_lesson(principal.user, eid, lid)
        return LessonProgressResponse.of(progress)

    @post(
        "/{enrollment_id:str}/review",
        operation_id="review_enrollment",
        status_code=200,
        responses=errors(401, 403, 404, 422, 429),
    )
    async def review(
        self,
        *,
        request: Request[Any, Any, Any],
        enrollment_id: UuidPath,
        data: JSONBody[ReviewCreate],
        principal: NamedDependency[Principal],
    ) -> EnrollmentResponse:
        """Rate and review the course of an enrollment with at least 20 % progress (its student, admins).
        A new review replaces the old one."""
        enrollment = await learning_of(request).review(
            principal.user, parse_uuid("enrollment_id", enrollment_id), data.rating, data.review
        )
        return EnrollmentResponse.of(enrollment)
