"""The gradebook's reads (API §11.3): each method one statement, on a connection of its own."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, cast
from uuid import UUID

import msgspec
from sqlalchemy import Table, bindparam, case, func, literal, select, true, union_all
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.mappers import TableColumns, course_from_row, decimal_of
from adapters.sql.models import (
    AssignmentRow,
    CourseRow,
    EnrollmentRow,
    LessonRow,
    QuestionRow,
    QuizAttemptRow,
    QuizRow,
    SubmissionRow,
    UserRow,
)
from adapters.sql.paging import PagedQuery
from adapters.sql.prepared import PreparedReads
from adapters.sql.statements import bound, json_rows, uuid_hex
from domain.assessment.model import AttemptStatus
from domain.assignments.gradebook import GradeItem, ItemKind, Result, Student
from domain.assignments.model import SubmissionStatus
from domain.catalog.model import Course
from domain.shared.decimals import two_places
from domain.shared.pagination import Page, PageParams

COURSES = cast(Table, CourseRow.__table__)
LESSONS = cast(Table, LessonRow.__table__)
QUIZZES = cast(Table, QuizRow.__table__)
QUESTIONS = cast(Table, QuestionRow.__table__)
ATTEMPTS = cast(Table, QuizAttemptRow.__table__)
ASSIGNMENTS = cast(Table, AssignmentRow.__table__)
SUBMISSIONS = cast(Table, SubmissionRow.__table__)
ENROLLMENTS = cast(Table, EnrollmentRow.__table__)
USERS = cast(Table, UserRow.__table__)


_COURSE_ID = bindparam("course_id", type_=COURSES.c.id.type)


def _items() -> Any:
    """The course's published quizzes (their points: the sum of their questions') and assignments."""
    course_id = _COURSE_ID
    points = (
        select(func.coalesce(func.sum(QUESTIONS.c.points), 0))
        .where(QUESTIONS.c.quiz_id == QUIZZES.c.id)
        .scalar_subquery()
    )
    quizzes = select(
        literal(ItemKind.QUIZ.value).label("kind"),
        QUIZZES.c.id,
        QUIZZES.c.title,
        QUIZZES.c.weight,
        points.label("max_points"),
        QUIZZES.c.due_at,
        QUIZZES.c.lesson_id,
        QUIZZES.c.created_at,
    ).where(QUIZZES.c.course_id == course_id, QUIZZES.c.is_published == true())
    assignments = select(
        literal(ItemKind.ASSIGNMENT.value).label("kind"),
        ASSIGNMENTS.c.id,
        ASSIGNMENTS.c.title,
        ASSIGNMENTS.c.weight,
        ASSIGNMENTS.c.max_points,
        ASSIGNMENTS.c.due_at,
        ASSIGNMENTS.c.lesson_id,
        ASSIGNMENTS.c.created_at,
    ).where(ASSIGNMENTS.c.course_id == course_id, ASSIGNMENTS.c.is_published == true())
    return union_all(quizzes, assignments).subquery("items")


def _results() -> Any:
    """What some enrollments did at their course's items (an enrollment's attempts and submissions
    are its course's): per quiz, the best graded percentage and the attempts waiting for review;
    per assignment, the latest graded submission's percentage and the submissions not graded."""
    ids = bindparam("ids", expanding=True, type_=ENROLLMENTS.c.id.type)
    waiting_attempt = case((ATTEMPTS.c.status == AttemptStatus.PENDING_REVIEW.value, 1), else_=0)
    best = func.max(case((ATTEMPTS.c.status == AttemptStatus.GRADED.value, ATTEMPTS.c.percentage)))
    quizzes = (
        select(
            ATTEMPTS.c.enrollment_id,
            ATTEMPTS.c.quiz_id.label("item_id"),
            best.label("percentage"),
            func.sum(waiting_attempt).label("waiting"),
        )
        .where(ATTEMPTS.c.enrollment_id.in_(ids))
        .group_by(ATTEMPTS.c.enrollment_id, ATTEMPTS.c.quiz_id)
    )
    graded = SUBMISSIONS.c.status == SubmissionStatus.GRADED.value
    ranked = (
        select(
            SUBMISSIONS.c.enrollment_id,
            SUBMISSIONS.c.assignment_id,
            SUBMISSIONS.c.status,
            SUBMISSIONS.c.final_percentage,
            func.row_number()
            .over(
                partition_by=(SUBMISSIONS.c.enrollment_id, SUBMISSIONS.c.assignment_id),
                order_by=(case((graded, 0), else_=1), SUBMISSIONS.c.number.desc()),
            )
            .label("rank"),
        )
        .where(SUBMISSIONS.c.enrollment_id.in_(ids))
        .subquery("ranked")
    )
    latest = func.max(
        case(((ranked.c.rank == 1) & (ranked.c.status == SubmissionStatus.GRADED.value), ranked.c.final_percentage))
    )
    waiting_submission = case((ranked.c.status != SubmissionStatus.GRADED.value, 1), else_=0)
    assignments = select(
        ranked.c.enrollment_id,
        ranked.c.assignment_id.label("item_id"),
        latest.label("percentage"),
        func.sum(waiting_submission).label("waiting"),
    ).group_by(ranked.c.enrollment_id, ranked.c.assignment_id)
    both = union_all(quizzes, assignments).subquery("results")
    # One row per enrollment, its results as one JSON array: 50 rows to read, not 2,000.
    return select(
        both.c.enrollment_id, json_rows(uuid_hex(both.c.item_id), both.c.percentage, both.c.waiting).label("results")
    ).group_by(both.c.enrollment_id)


# An enrollment's results: (item id's hex, the grade's percentage or null, how many wait for grading).
_DECODE_RESULTS = msgspec.json.Decoder(list[tuple[str, Decimal | None, int]])


def _student(row: Any) -> Student:
    return Student(enrollment_id=row.id, student_id=row.student_id, full_name=row.full_name, email=row.email)


_STUDENTS = select(
    ENROLLMENTS.c.id,  # the enrollment's: unlabelled, as the page's sort key names it
    ENROLLMENTS.c.enrolled_at,
    ENROLLMENTS.c.student_id,
    USERS.c.full_name,
    USERS.c.email,
).join(USERS, USERS.c.id == ENROLLMENTS.c.student_id)
# Built once (keyed and compiled once): a gradebook page runs each of them.
_ITEMS = _items()
_COURSE_ITEMS = (
    select(COURSES, _ITEMS)
    .select_from(COURSES.outerjoin(_ITEMS, true()).outerjoin(LESSONS, LESSONS.c.id == _ITEMS.c.lesson_id))
    .where(COURSES.c.id == _COURSE_ID)
    .order_by(LESSONS.c.order_index.asc().nulls_last(), _ITEMS.c.created_at, _ITEMS.c.id)
)
_COURSE_STUDENTS = PagedQuery(
    # In enrollment order, the course's enrollments index: a page reads its own rows, not the course's.
    _STUDENTS.where(ENROLLMENTS.c.course_id == bound(ENROLLMENTS.c.course_id)).order_by(
        ENROLLMENTS.c.enrolled_at, ENROLLMENTS.c.id
    )
)
_ENROLLED = _STUDENTS.add_columns(ENROLLMENTS.c.course_id).where(ENROLLMENTS.c.id == bound(ENROLLMENTS.c.id))
_RESULTS = _results()


class SqlGradebookReader:
    def __init__(self, engine: AsyncEngine, reads: PreparedReads) -> None:
        self._engine = engine
        self._reads = reads

    async def course_items(self, course_id: UUID) -> tuple[Course, list[GradeItem]] | None:
        async with self._engine.connect() as conn:
            rows = (await conn.execute(_COURSE_ITEMS, {"course_id": course_id})).all()
        if not rows:
            return None
        found = [
            GradeItem(
                kind=ItemKind(item.kind),
                id=item.id,
                title=item.title,
                weight=decimal_of(item.weight),
                max_points=decimal_of(item.max_points),
                due_at=item.due_at,
            )
            for item in (TableColumns(row, _ITEMS) for row in rows)
            if item.id is not None
        ]
        return course_from_row(TableColumns(rows[0], COURSES)), found

    async def students(self, course_id: UUID, params: PageParams) -> Page[Student]:
        return await _COURSE_STUDENTS.page(self._reads, params, _student, course_id=course_id)

    async def enrolled(self, enrollment_id: UUID) -> tuple[Student, UUID] | None:
        row = await self._reads.first(_ENROLLED, {"id": enrollment_id})
        return (_student(row), row.course_id) if row else None

    async def results(self, course_id: UUID, enrollment_ids: Sequence[UUID]) -> dict[UUID, dict[UUID, Result]]:
        if not enrollment_ids:
            return {}
        async with self._engine.connect() as conn:
            rows = (await conn.execute(_RESULTS, {"ids": list(enrollment_ids)})).all()
        items: dict[str, UUID] = {}  # each item's id, by its hex, made once per call
        found: dict[UUID, dict[UUID, Result]] = {}
        for enrollment_id, results in rows:
            mine = found[enrollment_id] = {}
            for item_hex, percentage, waiting in _DECODE_RESULTS.decode(results):
                item_id = items.get(item_hex) or items.setdefault(item_hex, UUID(hex=item_hex))
                grade = two_places(percentage) if percentage is not None else None
                mine[item_id] = Result(percentage=grade, waiting=bool(waiting))
        return found
