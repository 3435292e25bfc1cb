"""The analytics read port: each method is one aggregate statement over indexed rows (API §7.11).

Percentages are summed in hundredths (`round(x * 100)`) so that the sums are exact on both
backends (SQLite keeps NUMERIC as floating point); the domain divides and rounds.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Date, Table, bindparam, case, distinct, func, literal_column, select, true, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from adapters.sql.mappers import decimal_of
from adapters.sql.models import (
    CourseRow,
    EnrollmentRow,
    LessonProgressRow,
    QuizAttemptRow,
    UserRow,
)
from adapters.sql.prepared import PreparedReads
from domain.analytics.model import (
    AttemptTotals,
    CourseTotals,
    DayTotals,
    EnrollmentFigures,
    EnrollmentTotals,
    InstructorTotals,
    RatingTotals,
    SystemOverview,
)
from domain.analytics.ports import CourseHeading
from domain.assessment.model import AttemptStatus
from domain.identity.model import Role
from domain.learning.model import EnrollmentStatus

ENROLLMENTS = cast(Table, EnrollmentRow.__table__)
PROGRESS = cast(Table, LessonProgressRow.__table__)
ATTEMPTS = cast(Table, QuizAttemptRow.__table__)
COURSES = cast(Table, CourseRow.__table__)
USERS = cast(Table, UserRow.__table__)


class utc_date(FunctionElement[date]):
    """The UTC calendar date of a timestamp."""

    type = Date()
    inherit_cache = True


@compiles(utc_date, "postgresql")
def _utc_date_postgresql(element: utc_date, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(({compiler.process(element.clauses, **kw)} AT TIME ZONE 'UTC') AS DATE)"


@compiles(utc_date, "sqlite")
def _utc_date_sqlite(element: utc_date, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)})"  # stored as UTC text


def _count_where(condition: Any) -> Any:
    return func.count(case((condition, 1)))


def _sum(column: Any) -> Any:
    return func.coalesce(func.sum(column), 0)


def _cents(column: Any) -> Any:
    return _sum(func.round(column * 100))


def _enrollment_columns() -> list[Any]:
    return [
        func.count(ENROLLMENTS.c.id).label("count"),
        _count_where(ENROLLMENTS.c.status == EnrollmentStatus.ACTIVE.value).label("active"),
        _count_where(ENROLLMENTS.c.status == EnrollmentStatus.COMPLETED.value).label("completed"),
        _cents(ENROLLMENTS.c.progress_percentage).label("progress_cents"),
        _sum(ENROLLMENTS.c.total_time_spent_seconds).label("time_seconds"),
        _sum(ENROLLMENTS.c.completed_lessons_count).label("lessons_completed"),
    ]


def _attempt_columns() -> list[Any]:
    return [
        func.count(ATTEMPTS.c.id).label("graded"),
        _count_where(ATTEMPTS.c.is_passed.is_(True)).label("passed"),
        _cents(ATTEMPTS.c.percentage).label("percentage_cents"),
    ]


def _side_by_side(*aggregates: Any) -> Any:
    """One-row aggregates in one statement (one round trip): joined on TRUE."""
    joined = aggregates[0]
    for aggregate in aggregates[1:]:
        joined = joined.join(aggregate, true())
    return select(*aggregates).select_from(joined)


def _ints(row: Any, *names: str) -> dict[str, int]:
    return {name: int(getattr(row, name)) for name in names}


_ENROLLMENT_FIELDS = ("count", "active", "completed", "progress_cents", "time_seconds", "lessons_completed")
_ATTEMPT_FIELDS = ("graded", "passed", "percentage_cents")
_GRADED = ATTEMPTS.c.status == AttemptStatus.GRADED.value


# The statements are built once, with bound parameters: building and keying a fresh statement of
# this size costs more than running it (measured: 1.25 ms per call against 0.14 ms prebuilt).
_STUDENT = bindparam("student_id", type_=ENROLLMENTS.c.student_id.type)
_SINCE = bindparam("since", type_=PROGRESS.c.completed_at.type)
_COURSE = bindparam("course_id", type_=ENROLLMENTS.c.course_id.type)
_INSTRUCTOR = bindparam("instructor_id", type_=COURSES.c.instructor_id.type)


def _student_totals() -> Any:
    enrollments = select(*_enrollment_columns()).where(ENROLLMENTS.c.student_id == _STUDENT).subquery()
    attempts = select(*_attempt_columns()).where(ATTEMPTS.c.student_id == _STUDENT, _GRADED).subquery()
    return _side_by_side(enrollments, attempts)


def _student_courses() -> Any:
    attempts = (
        select(ATTEMPTS.c.enrollment_id, *_attempt_columns())
        .where(ATTEMPTS.c.student_id == _STUDENT, _GRADED)
        .group_by(ATTEMPTS.c.enrollment_id)
        .subquery()
    )
    return (
        select(
            ENROLLMENTS.c.course_id,
            COURSES.c.title,
            ENROLLMENTS.c.progress_percentage,
            ENROLLMENTS.c.completed_lessons_count,
            ENROLLMENTS.c.total_lessons_count,
            ENROLLMENTS.c.total_time_spent_seconds,
            *(func.coalesce(attempts.c[name], 0).label(name) for name in _ATTEMPT_FIELDS),
        )
        .join(COURSES, COURSES.c.id == ENROLLMENTS.c.course_id)
        .outerjoin(attempts, attempts.c.enrollment_id == ENROLLMENTS.c.id)
        .where(ENROLLMENTS.c.student_id == _STUDENT)
        .order_by(ENROLLMENTS.c.enrolled_at.desc(), ENROLLMENTS.c.id.desc())
    )


def _student_days() -> Any:
    """Per UTC date: progress rows completed (and their time), then attempts submitted."""
    completed_day = utc_date(PROGRESS.c.completed_at)
    lessons = (
        select(
            completed_day.label("day"),
            func.count().label("lessons_completed"),
            _sum(PROGRESS.c.time_spent_seconds).label("time_seconds"),
            literal_column("0").label("quizzes_taken"),
        )
        .join(ENROLLMENTS, ENROLLMENTS.c.id == PROGRESS.c.enrollment_id)
        .where(ENROLLMENTS.c.student_id == _STUDENT, PROGRESS.c.completed_at >= _SINCE)
        .group_by(completed_day)
    )
    submitted_day = utc_date(ATTEMPTS.c.submitted_at)
    quizzes: Any = (
        select(submitted_day.label("day"), literal_column("0"), literal_column("0"), func.count())
        .where(ATTEMPTS.c.student_id == _STUDENT, ATTEMPTS.c.submitted_at >= _SINCE)
        .group_by(submitted_day)
    )
    return union_all(lessons, quizzes)


def _course_totals() -> Any:
    return select(
        *_enrollment_columns(),
        func.count(ENROLLMENTS.c.rating).label("ratings"),
        _sum(ENROLLMENTS.c.rating).label("rating_total"),
    ).where(ENROLLMENTS.c.course_id == _COURSE)


def _instructor_totals() -> Any:
    return (
        select(
            func.count(distinct(COURSES.c.id)).label("courses"),
            func.count(distinct(case((COURSES.c.is_published.is_(True), COURSES.c.id)))).label("published"),
            func.count(distinct(ENROLLMENTS.c.student_id)).label("students"),
            func.count(ENROLLMENTS.c.id).label("enrollments"),
            func.count(ENROLLMENTS.c.rating).label("ratings"),
            _sum(ENROLLMENTS.c.rating).label("rating_total"),
        )
        .select_from(COURSES)
        .outerjoin(ENROLLMENTS, ENROLLMENTS.c.course_id == COURSES.c.id)
        .where(COURSES.c.instructor_id == _INSTRUCTOR)
    )


def _system_totals() -> Any:
    users = select(
        func.count().label("users"),
        _count_where(USERS.c.role == Role.STUDENT.value).label("students"),
        _count_where(USERS.c.role == Role.INSTRUCTOR.value).label("instructors"),
    ).subquery()
    courses = select(
        func.count().label("courses"),
        _count_where(COURSES.c.is_published.is_(True)).label("published"),
    ).subquery()
    enrollments = select(
        func.count().label("enrollments"),
        _count_where(ENROLLMENTS.c.status == EnrollmentStatus.ACTIVE.value).label("active"),
    ).subquery()
    return _side_by_side(users, courses, enrollments)


STUDENT_TOTALS = _student_totals()
STUDENT_COURSES = _student_courses()
STUDENT_DAYS = _student_days()
COURSE_HEADING = select(COURSES.c.title, COURSES.c.instructor_id).where(COURSES.c.id == _COURSE)
COURSE_TOTALS = _course_totals()
INSTRUCTOR_TOTALS = _instructor_totals()
SYSTEM_TOTALS = _system_totals()


class SqlAnalyticsReader:
    """Prepared reads; one statement per method."""

    def __init__(self, reads: PreparedReads) -> None:
        self._reads = reads

    async def _rows(self, query: Any, **parameters: Any) -> list[Any]:
        return await self._reads.rows(query, parameters)

    async def _one(self, query: Any, **parameters: Any) -> Any:
        (row,) = await self._rows(query, **parameters)
        return row

    async def student_totals(self, student_id: UUID) -> tuple[EnrollmentTotals, AttemptTotals]:
        row = await self._one(STUDENT_TOTALS, student_id=student_id)
        return (
            EnrollmentTotals(**_ints(row, *_ENROLLMENT_FIELDS)),
            AttemptTotals(**_ints(row, *_ATTEMPT_FIELDS)),
        )

    async def student_courses(self, student_id: UUID) -> list[EnrollmentFigures]:
        return [
            EnrollmentFigures(
                course_id=row.course_id,
                course_title=row.title,
                progress_percentage=decimal_of(row.progress_percentage),
                completed_lessons=row.completed_lessons_count,
                total_lessons=row.total_lessons_count,
                time_seconds=row.total_time_spent_seconds,
                attempts=AttemptTotals(**_ints(row, *_ATTEMPT_FIELDS)),
            )
            for row in await self._rows(STUDENT_COURSES, student_id=student_id)
        ]

    async def student_days(self, student_id: UUID, since: datetime) -> list[DayTotals]:
        return [
            DayTotals(day=_date(row.day), **_ints(row, "lessons_completed", "time_seconds", "quizzes_taken"))
            for row in await self._rows(STUDENT_DAYS, student_id=student_id, since=since)
        ]

    async def course_heading(self, course_id: UUID) -> CourseHeading | None:
        rows: list[CourseHeading] = await self._rows(COURSE_HEADING, course_id=course_id)
        return rows[0] if rows else None

    async def course_totals(self, course_id: UUID) -> CourseTotals:
        row = await self._one(COURSE_TOTALS, course_id=course_id)
        return CourseTotals(
            enrollments=EnrollmentTotals(**_ints(row, *_ENROLLMENT_FIELDS)),
            ratings=RatingTotals(count=int(row.ratings), total=int(row.rating_total)),
        )

    async def instructor_totals(self, instructor_id: UUID) -> InstructorTotals:
        row = await self._one(INSTRUCTOR_TOTALS, instructor_id=instructor_id)
        return InstructorTotals(
            courses=int(row.courses),
            published_courses=int(row.published),
            students=int(row.students),
            enrollments=int(row.enrollments),
            ratings=RatingTotals(count=int(row.ratings), total=int(row.rating_total)),
        )

    async def system_totals(self) -> SystemOverview:
        row = await self._one(SYSTEM_TOTALS)
        return SystemOverview(
            total_users=int(row.users),
            total_students=int(row.students),
            total_instructors=int(row.instructors),
            total_courses=int(row.courses),
            published_courses=int(row.published),
            total_enrollments=int(row.enrollments),
            active_enrollments=int(row.active),
        )


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))
