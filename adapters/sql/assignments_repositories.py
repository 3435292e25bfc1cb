"""The assignment repositories on one AsyncSession: assignments, submissions and the files they attach."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Table, delete, exists, insert, literal, null, select, true, union_all, update
from sqlalchemy import cast as cast_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sql.files_repository import FILES, file_from_row
from adapters.sql.mappers import TableColumns, course_from_row
from adapters.sql.models import AssignmentRow, CourseRow, QuizAttemptRow, QuizRow, SubmissionRow
from adapters.sql.paging import page_in
from adapters.sql.statements import first_row
from domain.assessment.model import AttemptStatus
from domain.assignments.assignments import LESSON_HAS_ASSIGNMENT
from domain.assignments.model import Assignment, Submission, SubmissionStatus, SubmissionType
from domain.assignments.ports import QueueItem
from domain.assignments.rules import Criterion, LatePolicy
from domain.assignments.submissions import MAX_SUBMISSIONS
from domain.catalog.model import Course
from domain.files.model import StoredFile
from domain.shared.errors import Conflict
from domain.shared.pagination import Page, PageParams

ASSIGNMENTS = cast(Table, AssignmentRow.__table__)
SUBMISSIONS = cast(Table, SubmissionRow.__table__)
COURSES = cast(Table, CourseRow.__table__)
ATTEMPTS = cast(Table, QuizAttemptRow.__table__)
QUIZZES = cast(Table, QuizRow.__table__)
# An assignment with its course, in one statement.
_WITH_COURSE = select(ASSIGNMENTS, COURSES).join(COURSES, COURSES.c.id == ASSIGNMENTS.c.course_id)


def _criteria(stored: list[dict[str, Any]] | None) -> list[Criterion] | None:
    if stored is None:
        return None
    return [Criterion(c["criterion"], Decimal(c["points"])) for c in stored]


def _stored_criteria(criteria: list[Criterion] | None) -> list[dict[str, str]] | None:
    if criteria is None:
        return None
    return [{"criterion": c.criterion, "points": f"{c.points:.2f}"} for c in criteria]


def assignment_from_row(row: Any) -> Assignment:
    return Assignment(
        id=row.id,
        course_id=row.course_id,
        lesson_id=row.lesson_id,
        title=row.title,
        instructions=row.instructions,
        submission_types=[SubmissionType(t) for t in row.submission_types],
        allowed_extensions=list(row.allowed_extensions),
        max_points=row.max_points,
        passing_percentage=row.passing_percentage,
        weight=row.weight,
        available_from=row.available_from,
        due_at=row.due_at,
        late_policy=LatePolicy(
            accept_late=row.accept_late,
            penalty_percent_per_day=row.penalty_percent_per_day,
            max_late_days=row.max_late_days,
        ),
        max_submissions=row.max_submissions,
        rubric=_criteria(row.rubric) or [],
        is_published=row.is_published,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def assignment_values(assignment: Assignment) -> dict[str, object]:
    policy = assignment.late_policy
    return {
        "id": assignment.id,
        "course_id": assignment.course_id,
        "lesson_id": assignment.lesson_id,
        "title": assignment.title,
        "instructions": assignment.instructions,
        "submission_types": [t.value for t in assignment.submission_types],
        "allowed_extensions": assignment.allowed_extensions,
        "max_points": assignment.max_points,
        "passing_percentage": assignment.passing_percentage,
        "weight": assignment.weight,
        "available_from": assignment.available_from,
        "due_at": assignment.due_at,
        "accept_late": policy.accept_late,
        "penalty_percent_per_day": policy.penalty_percent_per_day,
        "max_late_days": policy.max_late_days,
        "max_submissions": assignment.max_submissions,
        "rubric": _stored_criteria(assignment.rubric),
        "is_published": assignment.is_published,
        "created_at": assignment.created_at,
        "updated_at": assignment.updated_at,
    }


def submission_from_row(row: Any) -> Submission:
    return Submission(
        id=row.id,
        assignment_id=row.assignment_id,
        enrollment_id=row.enrollment_id,
        student_id=row.student_id,
        number=row.number,
        text=row.text,
        file_ids=[UUID(i) for i in row.file_ids],
        status=SubmissionStatus(row.status),
        submitted_at=row.submitted_at,
        late_days=row.late_days,
        points=row.points,
        penalty_percent=row.penalty_percent,
        final_points=row.final_points,
        final_percentage=row.final_percentage,
        feedback=row.feedback,
        rubric_scores=_criteria(row.rubric_scores),
        graded_at=row.graded_at,
        graded_by=row.graded_by,
    )


def _grading_values(submission: Submission) -> dict[str, object]:
    return {
        "status": submission.status.value,
        "points": submission.points,
        "penalty_percent": submission.penalty_percent,
        "final_points": submission.final_points,
        "final_percentage": submission.final_percentage,
        "feedback": submission.feedback,
        "rubric_scores": _stored_criteria(submission.rubric_scores),
        "graded_at": submission.graded_at,
        "graded_by": submission.graded_by,
    }


def submission_values(submission: Submission) -> dict[str, object]:
    return {
        "id": submission.id,
        "assignment_id": submission.assignment_id,
        "enrollment_id": submission.enrollment_id,
        "student_id": submission.student_id,
        "number": submission.number,
        "text": submission.text,
        "file_ids": [str(i) for i in submission.file_ids],
        "submitted_at": submission.submitted_at,
        "late_days": submission.late_days,
        "created_at": submission.submitted_at,
        "updated_at": submission.submitted_at,
        **_grading_values(submission),
    }


class SqlAssignmentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, assignment_id: UUID) -> Assignment | None:
        row = (await self._s.execute(select(ASSIGNMENTS).where(ASSIGNMENTS.c.id == assignment_id))).first()
        return assignment_from_row(row) if row else None

    async def with_course(self, assignment_id: UUID) -> tuple[Assignment, Course] | None:
        row = (await self._s.execute(_WITH_COURSE.where(ASSIGNMENTS.c.id == assignment_id))).first()
        if row is None:
            return None
        return assignment_from_row(TableColumns(row, ASSIGNMENTS)), course_from_row(TableColumns(row, COURSES))

    async def of_lesson(self, lesson_id: UUID) -> Assignment | None:
        row = (await self._s.execute(select(ASSIGNMENTS).where(ASSIGNMENTS.c.lesson_id == lesson_id))).first()
        return assignment_from_row(row) if row else None

    async def add(self, assignment: Assignment) -> None:
        try:
            await self._s.execute(insert(ASSIGNMENTS).values(**assignment_values(assignment)))
        except IntegrityError:
            raise Conflict(LESSON_HAS_ASSIGNMENT) from None

    async def save(self, assignment: Assignment) -> None:
        values = assignment_values(assignment)
        del values["id"], values["course_id"], values["created_at"]
        try:
            await self._s.execute(update(ASSIGNMENTS).where(ASSIGNMENTS.c.id == assignment.id).values(**values))
        except IntegrityError:
            raise Conflict(LESSON_HAS_ASSIGNMENT) from None

    async def delete(self, assignment_id: UUID) -> None:
        await self._s.execute(delete(ASSIGNMENTS).where(ASSIGNMENTS.c.id == assignment_id))

    async def page(self, course_id: UUID, *, published_only: bool, params: PageParams) -> Page[Assignment]:
        query = select(ASSIGNMENTS).where(ASSIGNMENTS.c.course_id == course_id)
        if published_only:
            query = query.where(ASSIGNMENTS.c.is_published == true())
        ordered = query.order_by(ASSIGNMENTS.c.created_at.desc(), ASSIGNMENTS.c.id.desc())
        return await page_in(self._s, ordered, params, assignment_from_row)

    async def has_submissions(self, assignment_id: UUID) -> bool:
        query = select(exists().where(SUBMISSIONS.c.assignment_id == assignment_id))
        return bool((await self._s.execute(query)).scalar())


class SqlSubmissionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, submission_id: UUID, *, lock: bool = False) -> Submission | None:
        condition = SUBMISSIONS.c.id == submission_id
        row = await first_row(self._s, SUBMISSIONS, condition, lock=lock)
        return submission_from_row(row) if row else None

    async def of_enrollment(self, assignment_id: UUID, enrollment_id: UUID) -> list[Submission]:
        query = (
            select(SUBMISSIONS)
            .where(SUBMISSIONS.c.enrollment_id == enrollment_id, SUBMISSIONS.c.assignment_id == assignment_id)
            .order_by(SUBMISSIONS.c.number)
        )
        return [submission_from_row(row) for row in await self._s.execute(query)]

    async def page(
        self,
        assignment_id: UUID,
        params: PageParams,
        *,
        status: SubmissionStatus | None = None,
        student_id: UUID | None = None,
    ) -> Page[Submission]:
        query = select(SUBMISSIONS).where(SUBMISSIONS.c.assignment_id == assignment_id)
        if status is not None:
            query = query.where(SUBMISSIONS.c.status == status.value)
        if student_id is not None:
            query = query.where(SUBMISSIONS.c.student_id == student_id)
        ordered = query.order_by(SUBMISSIONS.c.submitted_at.desc(), SUBMISSIONS.c.id.desc())
        return await page_in(self._s, ordered, params, submission_from_row)

    async def add(self, submission: Submission) -> None:
        try:
            await self._s.execute(insert(SUBMISSIONS).values(**submission_values(submission)))
        except IntegrityError:
            raise Conflict(MAX_SUBMISSIONS) from None

    async def save(self, submission: Submission) -> None:
        values = {**_grading_values(submission), "updated_at": submission.graded_at or submission.submitted_at}
        await self._s.execute(update(SUBMISSIONS).where(SUBMISSIONS.c.id == submission.id).values(**values))

    async def waiting(self, course_id: UUID, params: PageParams) -> Page[QueueItem]:
        no_id = cast_(null(), ATTEMPTS.c.id.type)
        essays = (
            select(
                literal("essay").label("kind"),
                ATTEMPTS.c.id,
                ATTEMPTS.c.quiz_id,
                no_id.label("assignment_id"),
                ATTEMPTS.c.student_id,
                ATTEMPTS.c.submitted_at,
            )
            .join(QUIZZES, QUIZZES.c.id == ATTEMPTS.c.quiz_id)
            .where(QUIZZES.c.course_id == course_id, ATTEMPTS.c.status == AttemptStatus.PENDING_REVIEW.value)
        )
        handed_in = (
            select(
                literal("submission").label("kind"),
                SUBMISSIONS.c.id,
                no_id.label("quiz_id"),
                SUBMISSIONS.c.assignment_id,
                SUBMISSIONS.c.student_id,
                SUBMISSIONS.c.submitted_at,
            )
            .join(ASSIGNMENTS, ASSIGNMENTS.c.id == SUBMISSIONS.c.assignment_id)
            .where(ASSIGNMENTS.c.course_id == course_id, SUBMISSIONS.c.status == SubmissionStatus.SUBMITTED.value)
        )
        both = union_all(essays, handed_in).subquery("waiting")
        ordered = select(both).order_by(both.c.submitted_at, both.c.id)
        page: Page[Any] = await page_in(self._s, ordered, params, lambda row: row)
        essay_ids = [row.id for row in page.items if row.kind == "essay"]
        answers: dict[UUID, Any] = {}
        if essay_ids:
            query = select(ATTEMPTS.c.id, ATTEMPTS.c.answers).where(ATTEMPTS.c.id.in_(essay_ids))
            answers = {row.id: row.answers for row in await self._s.execute(query)}

        def item(row: Any) -> QueueItem:
            essay = row.kind == "essay"
            pending = [UUID(a["question_id"]) for a in answers.get(row.id) or [] if a.get("needs_review")]
            return QueueItem(
                kind=row.kind,
                id=row.id,
                attempt_id=row.id if essay else None,
                submission_id=None if essay else row.id,
                quiz_id=row.quiz_id,
                assignment_id=row.assignment_id,
                question_ids=pending if essay else None,
                student_id=row.student_id,
                submitted_at=row.submitted_at,
            )

        return Page(
            items=[item(row) for row in page.items],
            total=page.total,
            page=page.page,
            page_size=page.page_size,
            next_key=page.next_key,
        )


class SqlSubmissionFiles:
    """Reads of the files table for submissions, in the unit of work's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def owned(self, file_ids: Sequence[UUID], owner_id: UUID) -> list[StoredFile]:
        query = select(FILES).where(FILES.c.id.in_(list(file_ids)), FILES.c.uploader_id == owner_id)
        found = {row.id: file_from_row(row) for row in await self._s.execute(query)}
        return [found[i] for i in file_ids if i in found]

    async def of(self, file_ids: Sequence[UUID]) -> dict[UUID, StoredFile]:
        if not file_ids:
            return {}
        query = select(FILES).where(FILES.c.id.in_(list(set(file_ids))))
        return {row.id: file_from_row(row) for row in await self._s.execute(query)}
