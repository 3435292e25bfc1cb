"""The gradebook (API §11.3): every published quiz and assignment of a course, each student's grade
for each, and the weighted course percentage. It reads, as analytics does; the rules are pure."""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol
from uuid import UUID

from domain.catalog import rules as catalog_rules
from domain.catalog.model import Course
from domain.catalog.services import COURSE_NOT_FOUND
from domain.identity.model import User
from domain.learning.services import ENROLLMENT_NOT_FOUND
from domain.shared.clock import Clock
from domain.shared.decimals import ZERO, two_places
from domain.shared.errors import Forbidden, NotFound
from domain.shared.pagination import Page, PageParams

NOT_AUTHORIZED = "Not authorized to view the gradebook of this course"
NOT_AUTHORIZED_GRADES = "Not authorized to view these grades"
EXPORT_BATCH = 500  # students per read while the CSV streams


class ItemKind(enum.StrEnum):
    QUIZ = "quiz"
    ASSIGNMENT = "assignment"


class GradeStatus(enum.StrEnum):
    GRADED = "graded"
    PENDING = "pending"
    MISSING = "missing"
    NOT_DUE = "not_due"


@dataclass(frozen=True, slots=True, kw_only=True)
class GradeItem:
    kind: ItemKind
    id: UUID
    title: str
    weight: Decimal
    max_points: Decimal
    due_at: datetime | None


# Results and item grades are made by the thousand per page: plain (not frozen) slotted classes.
@dataclass(slots=True, kw_only=True)
class Result:
    """What a student did at one item: the grade that counts (a quiz's best graded attempt, an
    assignment's latest graded submission), and whether anything waits for grading."""

    percentage: Decimal | None
    waiting: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Student:
    enrollment_id: UUID
    student_id: UUID
    full_name: str
    email: str


@dataclass(slots=True, kw_only=True)
class ItemGrade:
    item_id: UUID
    percentage: Decimal | None
    status: GradeStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class StudentRow:
    student_id: UUID
    full_name: str
    email: str
    grades: list[ItemGrade]
    course_percentage: Decimal | None


@dataclass(frozen=True, slots=True)
class Gradebook:
    items: list[GradeItem]
    rows: Page[StudentRow]


@dataclass(frozen=True, slots=True)
class StudentGrades:
    items: list[GradeItem]
    row: StudentRow


Results = Mapping[UUID, Mapping[UUID, Result]]


class GradebookReader(Protocol):
    async def course_items(self, course_id: UUID) -> tuple[Course, list[GradeItem]] | None:
        """The course and its published quizzes and assignments, in lesson order then creation
        order, in one statement; None when there is no such course."""
        ...

    async def students(self, course_id: UUID, params: PageParams) -> Page[Student]:
        """The course's enrolled students in the order they enrolled, with the total, in one statement."""
        ...

    async def enrolled(self, enrollment_id: UUID) -> tuple[Student, UUID] | None:
        """One enrollment's student and its course id."""
        ...

    async def results(self, course_id: UUID, enrollment_ids: Sequence[UUID]) -> Results:
        """What those enrollments did at the course's items, by enrollment id then item id, in one statement."""
        ...


def grade_of(item: GradeItem, result: Result | None, now: datetime) -> ItemGrade:
    """`graded`; `pending` (handed in, not graded yet); `missing` (nothing, past due: 0); `not_due`."""
    if result is not None and result.percentage is not None:
        return ItemGrade(item_id=item.id, percentage=result.percentage, status=GradeStatus.GRADED)
    if result is not None and result.waiting:
        return ItemGrade(item_id=item.id, percentage=None, status=GradeStatus.PENDING)
    if item.due_at is not None and now > item.due_at:
        return ItemGrade(item_id=item.id, percentage=ZERO, status=GradeStatus.MISSING)
    return ItemGrade(item_id=item.id, percentage=None, status=GradeStatus.NOT_DUE)


def course_percentage(items: Sequence[GradeItem], grades: Sequence[ItemGrade]) -> Decimal | None:
    """Σ(weight * percentage) / Σ weight over the items graded or missing; None when none count
    (or their weights are all 0)."""
    counted = [
        (item.weight, grade.percentage)
        for item, grade in zip(items, grades, strict=True)
        if grade.status in (GradeStatus.GRADED, GradeStatus.MISSING) and grade.percentage is not None
    ]
    total_weight = sum((weight for weight, _ in counted), ZERO)
    if not total_weight:
        return None
    return two_places(sum((weight * pct for weight, pct in counted), ZERO) / total_weight)


def row_of(student: Student, items: Sequence[GradeItem], results: Results, now: datetime) -> StudentRow:
    done = results.get(student.enrollment_id, {})
    grades = [grade_of(item, done.get(item.id), now) for item in items]
    return StudentRow(
        student_id=student.student_id,
        full_name=student.full_name,
        email=student.email,
        grades=grades,
        course_percentage=course_percentage(items, grades),
    )


@dataclass(slots=True)
class GradebookService:
    reader: GradebookReader
    clock: Clock

    async def _managed(self, actor: User, course_id: UUID) -> list[GradeItem]:
        found = await self.reader.course_items(course_id)
        if found is None:
            raise NotFound(COURSE_NOT_FOUND)
        course, items = found
        if not catalog_rules.can_manage(actor, course):
            raise Forbidden(NOT_AUTHORIZED)
        return items

    async def gradebook(self, actor: User, course_id: UUID, params: PageParams) -> Gradebook:
        """B1: three statements: the course with its items, the page of students, their results."""
        items = await self._managed(actor, course_id)
        page = await self.reader.students(course_id, params)
        results = await self.reader.results(course_id, [s.enrollment_id for s in page.items]) if items else {}
        now = self.clock.now()
        rows = [row_of(s, items, results, now) for s in page.items]
        return Gradebook(
            items,
            Page(items=rows, total=page.total, page=page.page, page_size=page.page_size, next_key=page.next_key),
        )

    async def export(self, actor: User, course_id: UUID) -> tuple[list[GradeItem], AsyncIterator[list[StudentRow]]]:
        """B2: the items now (so the caller is checked before anything streams), and the rows in
        batches read one after the other, never all held at once."""
        items = await self._managed(actor, course_id)

        async def batches() -> AsyncIterator[list[StudentRow]]:
            params = PageParams(page=1, page_size=EXPORT_BATCH)
            while True:
                page = await self.reader.students(course_id, params)
                if not page.items:
                    return
                results = await self.reader.results(course_id, [s.enrollment_id for s in page.items]) if items else {}
                now = self.clock.now()
                yield [row_of(s, items, results, now) for s in page.items]
                if page.next_key is None:
                    return
                params = PageParams(page_size=EXPORT_BATCH, after=page.next_key)

        return items, batches()

    async def of_enrollment(self, actor: User, enrollment_id: UUID) -> StudentGrades:
        """B3: the enrollment's student, or a manager of its course."""
        found = await self.reader.enrolled(enrollment_id)
        if found is None:
            raise NotFound(ENROLLMENT_NOT_FOUND)
        student, course_id = found
        course_items = await self.reader.course_items(course_id)
        if course_items is None:
            raise NotFound(ENROLLMENT_NOT_FOUND)
        course, items = course_items
        if actor.id != student.student_id and not catalog_rules.can_manage(actor, course):
            raise Forbidden(NOT_AUTHORIZED_GRADES)
        results = await self.reader.results(course_id, [enrollment_id]) if items else {}
        return StudentGrades(items, row_of(student, items, results, self.clock.now()))


def csv_header(items: Sequence[GradeItem]) -> list[str]:
    return ["student_id", "full_name", "email", *(item.title for item in items), "course_percentage"]


def csv_row(row: StudentRow) -> list[str]:
    """A student's row: each item's percentage (`0.00` when missing), `pending`, or empty when not due."""

    def cell(grade: ItemGrade) -> str:
        if grade.status is GradeStatus.PENDING:
            return "pending"
        return f"{grade.percentage:.2f}" if grade.percentage is not None else ""

    course = f"{row.course_percentage:.2f}" if row.course_percentage is not None else ""
    return [str(row.student_id), row.full_name, row.email, *(cell(g) for g in row.grades), course]
