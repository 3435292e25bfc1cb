"""What analytics reads: aggregates only, each answered by one query over indexed rows."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from uuid import UUID

from domain.analytics.model import (
    AttemptTotals,
    CourseTotals,
    DayTotals,
    EnrollmentFigures,
    EnrollmentTotals,
    InstructorTotals,
    SystemOverview,
)


class CourseHeading(Protocol):
    @property
    def title(self) -> str: ...
    @property
    def instructor_id(self) -> UUID: ...


class AnalyticsReader(Protocol):
    async def student_totals(self, student_id: UUID) -> tuple[EnrollmentTotals, AttemptTotals]:
        """Over the student's enrollments, and the student's graded attempts."""
        ...

    async def student_courses(self, student_id: UUID) -> list[EnrollmentFigures]:
        """One per enrollment, newest `enrolled_at` first."""
        ...

    async def student_days(self, student_id: UUID, since: datetime) -> list[DayTotals]:
        """Per UTC date from `since`: progress rows completed and attempts submitted (a date may
        come once per source)."""
        ...

    async def course_heading(self, course_id: UUID) -> CourseHeading | None:
        """The course's title and owner, or None when there is no such course."""
        ...

    async def course_totals(self, course_id: UUID) -> CourseTotals: ...
    async def instructor_totals(self, instructor_id: UUID) -> InstructorTotals: ...
    async def system_totals(self) -> SystemOverview: ...
