"""Response bodies of the analytics routes (API §6.8): decimals as strings with 2 places."""

from __future__ import annotations

from dataclasses import fields
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

import msgspec

from adapters.http.bodies import DecimalString, decimal_string, response_of
from domain.analytics.model import (
    CourseAnalytics,
    CourseProgressItem,
    DailyActivityItem,
    InstructorOverview,
    MyDashboard,
    MyProgressSummary,
    SystemOverview,
)

S = TypeVar("S", bound=msgspec.Struct)


def _figures(response: type[S], report: Any) -> S:
    """The report's members, its decimals as decimal strings."""
    decimals = {
        field.name: decimal_string(value)
        for field in fields(report)
        if isinstance(value := getattr(report, field.name), Decimal)
    }
    return response_of(response, report, **decimals)


class MyProgressSummaryResponse(msgspec.Struct, kw_only=True):
    student_id: UUID
    total_enrollments: int
    active_enrollments: int
    completed_enrollments: int
    average_progress: DecimalString
    total_time_hours: DecimalString
    total_lessons_completed: int
    quizzes_taken: int
    quizzes_passed: int
    average_quiz_score: DecimalString

    @classmethod
    def of(cls, summary: MyProgressSummary) -> MyProgressSummaryResponse:
        return _figures(cls, summary)


class CourseProgressItemResponse(msgspec.Struct, kw_only=True):
    course_id: UUID
    course_title: str
    progress_percentage: DecimalString
    completed_lessons: int
    total_lessons: int
    time_spent_hours: DecimalString
    quizzes_completed: int
    average_quiz_score: DecimalString

    @classmethod
    def of(cls, item: CourseProgressItem) -> CourseProgressItemResponse:
        return _figures(cls, item)


class DailyActivityItemResponse(msgspec.Struct, kw_only=True):
    date: date
    lessons_completed: int
    time_spent_minutes: int
    quizzes_taken: int

    @classmethod
    def of(cls, item: DailyActivityItem) -> DailyActivityItemResponse:
        return _figures(cls, item)


class MyDashboardResponse(msgspec.Struct, kw_only=True):
    student_id: UUID
    summary: MyProgressSummaryResponse
    courses: list[CourseProgressItemResponse]
    recent_activity: list[DailyActivityItemResponse]

    @classmethod
    def of(cls, dashboard: MyDashboard) -> MyDashboardResponse:
        return cls(
            student_id=dashboard.student_id,
            summary=MyProgressSummaryResponse.of(dashboard.summary),
            courses=[CourseProgressItemResponse.of(item) for item in dashboard.courses],
            recent_activity=[DailyActivityItemResponse.of(item) for item in dashboard.recent_activity],
        )


class CourseAnalyticsResponse(msgspec.Struct, kw_only=True):
    course_id: UUID
    course_title: str
    total_enrollments: int
    active_students: int
    completed_students: int
    completion_rate: DecimalString
    average_progress: DecimalString
    average_time_hours: DecimalString
    average_rating: DecimalString
    total_reviews: int

    @classmethod
    def of(cls, analytics: CourseAnalytics) -> CourseAnalyticsResponse:
        return _figures(cls, analytics)


class InstructorOverviewResponse(msgspec.Struct, kw_only=True):
    instructor_id: UUID
    total_courses: int
    published_courses: int
    total_students: int
    total_enrollments: int
    average_course_rating: DecimalString

    @classmethod
    def of(cls, overview: InstructorOverview) -> InstructorOverviewResponse:
        return _figures(cls, overview)


class SystemOverviewResponse(msgspec.Struct, kw_only=True):
    total_users: int
    total_students: int
    total_instructors: int
    total_courses: int
    published_courses: int
    total_enrollments: int
    active_enrollments: int

    @classmethod
    def of(cls, overview: SystemOverview) -> SystemOverviewResponse:
        return _figures(cls, overview)
