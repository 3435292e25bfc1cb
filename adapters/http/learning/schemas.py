"""Request and response bodies of the enrollment and progress routes (API §6.4)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import UNSET, Meta, UnsetType

from adapters.http.bodies import DecimalString, check_decimal, decimal_string, response_of
from domain.learning.model import CourseStats, Enrollment, EnrollmentStatus, LessonProgress, ProgressStatus

INT63_MAX = 9_223_372_036_854_775_807
Seconds = Annotated[int, Meta(ge=0, le=INT63_MAX, examples=[120])]
Percentage = Annotated[
    Decimal,
    Meta(
        description="0..100, a JSON number or a numeric string; rounded to 2 places",
        examples=["75.00"],
        extra_json_schema={"minimum": 0, "maximum": 100},
    ),
]


Notes = Annotated[str, Meta(max_length=10_000, description="Stored with the progress row, not echoed")]


class EnrollmentCreate(msgspec.Struct, kw_only=True):
    course_id: UUID


class EnrollmentResponse(msgspec.Struct, kw_only=True):
    id: UUID
    student_id: UUID
    course_id: UUID
    enrolled_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    status: EnrollmentStatus
    progress_percentage: DecimalString
    completed_lessons_count: int
    total_lessons_count: int
    total_time_spent_seconds: int
    last_accessed_at: datetime | None
    certificate_issued_at: datetime | None
    rating: int | None
    review: str | None

    @classmethod
    def of(cls, enrollment: Enrollment) -> EnrollmentResponse:
        return response_of(cls, enrollment, progress_percentage=decimal_string(enrollment.progress_percentage))


class EnrollmentDetailResponse(EnrollmentResponse, kw_only=True):
    """An enrollment read by itself, with where the student goes next."""

    next_lesson_id: Annotated[
        UUID | None,
        msgspec.Meta(description="The first lesson, by position, open to the student and not completed"),
    ]

    @classmethod
    def with_next(cls, enrollment: Enrollment, next_lesson_id: UUID | None) -> EnrollmentDetailResponse:
        progress = decimal_string(enrollment.progress_percentage)
        return response_of(cls, enrollment, progress_percentage=progress, next_lesson_id=next_lesson_id)


class LessonProgressUpdate(msgspec.Struct, kw_only=True):
    """Every member is optional (API §7.6 says how they merge with what is stored)."""

    status: ProgressStatus | UnsetType = UNSET
    time_spent_seconds: Seconds | UnsetType = UNSET
    last_position_seconds: Seconds | UnsetType = UNSET
    completion_percentage: Percentage | UnsetType = UNSET
    notes: Notes | UnsetType | None = UNSET

    def checked(self) -> LessonProgressUpdate:
        check_decimal("completion_percentage", self.completion_percentage, Decimal(100))
        return self


class LessonProgressResponse(msgspec.Struct, kw_only=True):
    id: UUID
    enrollment_id: UUID
    lesson_id: UUID
    status: ProgressStatus
    started_at: datetime | None
    completed_at: datetime | None
    time_spent_seconds: int
    last_position_seconds: int
    completion_percentage: DecimalString

    @classmethod
    def of(cls, progress: LessonProgress) -> LessonProgressResponse:
        return response_of(cls, progress, completion_percentage=decimal_string(progress.completion_percentage))


class ReviewCreate(msgspec.Struct, kw_only=True):
    rating: Annotated[int, Meta(ge=1, le=5, examples=[5])]
    review: Annotated[str, Meta(min_length=10, max_length=2000, examples=["Clear, practical and well paced."])]


class CourseEnrollmentStats(msgspec.Struct, kw_only=True):
    course_id: UUID
    total_enrollments: int
    active_enrollments: int
    completed_enrollments: int
    average_progress: DecimalString

    @classmethod
    def of(cls, stats: CourseStats) -> CourseEnrollmentStats:
        return response_of(cls, stats, average_progress=decimal_string(stats.average_progress))
