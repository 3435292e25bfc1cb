"""Assignment use cases (API §11.1 G1-G6), and the gate learning asks about an assignment's lesson."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.assessment.quizzes import LESSON_NOT_IN_COURSE
from domain.assignments import rules
from domain.assignments.model import Assignment, SubmissionType
from domain.assignments.ports import AssignmentsUnitOfWork, AssignmentsUnitOfWorkFactory
from domain.assignments.rules import Criterion, LatePolicy
from domain.catalog import rules as catalog_rules
from domain.catalog.model import Course
from domain.catalog.services import COURSE_NOT_FOUND
from domain.identity.model import User
from domain.learning.ports import LearningUnitOfWork
from domain.shared.changes import apply as apply_changes
from domain.shared.changes import given as changes_given
from domain.shared.clock import Clock
from domain.shared.decimals import two_places
from domain.shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from domain.shared.ids import new_id
from domain.shared.pagination import Page, PageParams
from domain.shared.unset import UNSET, Unset

ASSIGNMENT_NOT_FOUND = "Assignment not found"
LESSON_HAS_ASSIGNMENT = "Lesson already has an assignment"
HAS_SUBMISSIONS = "Assignment has submissions and cannot be deleted"
NOT_AUTHORIZED_VIEW = "Not authorized to view assignments for this course"
NOT_AUTHORIZED_MANAGE = "Not authorized to manage assignments for this course"
ASSIGNMENT_GATED = "Lesson is completed by passing its assignment"
DUE_BEFORE_OPEN = "due_at must be after available_from"
EXTENSION_NOT_UPLOADABLE = "Extension is not allowed for uploads: {}"


@dataclass(frozen=True, slots=True, kw_only=True)
class NewAssignment:
    title: str
    instructions: str | None = None
    lesson_id: UUID | None = None
    submission_types: list[SubmissionType]
    allowed_extensions: list[str] | None = None
    max_points: Decimal
    passing_percentage: Decimal = Decimal("60.00")
    weight: Decimal = Decimal("1.00")
    available_from: datetime | None = None
    due_at: datetime | None = None
    late_policy: LatePolicy = field(default_factory=LatePolicy)
    max_submissions: int = 1
    rubric: list[Criterion] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class AssignmentChanges:
    title: str | Unset | None = UNSET
    instructions: str | Unset | None = UNSET
    lesson_id: UUID | Unset | None = UNSET
    submission_types: list[SubmissionType] | Unset | None = UNSET
    allowed_extensions: list[str] | Unset | None = UNSET
    max_points: Decimal | Unset | None = UNSET
    passing_percentage: Decimal | Unset | None = UNSET
    weight: Decimal | Unset | None = UNSET
    available_from: datetime | Unset | None = UNSET
    due_at: datetime | Unset | None = UNSET
    late_policy: LatePolicy | Unset | None = UNSET
    max_submissions: int | Unset | None = UNSET
    rubric: list[Criterion] | Unset | None = UNSET
    is_published: bool | Unset | None = UNSET


_NOT_NULL = (
    "title",
    "submission_types",
    "max_points",
    "passing_percentage",
    "weight",
    "late_policy",
    "max_submissions",
    "is_published",
)
_DECIMALS = ("max_points", "passing_percentage", "weight")


@dataclass(frozen=True, slots=True)
class AssignmentView:
    assignment: Assignment
    course: Course


def _normalized(values: dict[str, Any], upload_extensions: frozenset[str]) -> dict[str, Any]:
    """Decimals to 2 places, extensions in lower case without dots and known to uploads, rubric
    points to 2 places, submission types once each in a stable order."""
    for name in _DECIMALS:
        if isinstance(values.get(name), Decimal):
            values[name] = two_places(values[name])
    if isinstance(values.get("allowed_extensions"), list):
        cleaned = sorted({e.strip().lstrip(".").lower() for e in values["allowed_extensions"]})
        for extension in cleaned:
            if extension not in upload_extensions:
                raise InvalidInput(EXTENSION_NOT_UPLOADABLE.format(extension))
        values["allowed_extensions"] = cleaned
    if isinstance(values.get("rubric"), list):
        values["rubric"] = [Criterion(c.criterion, two_places(c.points)) for c in values["rubric"]]
    if isinstance(values.get("late_policy"), LatePolicy):
        policy: LatePolicy = values["late_policy"]
        values["late_policy"] = LatePolicy(
            accept_late=policy.accept_late,
            penalty_percent_per_day=two_places(policy.penalty_percent_per_day),
            max_late_days=policy.max_late_days,
        )
    if isinstance(values.get("submission_types"), list):
        values["submission_types"] = [t for t in SubmissionType if t in values["submission_types"]]
    return values


def _check(assignment: Assignment) -> None:
    """The rules across members, checked on the merged assignment."""
    rules.check_rubric(assignment.rubric, assignment.max_points)
    if assignment.available_from and assignment.due_at and assignment.due_at <= assignment.available_from:
        raise InvalidInput(DUE_BEFORE_OPEN)


@dataclass(slots=True)
class AssignmentService:
    uow: AssignmentsUnitOfWorkFactory
    clock: Clock
    upload_extensions: frozenset[str] = frozenset()

    # ----- the gate (learning's LessonGate) -----

    async def completion_refused(self, uow: LearningUnitOfWork, lesson_id: UUID) -> str | None:
        work: AssignmentsUnitOfWork = uow  # type: ignore[assignment]  # one unit of work spans the contexts
        assignment = await work.assignments.of_lesson(lesson_id)
        return ASSIGNMENT_GATED if assignment is not None and assignment.is_published else None

    # ----- reading -----

    async def list_assignments(self, viewer: User | None, course_id: UUID, params: PageParams) -> Page[Assignment]:
        async with self.uow() as uow:
            course = await uow.courses.get(course_id)
            if course is None:
                raise NotFound(COURSE_NOT_FOUND)
            if not catalog_rules.can_view(viewer, course):
                raise Forbidden(NOT_AUTHORIZED_VIEW)
            manager = catalog_rules.can_manage(viewer, course)
            return await uow.assignments.page(course_id, published_only=not manager, params=params)

    async def get_assignment(self, viewer: User | None, course_id: UUID, assignment_id: UUID) -> Assignment:
        async with self.uow() as uow:
            view = await visible(uow, viewer, assignment_id)
            if view.course.id != course_id:
                raise NotFound(ASSIGNMENT_NOT_FOUND)
            return view.assignment

    # ----- managing -----

    async def create_assignment(
        self, actor: User, course_id: UUID, new: NewAssignment, *, assignment_id: UUID | None = None
    ) -> Assignment:
        """`assignment_id`, when given, names the assignment: a retried create finds what it made."""
        async with self.uow() as uow:
            course = await uow.courses.get(course_id, lock=True)
            if course is None:
                raise NotFound(COURSE_NOT_FOUND)
            if not catalog_rules.can_manage(actor, course):
                raise Forbidden(NOT_AUTHORIZED_MANAGE)
            made = await uow.assignments.get(assignment_id) if assignment_id is not None else None
            if made is not None and made.course_id == course_id:
                return made
            values = _normalized({f.name: getattr(new, f.name) for f in fields(new)}, self.upload_extensions)
            if values["allowed_extensions"] is None:
                values["allowed_extensions"] = sorted(self.upload_extensions)
            await self._check_lesson(uow, course_id, new.lesson_id, None)
            now = self.clock.now()
            assignment = Assignment(
                id=assignment_id or new_id(),
                course_id=course_id,
                is_published=False,
                created_at=now,
                updated_at=now,
                **values,
            )
            _check(assignment)
            await uow.assignments.add(assignment)
            await uow.commit()
        return assignment

    async def update_assignment(
        self, actor: User, course_id: UUID, assignment_id: UUID, changes: AssignmentChanges
    ) -> Assignment:
        async with self.uow() as uow:
            assignment = (await self._managed(uow, actor, course_id, assignment_id)).assignment
            values = _normalized(changes_given(changes, not_null=_NOT_NULL), self.upload_extensions)
            if "allowed_extensions" in values and values["allowed_extensions"] is None:
                values["allowed_extensions"] = sorted(self.upload_extensions)  # null: back to the upload list
            if values.get("lesson_id") is not None and values["lesson_id"] != assignment.lesson_id:
                await self._check_lesson(uow, course_id, values["lesson_id"], assignment.id)
            if apply_changes(assignment, values, self.clock.now()):
                _check(assignment)  # on the merged assignment; a refusal leaves the row as it was
                await uow.assignments.save(assignment)
                await uow.commit()
        return assignment

    async def publish(self, actor: User, course_id: UUID, assignment_id: UUID, *, published: bool) -> Assignment:
        """G6: idempotent both ways; an unpublished assignment no longer gates its lesson."""
        return await self.update_assignment(actor, course_id, assignment_id, AssignmentChanges(is_published=published))

    async def delete_assignment(self, actor: User, course_id: UUID, assignment_id: UUID) -> None:
        async with self.uow() as uow:
            await self._managed(uow, actor, course_id, assignment_id)
            if await uow.assignments.has_submissions(assignment_id):
                raise Conflict(HAS_SUBMISSIONS)
            await uow.assignments.delete(assignment_id)
            await uow.commit()

    # ----- helpers -----

    async def _check_lesson(
        self, uow: AssignmentsUnitOfWork, course_id: UUID, lesson_id: UUID | None, assignment_id: UUID | None
    ) -> None:
        if lesson_id is None:
            return
        lesson = await uow.lessons.get(lesson_id)
        if lesson is None or lesson.course_id != course_id:
            raise NotFound(LESSON_NOT_IN_COURSE)
        holder = await uow.assignments.of_lesson(lesson_id)
        if holder is not None and holder.id != assignment_id:
            raise Conflict(LESSON_HAS_ASSIGNMENT)

    async def _managed(
        self, uow: AssignmentsUnitOfWork, actor: User, course_id: UUID, assignment_id: UUID
    ) -> AssignmentView:
        """The course's assignment for its managers; the course is locked, serialising writes."""
        course = await uow.courses.get(course_id, lock=True)
        if course is None:
            raise NotFound(COURSE_NOT_FOUND)
        assignment = await uow.assignments.get(assignment_id)
        if assignment is None or assignment.course_id != course_id:
            raise NotFound(ASSIGNMENT_NOT_FOUND)
        if not catalog_rules.can_manage(actor, course):
            raise Forbidden(NOT_AUTHORIZED_MANAGE)
        return AssignmentView(assignment, course)


async def located(uow: AssignmentsUnitOfWork, assignment_id: UUID) -> AssignmentView:
    found = await uow.assignments.with_course(assignment_id)
    if found is None:
        raise NotFound(ASSIGNMENT_NOT_FOUND)
    return AssignmentView(*found)


async def visible(uow: AssignmentsUnitOfWork, viewer: User | None, assignment_id: UUID) -> AssignmentView:
    """Managers see every assignment of their course; anyone else a published assignment of a
    published course, and `404 Assignment not found` otherwise (API §11.1)."""
    view = await located(uow, assignment_id)
    if not (
        catalog_rules.can_manage(viewer, view.course) or (view.assignment.is_published and view.course.is_published)
    ):
        raise NotFound(ASSIGNMENT_NOT_FOUND)
    return view
