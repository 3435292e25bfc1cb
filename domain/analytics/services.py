"""Analytics use cases N1-N5 (API §5.9): who may read what, then the figures of §7.11.

Course analytics may be served from the cache (§7.12), but only after `course_heading` has
passed the caller through the role guard and the ownership check: the controller asks for the
figures (cached or not) only with the heading this service handed back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from uuid import UUID

from domain.analytics.model import (
    CourseAnalytics,
    CourseProgressItem,
    InstructorOverview,
    MyDashboard,
    MyProgressSummary,
    SystemOverview,
    merge_days,
)
from domain.analytics.ports import AnalyticsReader, CourseHeading
from domain.identity.model import Role, User
from domain.shared.clock import Clock
from domain.shared.errors import Forbidden, NotFound
from domain.shared.ports import Cache

INSUFFICIENT_PERMISSIONS = "Insufficient permissions"
COURSE_NOT_FOUND = "Course not found"
NOT_AUTHORIZED_COURSE = "Not authorized to view analytics for this course"
NOT_AUTHORIZED_INSTRUCTOR = "Not authorized to view this instructor overview"
ONLY_ADMINS = "Only admins can access system overview"

RECENT_DAYS = 30  # recent_activity covers today and the 29 UTC dates before it
COURSE_ANALYTICS_TTL = 300.0  # seconds a course's figures may be served from the cache (§7.12)

_STAFF = (Role.INSTRUCTOR, Role.ADMIN)


def analytics_key(course_id: UUID) -> str:
    """The cache namespace of one course's figures."""
    return f"analytics:{course_id}"


@dataclass(slots=True)
class AnalyticsService:
    reader: AnalyticsReader
    clock: Clock
    cache: Cache
    cache_ttl: float = COURSE_ANALYTICS_TTL  # 0: course figures are never cached

    async def my_progress(self, student: User) -> MyProgressSummary:
        enrollments, attempts = await self.reader.student_totals(student.id)
        return MyProgressSummary.of(student.id, enrollments, attempts)

    async def my_dashboard(self, student: User) -> MyDashboard:
        today = self.clock.now().astimezone(UTC).date()
        since = datetime.combine(today - timedelta(days=RECENT_DAYS - 1), time(), tzinfo=UTC)
        summary = await self.my_progress(student)
        courses = await self.reader.student_courses(student.id)
        days = await self.reader.student_days(student.id, since)
        return MyDashboard(
            student_id=student.id,
            summary=summary,
            courses=[CourseProgressItem.of(figures) for figures in courses],
            recent_activity=merge_days(days),
        )

    async def course_heading(self, actor: User, course_id: UUID) -> CourseHeading:
        """The role guard, the course, then ownership: every request passes here first."""
        if actor.role not in _STAFF:
            raise Forbidden(INSUFFICIENT_PERMISSIONS)
        heading = await self.reader.course_heading(course_id)
        if heading is None:
            raise NotFound(COURSE_NOT_FOUND)
        if actor.role is Role.INSTRUCTOR and heading.instructor_id != actor.id:
            raise Forbidden(NOT_AUTHORIZED_COURSE)
        return heading

    async def course_analytics(self, course_id: UUID, heading: CourseHeading) -> CourseAnalytics:
        """The figures of a course whose heading `course_heading` returned to this caller."""
        return CourseAnalytics.of(course_id, heading.title, await self.reader.course_totals(course_id))

    async def instructor_overview(self, actor: User, instructor_id: UUID) -> InstructorOverview:
        if actor.role not in _STAFF:
            raise Forbidden(INSUFFICIENT_PERMISSIONS)
        if actor.role is Role.INSTRUCTOR and instructor_id != actor.id:
            raise Forbidden(NOT_AUTHORIZED_INSTRUCTOR)
        return InstructorOverview.of(instructor_id, await self.reader.instructor_totals(instructor_id))

    async def system_overview(self, actor: User) -> SystemOverview:
        if actor.role is not Role.ADMIN:
            raise Forbidden(ONLY_ADMINS)
        return await self.reader.system_totals()
