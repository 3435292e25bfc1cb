"""The learning repositories on one AsyncSession, and the learning reads of single statements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Table, and_, case, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sql.catalog_repositories import COURSES, LESSONS, RELEASE_COLUMNS, release_from_row
from adapters.sql.mappers import decimal_of, enrollment_from_row, progress_from_row, row_values
from adapters.sql.models import EnrollmentRow, LessonProgressRow
from adapters.sql.paging import PagedQuery, page_of_rows
from adapters.sql.prepared import PreparedReads
from adapters.sql.statements import LockedQuery, bound, first_row, insert_ignoring_conflicts, locked
from domain.catalog.release import Release
from domain.learning.model import (
    CourseStats,
    Enrollment,
    EnrollmentStatus,
    LessonProgress,
    ProgressStatus,
    ProgressTotals,
)
from domain.shared.pagination import Page, PageParams

ENROLLMENTS = cast(Table, EnrollmentRow.__table__)
PROGRESS = cast(Table, LessonProgressRow.__table__)

_NEWEST_FIRST = (ENROLLMENTS.c.enrolled_at.desc(), ENROLLMENTS.c.id.desc())
# A student's own enrollments (my-courses, on every dashboard load): built once.
_OF_STUDENT = PagedQuery(
    select(ENROLLMENTS).where(ENROLLMENTS.c.student_id == bound(ENROLLMENTS.c.student_id)).order_by(*_NEWEST_FIRST)
)


def _lesson_count(course_id: Any) -> Any:
    return select(func.count()).select_from(LESSONS).where(LESSONS.c.course_id == course_id).scalar_subquery()


# A progress report's transaction (the busiest write of the journey), built once.
_ENROLLMENT = select(ENROLLMENTS).where(ENROLLMENTS.c.id == bound(ENROLLMENTS.c.id))
_LOCKED_ENROLLMENT = LockedQuery(ENROLLMENTS, ENROLLMENTS.c.id == bound(ENROLLMENTS.c.id))
_PROGRESS = select(PROGRESS).where(
    PROGRESS.c.enrollment_id == bound(PROGRESS.c.enrollment_id), PROGRESS.c.lesson_id == bound(PROGRESS.c.lesson_id)
)
_TOTALS = select(
    func.count().filter(PROGRESS.c.status == ProgressStatus.COMPLETED.value),
    func.coalesce(func.sum(PROGRESS.c.time_spent_seconds), 0),
    _lesson_count(bound(LESSONS.c.course_id)),
).where(PROGRESS.c.enrollment_id == bound(PROGRESS.c.enrollment_id))
# An enrollment's course and its lessons' release rules, each with whether the enrollment completed it.
_PATH = (
    select(
        COURSES.c.sequential,
        LESSONS.c.id.label("lesson_id"),
        *RELEASE_COLUMNS,
        (PROGRESS.c.id.is_not(None)).label("completed"),
    )
    .select_from(ENROLLMENTS)
    .join(COURSES, COURSES.c.id == ENROLLMENTS.c.course_id)
    .outerjoin(LESSONS, LESSONS.c.course_id == ENROLLMENTS.c.course_id)
    .outerjoin(
        PROGRESS,
        and_(
            PROGRESS.c.enrollment_id == ENROLLMENTS.c.id,
            PROGRESS.c.lesson_id == LESSONS.c.id,
            PROGRESS.c.status == ProgressStatus.COMPLETED.value,
        ),
    )
    .where(ENROLLMENTS.c.id == bound(ENROLLMENTS.c.id))
)
_INSERT_PROGRESS = insert(PROGRESS)
# The row's key under another name: the SET clause comes from the columns given.
_UPDATE_PROGRESS = update(PROGRESS).where(PROGRESS.c.id == bound(PROGRESS.c.id, "row_id"))
_UPDATE_ENROLLMENT = update(ENROLLMENTS).where(ENROLLMENTS.c.id == bound(ENROLLMENTS.c.id, "row_id"))


def _changes(enrollment: Enrollment) -> dict[str, Any]:
    values = row_values(enrollment)
    del values["id"], values["student_id"], values["course_id"], values["created_at"]
    return {**values, "row_id": enrollment.id}


class SqlEnrollmentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, enrollment_id: UUID, *, lock: bool = False) -> Enrollment | None:
        if lock:
            row = (await _LOCKED_ENROLLMENT.execute(self._s, id=enrollment_id)).first()
        else:
            row = (await self._s.execute(_ENROLLMENT, {"id": enrollment_id})).first()
        return enrollment_from_row(row) if row else None

    async def add_if_absent(self, enrollment: Enrollment) -> bool:
        statement = insert_ignoring_conflicts(self._s, ENROLLMENTS).values(**row_values(enrollment))
        result = await self._s.execute(statement.returning(ENROLLMENTS.c.id))
        return result.first() is not None

    async def of_student(self, student_id: UUID, course_id: UUID, *, lock: bool = False) -> Enrollment | None:
        condition = (ENROLLMENTS.c.student_id == student_id) & (ENROLLMENTS.c.course_id == course_id)
        row = await first_row(self._s, ENROLLMENTS, condition, lock=lock)
        return enrollment_from_row(row) if row else None

    async def of_students(self, course_id: UUID, student_ids: Sequence[UUID]) -> dict[UUID, Enrollment]:
        if not student_ids:
            return {}
        query = select(ENROLLMENTS).where(
            ENROLLMENTS.c.course_id == course_id, ENROLLMENTS.c.student_id.in_(list(student_ids))
        )
        return {row.student_id: enrollment_from_row(row) for row in await self._s.execute(query)}

    async def add_all_absent(self, enrollments: Sequence[Enrollment]) -> set[UUID]:
        if not enrollments:
            return set()
        statement = insert_ignoring_conflicts(self._s, ENROLLMENTS).returning(ENROLLMENTS.c.id)
        result = await self._s.execute(statement, [row_values(e) for e in enrollments])
        return set(result.scalars())

    async def of_course(self, course_id: UUID, *, lock: bool = False) -> list[Enrollment]:
        condition = ENROLLMENTS.c.course_id == course_id
        query = select(ENROLLMENTS).where(condition).order_by(ENROLLMENTS.c.id)  # one lock order for all
        if lock:
            rows = await locked(self._s, ENROLLMENTS, condition, query)
        else:
            rows = await self._s.execute(query)
        return [enrollment_from_row(row) for row in rows]

    async def save(self, enrollment: Enrollment) -> None:
        await self._s.execute(_UPDATE_ENROLLMENT, _changes(enrollment))

    async def save_all(self, enrollments: Sequence[Enrollment]) -> None:
        if enrollments:  # one executemany: the driver sends the rows in one batch, not a round trip each
            await self._s.execute(_UPDATE_ENROLLMENT, [_changes(e) for e in enrollments])

    async def totals(self, enrollment_id: UUID, course_id: UUID) -> ProgressTotals:
        binds = {"enrollment_id": enrollment_id, "course_id": course_id}
        done, seconds, lessons = (await self._s.execute(_TOTALS, binds)).one()
        return ProgressTotals(completed_lessons=int(done), total_lessons=int(lessons), time_spent_seconds=int(seconds))

    async def course_totals(self, course_id: UUID) -> dict[UUID, ProgressTotals]:
        completed = func.count(PROGRESS.c.id).filter(PROGRESS.c.status == ProgressStatus.COMPLETED.value)
        query = (
            select(
                ENROLLMENTS.c.id,
                completed,
                func.coalesce(func.sum(PROGRESS.c.time_spent_seconds), 0),
                _lesson_count(course_id),
            )
            .select_from(ENROLLMENTS.outerjoin(PROGRESS, PROGRESS.c.enrollment_id == ENROLLMENTS.c.id))
            .where(ENROLLMENTS.c.course_id == course_id)
            .group_by(ENROLLMENTS.c.id)
        )
        return {
            enrollment_id: ProgressTotals(
                completed_lessons=int(done), total_lessons=int(lessons), time_spent_seconds=int(seconds)
            )
            for enrollment_id, done, seconds, lessons in await self._s.execute(query)
        }


class SqlProgressRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, enrollment_id: UUID, lesson_id: UUID) -> LessonProgress | None:
        row = (await self._s.execute(_PROGRESS, {"enrollment_id": enrollment_id, "lesson_id": lesson_id})).first()
        return progress_from_row(row) if row else None

    async def save(self, progress: LessonProgress, *, is_new: bool) -> None:
        values = row_values(progress)
        if is_new:
            await self._s.execute(_INSERT_PROGRESS, values)
            return
        del values["id"], values["enrollment_id"], values["lesson_id"], values["created_at"]
        await self._s.execute(_UPDATE_PROGRESS, {**values, "row_id": progress.id})


class SqlLearningReader:
    """Reads on an autocommit connection, one statement each in the common case."""

    def __init__(self, reads: PreparedReads) -> None:
        self._reads = reads
        self._engine = reads.engine

    async def enrollment(self, enrollment_id: UUID) -> tuple[Enrollment, UUID] | None:
        query = (
            select(ENROLLMENTS, COURSES.c.instructor_id.label("course_instructor_id"))
            .join(COURSES, COURSES.c.id == ENROLLMENTS.c.course_id)
            .where(ENROLLMENTS.c.id == enrollment_id)
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return (enrollment_from_row(row), row.course_instructor_id) if row else None

    async def path(self, enrollment_id: UUID) -> tuple[bool, list[Release], set[UUID]]:
        async with self._engine.connect() as conn:
            rows = (await conn.execute(_PATH, {"id": enrollment_id})).all()
        lessons = [release_from_row(row) for row in rows if row.lesson_id is not None]
        completed = {row.lesson_id for row in rows if row.completed}
        return bool(rows and rows[0].sequential), lessons, completed

    async def of_student(self, student_id: UUID, params: PageParams) -> Page[Enrollment]:
        return await _OF_STUDENT.page(self._reads, params, enrollment_from_row, student_id=student_id)

    async def of_course(self, course_id: UUID, params: PageParams) -> Page[Enrollment]:
        query = select(ENROLLMENTS).where(ENROLLMENTS.c.course_id == course_id).order_by(*_NEWEST_FIRST)
        return await page_of_rows(self._engine, query, params, enrollment_from_row)

    async def stats(self, course_id: UUID) -> CourseStats:
        def count_of(status: EnrollmentStatus) -> Any:
            return func.count(case((ENROLLMENTS.c.status == status.value, 1)))

        query = select(
            func.count(),
            count_of(EnrollmentStatus.ACTIVE),
            count_of(EnrollmentStatus.COMPLETED),
            func.avg(ENROLLMENTS.c.progress_percentage),
        ).where(and_(ENROLLMENTS.c.course_id == course_id))
        async with self._engine.connect() as conn:
            total, active, completed, average = (await conn.execute(query)).one()
        return CourseStats(
            course_id=course_id,
            total_enrollments=int(total),
            active_enrollments=int(active),
            completed_enrollments=int(completed),
            average_progress=decimal_of(average),
        )
