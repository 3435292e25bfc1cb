"""`/api/v1/analytics`: a student's progress and dashboard, course, instructor and system figures
(API §5.9). Course figures may come from the cache, always after the caller passed the checks."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency

from adapters.http.analytics.schemas import (
    CourseAnalyticsResponse,
    InstructorOverviewResponse,
    MyDashboardResponse,
    MyProgressSummaryResponse,
    SystemOverviewResponse,
)
from adapters.http.openapi import errors
from adapters.http.representation import ETAG, NOT_MODIFIED, IfNoneMatch, Representation, read_through, respond
from adapters.http.security import BEARER, UuidPath, analytics_of, authenticated, parse_uuid, viewer_scope
from domain.analytics.services import analytics_key
from domain.identity.model import Principal


class AnalyticsController(Controller):
    path = "/analytics"
    tags = ["analytics"]
    guards = [authenticated]
    security = BEARER

    @get("/my-progress", operation_id="get_my_progress", responses=errors(401, 429))
    async def my_progress(
        self, *, request: Request[Any, Any, Any], principal: NamedDependency[Principal]
    ) -> MyProgressSummaryResponse:
        """The caller's enrollments, time and quiz results, summed up."""
        return MyProgressSummaryResponse.of(await analytics_of(request).my_progress(principal.user))

    @get("/my-dashboard", operation_id="get_my_dashboard", responses=errors(401, 429))
    async def my_dashboard(
        self, *, request: Request[Any, Any, Any], principal: NamedDependency[Principal]
    ) -> MyDashboardResponse:
        """The summary, one item per enrollment (newest first) and the last 30 UTC days of activity."""
        return MyDashboardResponse.of(await analytics_of(request).my_dashboard(principal.user))

    @get(
        "/courses/{course_id:str}",
        operation_id="get_course_analytics",
        response_headers=ETAG,
        responses={**errors(401, 403, 404, 422, 429), **NOT_MODIFIED},
    )
    async def course(
        self,
        *,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        course_id: UuidPath,
        if_none_match: IfNoneMatch = None,
    ) -> Response[CourseAnalyticsResponse]:
        """A course's enrollment, completion, time and rating figures (its instructor, admins). They
        may be up to 300 s old."""
        analytics = analytics_of(request)
        cid = parse_uuid("course_id", course_id)
        heading = await analytics.course_heading(principal.user, cid)  # the checks, before the cache

        async def load() -> tuple[Representation, bool]:
            return Representation.of(CourseAnalyticsResponse.of(await analytics.course_analytics(cid, heading))), True

        key = viewer_scope(principal.user)
        cached = await read_through(analytics.cache, analytics_key(cid), key, analytics.cache_ttl, load)
        return respond(cached, if_none_match=if_none_match)

    @get(
        "/instructors/{instructor_id:str}/overview",
        operation_id="get_instructor_overview",
        responses=errors(401, 403, 422, 429),
    )
    async def instructor(
        self, *, request: Request[Any, Any, Any], principal: NamedDependency[Principal], instructor_id: UuidPath
    ) -> InstructorOverviewResponse:
        """An instructor's courses, students, enrollments and ratings (the instructor, admins)."""
        iid = parse_uuid("instructor_id", instructor_id)
        return InstructorOverviewResponse.of(await analytics_of(request).instructor_overview(principal.user, iid))

    @get("/system/overview", operation_id="get_system_overview", responses=errors(401, 403, 429))
    async def system(
        self, *, request: Request[Any, Any, Any], principal: NamedDependency[Principal]
    ) -> SystemOverviewResponse:
        """Counts of users, courses and enrollments (admins)."""
        return SystemOverviewResponse.of(await analytics_of(request).system_overview(principal.user))
