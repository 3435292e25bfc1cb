"""What the analytics read port returns (exact sums and counts) and the reports built from them
with the formulas of API §7.11: decimals with 2 places, rounded half to even, `0.00` when there
is nothing to average."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

from domain.shared.decimals import hours, mean, percentage

CENTS = 100  # percentages are summed in hundredths, exactly, whatever the database


@dataclass(frozen=True, slots=True, kw_only=True)
class EnrollmentTotals:
    """Sums over a set of enrollments."""

    count: int = 0
    active: int = 0
    completed: int = 0
    progress_cents: int = 0  # the sum of progress_percentage * 100
    time_seconds: int = 0
    lessons_completed: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class AttemptTotals:
    """Sums over a set of graded attempts."""

    graded: int = 0
    passed: int = 0
    percentage_cents: int = 0  # the sum of percentage * 100

    @property
    def average_score(self) -> Decimal:
        return mean(Decimal(self.percentage_cents) / CENTS, self.graded)


@dataclass(frozen=True, slots=True, kw_only=True)
class RatingTotals:
    count: int = 0
    total: int = 0

    @property
    def average(self) -> Decimal:
        return mean(self.total, self.count)


@dataclass(frozen=True, slots=True, kw_only=True)
class EnrollmentFigures:
    """One of the student's enrollments, with its graded attempts."""

    course_id: UUID
    course_title: str
    progress_percentage: Decimal
    completed_lessons: int
    total_lessons: int
    time_seconds: int
    attempts: AttemptTotals


@dataclass(frozen=True, slots=True, kw_only=True)
class DayTotals:
    """What happened on one UTC date: progress rows completed (and their time), attempts submitted."""

    day: date
    lessons_completed: int = 0
    time_seconds: int = 0
    quizzes_taken: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class CourseTotals:
    enrollments: EnrollmentTotals
    ratings: RatingTotals


@dataclass(frozen=True, slots=True, kw_only=True)
class InstructorTotals:
    courses: int = 0
    published_courses: int = 0
    students: int = 0
    enrollments: int = 0
    ratings: RatingTotals = RatingTotals()


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemOverview:
    """Plain counts (API §6.8): the report is the totals themselves."""

    total_users: int
    total_students: int
    total_instructors: int
    total_courses: int
    published_courses: int
    total_enrollments: int
    active_enrollments: int


# ----- reports -----


@dataclass(frozen=True, slots=True, kw_only=True)
class MyProgressSummary:
    student_id: UUID
    total_enrollments: int
    active_enrollments: int
    completed_enrollments: int
    average_progress: Decimal
    total_time_hours: Decimal
    total_lessons_completed: int
    quizzes_taken: int
    quizzes_passed: int
    average_quiz_score: Decimal

    @classmethod
    def of(cls, student_id: UUID, enrollments: EnrollmentTotals, attempts: AttemptTotals) -> MyProgressSummary:
        return cls(
            student_id=student_id,
            total_enrollments=enrollments.count,
            active_enrollments=enrollments.active,
            completed_enrollments=enrollments.completed,
            average_progress=mean(Decimal(enrollments.progress_cents) / CENTS, enrollments.count),
            total_time_hours=hours(enrollments.time_seconds),
            total_lessons_completed=enrollments.lessons_completed,
            quizzes_taken=attempts.graded,
            quizzes_passed=attempts.passed,
            average_quiz_score=attempts.average_score,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class CourseProgressItem:
    course_id: UUID
    course_title: str
    progress_percentage: Decimal
    completed_lessons: int
    total_lessons: int
    time_spent_hours: Decimal
    quizzes_completed: int
    average_quiz_score: Decimal

    @classmethod
    def of(cls, figures: EnrollmentFigures) -> CourseProgressItem:
        return cls(
            course_id=figures.course_id,
            course_title=figures.course_title,
            progress_percentage=figures.progress_percentage,
            completed_lessons=figures.completed_lessons,
            total_lessons=figures.total_lessons,
            time_spent_hours=hours(figures.time_seconds),
            quizzes_completed=figures.attempts.graded,
            average_quiz_score=figures.attempts.average_score,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class DailyActivityItem:
    date: date
    lessons_completed: int
    time_spent_minutes: int
    quizzes_taken: int

    @classmethod
    def of(cls, day: DayTotals) -> DailyActivityItem:
        return cls(
            date=day.day,
            lessons_completed=day.lessons_completed,
            time_spent_minutes=day.time_seconds // 60,
            quizzes_taken=day.quizzes_taken,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class MyDashboard:
    student_id: UUID
    summary: MyProgressSummary
    courses: list[CourseProgressItem]
    recent_activity: list[DailyActivityItem]


@dataclass(frozen=True, slots=True, kw_only=True)
class CourseAnalytics:
    course_id: UUID
    course_title: str
    total_enrollments: int
    active_students: int
    completed_students: int
    completion_rate: Decimal
    average_progress: Decimal
    average_time_hours: Decimal
    average_rating: Decimal
    total_reviews: int

    @classmethod
    def of(cls, course_id: UUID, course_title: str, totals: CourseTotals) -> CourseAnalytics:
        enrollments = totals.enrollments
        return cls(
            course_id=course_id,
            course_title=course_title,
            total_enrollments=enrollments.count,
            active_students=enrollments.active,
            completed_students=enrollments.completed,
            completion_rate=percentage(enrollments.completed, enrollments.count),
            average_progress=mean(Decimal(enrollments.progress_cents) / CENTS, enrollments.count),
            average_time_hours=hours(Decimal(enrollments.time_seconds) / enrollments.count if enrollments.count else 0),
            average_rating=totals.ratings.average,
            total_reviews=totals.ratings.count,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class InstructorOverview:
    instructor_id: UUID
    total_courses: int
    published_courses: int
    total_students: int
    total_enrollments: int
    average_course_rating: Decimal

    @classmethod
    def of(cls, instructor_id: UUID, totals: InstructorTotals) -> InstructorOverview:
        return cls(
            instructor_id=instructor_id,
            total_courses=totals.courses,
            published_courses=totals.published_courses,
            total_students=totals.students,
            total_enrollments=totals.enrollments,
            average_course_rating=totals.ratings.average,
        )


def merge_days(days: list[DayTotals]) -> list[DailyActivityItem]:
    """One item per date (rows of several sources for a date add up), newest first."""
    merged: dict[date, DayTotals] = {}
    for day in days:
        seen = merged.get(day.day)
        merged[day.day] = (
            day
            if seen is None
            else DayTotals(
                day=day.day,
                lessons_completed=seen.lessons_completed + day.lessons_completed,
                time_seconds=seen.time_seconds + day.time_seconds,
                quizzes_taken=seen.quizzes_taken + day.quizzes_taken,
            )
        )
    return [DailyActivityItem.of(merged[d]) for d in sorted(merged, reverse=True)]
