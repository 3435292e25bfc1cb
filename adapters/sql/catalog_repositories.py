"""The catalog repositories on one AsyncSession, and the catalog's single-statement reads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    Table,
    TextClause,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sql.mappers import TableColumns, catalog_values, course_from_row, course_refs, lesson_from_row
from adapters.sql.models import (
    COURSE_PREREQUISITES,
    COURSE_SEARCH_CONFIG,
    COURSE_SEARCH_DOCUMENT,
    ROW_COUNTS,
    CourseRow,
    EnrollmentRow,
    LessonProgressRow,
    LessonRow,
)
from adapters.sql.paging import counted, kept_count, page_in, page_of_rows
from adapters.sql.prepared import PreparedReads
from adapters.sql.statements import bound, dialect_of, first_row, json_rows, uuid_hex
from domain.catalog.model import Course, CourseFilter, CourseRef, Lesson
from domain.catalog.release import Gap, LessonRelease, Release, Standing
from domain.catalog.services import ORDER_CONFLICT, SLUG_TAKEN
from domain.learning.model import ProgressStatus
from domain.shared.errors import Conflict
from domain.shared.pagination import Page, PageParams

# A search with at most this many matches reads them all through the text index and sorts them;
# with more, the page walks the newest-first index (a few thousand rows sort in about a millisecond).
_SORTED_MATCHES = 5_000

COURSES = cast(Table, CourseRow.__table__)
LESSONS = cast(Table, LessonRow.__table__)
ENROLLMENTS = cast(Table, EnrollmentRow.__table__)
PROGRESS = cast(Table, LessonProgressRow.__table__)


_REQUIRED = COURSES.alias("required")


def prerequisites_column(course_id: Any) -> Any:
    """A course's prerequisites as one JSON text column of the course's own read (so the read
    stays one statement): `[[position, id hex, title, slug], ...]`, or null for none."""
    return (
        select(
            json_rows(COURSE_PREREQUISITES.c.position, uuid_hex(_REQUIRED.c.id), _REQUIRED.c.title, _REQUIRED.c.slug)
        )
        .select_from(COURSE_PREREQUISITES.join(_REQUIRED, _REQUIRED.c.id == COURSE_PREREQUISITES.c.required_id))
        .where(COURSE_PREREQUISITES.c.course_id == course_id)
        .scalar_subquery()
        .label("prerequisites")
    )


_EARLIER = LESSONS.alias("earlier")


def gap_columns(course_id: Any, completed_by: Any, before: Any = None, *, when: Any = None) -> tuple[Any, Any]:
    """The id and the position of the course's first lesson (before position `before`, when given)
    without a completed progress row of the enrollments `completed_by` selects: two scalar columns.
    With `when` (the course's `sequential`), they are null, and not searched for, unless it holds:
    only a sequential course's locks need the gap."""
    done = exists().where(
        PROGRESS.c.lesson_id == _EARLIER.c.id,
        PROGRESS.c.status == ProgressStatus.COMPLETED.value,
        PROGRESS.c.enrollment_id == completed_by,
    )
    ahead = [_EARLIER.c.order_index < before] if before is not None else []
    first = select(_EARLIER.c.id).where(_EARLIER.c.course_id == course_id, ~done, *ahead)
    first = first.order_by(_EARLIER.c.order_index).limit(1)
    position = first.with_only_columns(_EARLIER.c.order_index)
    gap_id: Any = first.scalar_subquery()
    gap_order: Any = position.scalar_subquery()
    if when is not None:  # a CASE evaluates its subquery only when chosen
        gap_id, gap_order = case((when, gap_id), else_=null()), case((when, gap_order), else_=null())
    return gap_id.label("gap_id"), gap_order.label("gap_order")


def _standing(row: Any) -> Standing:
    gap = Gap(row.gap_id, row.gap_order) if row.gap_id is not None else None
    return Standing(enrolled_at=row.enrolled_at, gap=gap, first_order=row.first_order)


def release_from_row(row: Any) -> Release:
    """From a row with the lesson's release columns (`RELEASE_COLUMNS`) and its id as `lesson_id`."""
    return Release(
        lesson_id=row.lesson_id,
        order_index=row.order_index,
        is_preview=row.is_preview,
        available_from=row.available_from,
        available_after_days=row.available_after_days,
    )


def lesson_release_from_row(row: Any) -> LessonRelease:
    """From a row with `RELEASE_COLUMNS`, the lesson's `course_id`, its course's `instructor_id`
    and `sequential`, and `gap_columns`."""
    return LessonRelease(
        release=release_from_row(row),
        course_id=row.course_id,
        instructor_id=row.instructor_id,
        sequential=row.sequential,
        gap=Gap(row.gap_id, row.gap_order) if row.gap_id is not None else None,
    )


RELEASE_COLUMNS = (
    LESSONS.c.order_index,
    LESSONS.c.is_preview,
    LESSONS.c.available_from,
    LESSONS.c.available_after_days,
)
# A student's act on a lesson (a progress report, a quiz, an assignment) reads its lock with it.
_RELEASE = (
    select(
        LESSONS.c.id.label("lesson_id"),
        *RELEASE_COLUMNS,
        LESSONS.c.course_id,
        COURSES.c.instructor_id,
        COURSES.c.sequential,
        *gap_columns(
            LESSONS.c.course_id,
            bindparam("enrollment_id", type_=PROGRESS.c.enrollment_id.type),
            LESSONS.c.order_index,
            when=COURSES.c.sequential,
        ),
    )
    .join(COURSES, COURSES.c.id == LESSONS.c.course_id)
    .where(LESSONS.c.id == bound(LESSONS.c.id))
)
_ENROLLMENT_OF = (
    select(ENROLLMENTS.c.id)
    .where(
        ENROLLMENTS.c.student_id == bound(ENROLLMENTS.c.student_id),
        ENROLLMENTS.c.course_id == bound(LESSONS.c.course_id),
    )
    .scalar_subquery()
)
# What a signed-in viewer is to a course's locks, as one row without a FROM.
_STANDING = select(
    select(func.min(LESSONS.c.order_index))
    .where(LESSONS.c.course_id == bound(LESSONS.c.course_id))
    .scalar_subquery()
    .label("first_order"),
    select(ENROLLMENTS.c.enrolled_at)
    .where(
        ENROLLMENTS.c.student_id == bound(ENROLLMENTS.c.student_id),
        ENROLLMENTS.c.course_id == bound(LESSONS.c.course_id),
    )
    .scalar_subquery()
    .label("enrolled_at"),
    *gap_columns(bound(LESSONS.c.course_id), _ENROLLMENT_OF),
)

# Read on every progress report, and on every uncached course read: built once.
_LESSON = select(LESSONS).where(LESSONS.c.id == bound(LESSONS.c.id))
_COURSE = select(COURSES, prerequisites_column(COURSES.c.id)).where(COURSES.c.id == bound(COURSES.c.id))
_COURSE_ID_OF_SLUG = select(COURSES.c.id).where(COURSES.c.slug == bound(COURSES.c.slug))


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class SqlCourseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, course_id: UUID, *, lock: bool = False) -> Course | None:
        return await self._one(COURSES.c.id == course_id, lock=lock)

    async def of_lesson(self, lesson_id: UUID, *, lock: bool = False) -> Course | None:
        lesson_course = select(LESSONS.c.course_id).where(LESSONS.c.id == lesson_id).scalar_subquery()
        return await self._one(COURSES.c.id == lesson_course, lock=lock)

    async def _one(self, condition: ColumnElement[bool], *, lock: bool) -> Course | None:
        row = await first_row(self._s, COURSES, condition, lock=lock)
        return course_from_row(row) if row else None

    async def add(self, course: Course) -> None:
        try:
            await self._s.execute(insert(COURSES).values(**catalog_values(course)))
        except IntegrityError:
            raise Conflict(SLUG_TAKEN) from None

    async def slugs_like(self, base: str) -> set[str]:
        pattern = _escape_like(base) + "-%"
        rows = await self._s.execute(
            select(COURSES.c.slug).where(or_(COURSES.c.slug == base, COURSES.c.slug.like(pattern, escape="\\")))
        )
        return set(rows.scalars())

    async def save(self, course: Course) -> None:
        values = catalog_values(course)
        del values["id"], values["created_at"], values["slug"], values["instructor_id"]
        await self._s.execute(update(COURSES).where(COURSES.c.id == course.id).values(**values))

    async def delete(self, course_id: UUID) -> None:
        # Lessons, enrollments and everything below them go with the course (ON DELETE CASCADE).
        await self._s.execute(delete(COURSES).where(COURSES.c.id == course_id))

    async def has_enrollments(self, course_id: UUID) -> bool:
        query = select(exists().where(ENROLLMENTS.c.course_id == course_id))
        return bool((await self._s.execute(query)).scalar())

    # ----- prerequisites (API §12) -----

    async def prerequisites(self, course_id: UUID) -> list[CourseRef]:
        return course_refs((await self._s.execute(select(prerequisites_column(course_id)))).scalar())

    async def existing(self, course_ids: Sequence[UUID]) -> set[UUID]:
        rows = await self._s.execute(select(COURSES.c.id).where(COURSES.c.id.in_(list(course_ids))))
        return set(rows.scalars())

    async def lock_prerequisites(self) -> None:
        # One writer of the prerequisite graph at a time: two changes that each keep it acyclic
        # could together close a cycle. SQLite has one writer anyway (the unit of work's first
        # write takes the database's lock; this one is a write that changes nothing).
        if dialect_of(self._s) == "postgresql":
            await self._s.execute(select(func.pg_advisory_xact_lock(_PREREQUISITES_LOCK)))
        else:
            await self._s.execute(update(ROW_COUNTS).where(ROW_COUNTS.c.name == "").values(n=ROW_COUNTS.c.n))

    async def reaches(self, from_ids: Sequence[UUID], target: UUID) -> bool:
        """Whether `target` is among `from_ids` or what they require, directly or not."""
        start = select(COURSE_PREREQUISITES.c.required_id.label("id")).where(
            COURSE_PREREQUISITES.c.course_id.in_(list(from_ids))
        )
        reach = start.cte("reach", recursive=True)
        step = select(COURSE_PREREQUISITES.c.required_id).join(reach, COURSE_PREREQUISITES.c.course_id == reach.c.id)
        reach = reach.union(step)
        found = await self._s.execute(select(exists().where(reach.c.id == target)))
        return target in from_ids or bool(found.scalar())

    async def set_prerequisites(self, course_id: UUID, required: Sequence[UUID]) -> None:
        await self._s.execute(delete(COURSE_PREREQUISITES).where(COURSE_PREREQUISITES.c.course_id == course_id))
        if required:
            rows = [{"course_id": course_id, "required_id": r, "position": n} for n, r in enumerate(required)]
            await self._s.execute(insert(COURSE_PREREQUISITES), rows)

    async def dependents(self, course_id: UUID) -> list[tuple[UUID, bool]]:
        query = (
            select(COURSES.c.id, COURSES.c.is_published)
            .join(COURSE_PREREQUISITES, COURSE_PREREQUISITES.c.course_id == COURSES.c.id)
            .where(COURSE_PREREQUISITES.c.required_id == course_id)
        )
        return [(row.id, bool(row.is_published)) for row in await self._s.execute(query)]

    async def missing_prerequisites(self, course_id: UUID, student_id: UUID) -> list[CourseRef]:
        completed = select(ENROLLMENTS.c.id).where(
            ENROLLMENTS.c.course_id == COURSE_PREREQUISITES.c.required_id,
            ENROLLMENTS.c.student_id == student_id,
            ENROLLMENTS.c.status == "completed",
        )
        query = (
            select(COURSE_PREREQUISITES.c.position, _REQUIRED.c.id, _REQUIRED.c.title, _REQUIRED.c.slug)
            .join(_REQUIRED, _REQUIRED.c.id == COURSE_PREREQUISITES.c.required_id)
            .where(COURSE_PREREQUISITES.c.course_id == course_id, ~exists(completed))
            .order_by(COURSE_PREREQUISITES.c.position)
        )
        return [CourseRef(row.id, row.title, row.slug) for row in await self._s.execute(query)]

    async def lacking_prerequisites(self, course_id: UUID, student_ids: Sequence[UUID]) -> set[UUID]:
        if not student_ids:
            return set()
        required = select(COURSE_PREREQUISITES.c.required_id).where(COURSE_PREREQUISITES.c.course_id == course_id)
        every = select(func.count()).select_from(required.subquery()).scalar_subquery()
        complete = (
            select(ENROLLMENTS.c.student_id)
            .where(
                ENROLLMENTS.c.course_id.in_(required),
                ENROLLMENTS.c.student_id.in_(list(student_ids)),
                ENROLLMENTS.c.status == "completed",
            )
            .group_by(ENROLLMENTS.c.student_id)
            .having(func.count() >= every)
        )
        return set(student_ids) - set((await self._s.execute(complete)).scalars())


_PREREQUISITES_LOCK = 0x1E5_0F_0012  # the advisory lock of prerequisite changes (an arbitrary constant)


class SqlLessonRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, lesson_id: UUID) -> Lesson | None:
        row = (await self._s.execute(_LESSON, {"id": lesson_id})).first()
        return lesson_from_row(row) if row else None

    async def release(self, lesson_id: UUID, enrollment_id: UUID) -> LessonRelease | None:
        row = (await self._s.execute(_RELEASE, {"id": lesson_id, "enrollment_id": enrollment_id})).first()
        return lesson_release_from_row(row) if row else None

    async def of_course(self, course_id: UUID) -> list[Lesson]:
        rows = await self._s.execute(
            select(LESSONS).where(LESSONS.c.course_id == course_id).order_by(LESSONS.c.order_index)
        )
        return [lesson_from_row(row) for row in rows]

    async def max_position(self, course_id: UUID) -> int | None:
        query = select(func.max(LESSONS.c.order_index)).where(LESSONS.c.course_id == course_id)
        value = (await self._s.execute(query)).scalar()
        return int(value) if value is not None else None

    async def count(self, course_id: UUID) -> int:
        query = select(func.count()).select_from(LESSONS).where(LESSONS.c.course_id == course_id)
        return int((await self._s.execute(query)).scalar_one())

    async def add(self, lesson: Lesson) -> None:
        try:
            await self._s.execute(insert(LESSONS).values(**catalog_values(lesson)))
        except IntegrityError:
            raise Conflict(ORDER_CONFLICT) from None

    async def save(self, lesson: Lesson) -> None:
        values = catalog_values(lesson)
        del values["id"], values["created_at"], values["course_id"], values["slug"]
        try:
            await self._s.execute(update(LESSONS).where(LESSONS.c.id == lesson.id).values(**values))
        except IntegrityError:
            raise Conflict(ORDER_CONFLICT) from None

    async def remove(self, lesson: Lesson) -> None:
        in_course = LESSONS.c.course_id == lesson.course_id
        await self._s.execute(
            update(LESSONS).where(in_course, LESSONS.c.parent_lesson_id == lesson.id).values(parent_lesson_id=None)
        )
        await self._s.execute(delete(LESSONS).where(LESSONS.c.id == lesson.id))
        # Close the gap in two steps: the unique (course, position) constraint is checked row by
        # row, so moving n+1 → n directly could collide with a row not yet moved.
        after = and_(in_course, LESSONS.c.order_index > lesson.order_index)
        await self._s.execute(update(LESSONS).where(after).values(order_index=1 - LESSONS.c.order_index))
        await self._s.execute(
            update(LESSONS).where(in_course, LESSONS.c.order_index <= 0).values(order_index=-LESSONS.c.order_index)
        )

    async def set_positions(self, moves: Mapping[UUID, int], now: datetime) -> None:
        if not moves:
            return
        # Out of the way first (negative positions), then to their places: the unique
        # (course, position) constraint is checked row by row, so no step may collide.
        await self._s.execute(
            update(LESSONS).where(LESSONS.c.id.in_(list(moves))).values(order_index=-LESSONS.c.order_index)
        )
        await self._s.execute(
            update(LESSONS)
            .where(LESSONS.c.id == bindparam("lesson_id"))
            .values(order_index=bindparam("position"), updated_at=bindparam("now")),
            [{"lesson_id": lesson_id, "position": position, "now": now} for lesson_id, position in moves.items()],
        )


def _course_conditions(scope: CourseFilter, dialect: str) -> list[ColumnElement[bool] | TextClause]:
    conditions: list[ColumnElement[bool] | TextClause] = []
    if scope.published_only:
        conditions.append(COURSES.c.is_published == true())  # `= true`: the partial indexes apply
    if scope.instructor_id is not None:
        conditions.append(COURSES.c.instructor_id == scope.instructor_id)
    if scope.category is not None:
        conditions.append(COURSES.c.category == scope.category)
    if scope.difficulty_level is not None:
        conditions.append(COURSES.c.difficulty_level == scope.difficulty_level.value)
    if scope.text:
        if dialect == "postgresql":
            conditions.append(
                text(f"{COURSE_SEARCH_DOCUMENT} @@ websearch_to_tsquery('{COURSE_SEARCH_CONFIG}', :q)").bindparams(
                    q=scope.text
                )
            )
        else:  # every word, case-insensitively, somewhere in the title or description
            for word in scope.text.split():
                pattern = f"%{_escape_like(word)}%"
                conditions.append(
                    or_(
                        COURSES.c.title.ilike(pattern, escape="\\"),
                        func.coalesce(COURSES.c.description, "").ilike(pattern, escape="\\"),
                    )
                )
    return conditions


def _kept_total(scope: CourseFilter) -> Any:
    """The total the writes keep, for the two unfiltered catalogs (public and admin); None when a
    filter applies (then the filtered rows are counted, through the filters' indexes)."""
    if scope.instructor_id is not None or scope.category is not None or scope.difficulty_level is not None:
        return None
    if scope.text:
        return None
    return kept_count(ROW_COUNTS, "courses:published" if scope.published_only else "courses")


class SqlCatalogReader:
    """Reads on an autocommit connection: one statement for a page in the common case."""

    def __init__(self, reads: PreparedReads) -> None:
        self._reads = reads
        self._engine = reads.engine
        self._dialect = reads.engine.dialect.name

    async def course(self, course_id: UUID) -> Course | None:
        row = await self._reads.first(_COURSE, {"id": course_id})
        return course_from_row(row) if row else None

    async def course_id_of(self, slug: str) -> UUID | None:
        row = await self._reads.first(_COURSE_ID_OF_SLUG, {"slug": slug})
        return row.id if row else None

    async def courses(self, scope: CourseFilter, params: PageParams) -> Page[Course]:
        query = select(COURSES, prerequisites_column(COURSES.c.id)).where(*_course_conditions(scope, self._dialect))
        if scope.text and self._dialect == "postgresql":
            return await self._searched(query, params)
        ordered = query.order_by(COURSES.c.created_at.desc(), COURSES.c.id.desc())
        return await page_of_rows(self._engine, ordered, params, course_from_row, total=_kept_total(scope))

    async def _searched(self, query: Select[Any], params: PageParams) -> Page[Course]:
        """A text search on PostgreSQL: the matches are counted first (through the text index),
        and the count picks the page's plan, which the planner cannot: it assumes matches are
        spread evenly over the catalog, and would walk the newest-first index for a word that only
        drafts, or only old courses, contain, reading every course. Few matches are read whole
        through the text index and sorted; many are met soon walking the index. (Two statements:
        a course published between them shows in one and not the other, as it would in the next
        page anyway.)"""
        async with self._engine.connect() as conn:
            found = int((await conn.execute(select(counted(query)))).scalar_one())
            if found <= _SORTED_MATCHES:
                matches = query.offset(0).subquery("matches")  # a fence: no walking the date index
                ordered = select(matches).order_by(matches.c.created_at.desc(), matches.c.id.desc())
            else:
                ordered = query.order_by(COURSES.c.created_at.desc(), COURSES.c.id.desc())
            return await page_in(conn, ordered, params, course_from_row, total=literal(found, BigInteger))

    async def lesson(self, lesson_id: UUID) -> tuple[Lesson, Course] | None:
        query = select(LESSONS, COURSES).join(COURSES, COURSES.c.id == LESSONS.c.course_id)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query.where(LESSONS.c.id == lesson_id))).first()
        if row is None:
            return None
        return lesson_from_row(TableColumns(row, LESSONS)), course_from_row(TableColumns(row, COURSES))

    async def lessons(self, course_id: UUID, params: PageParams) -> Page[Lesson]:
        query = select(LESSONS).where(LESSONS.c.course_id == course_id).order_by(LESSONS.c.order_index)
        return await page_of_rows(self._engine, query, params, lesson_from_row)

    async def standing(self, course_id: UUID, user_id: UUID | None) -> Standing:
        async with self._engine.connect() as conn:
            row = (await conn.execute(_STANDING, {"course_id": course_id, "student_id": user_id or UUID(int=0)})).one()
        return _standing(row)
