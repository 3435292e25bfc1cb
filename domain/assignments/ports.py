"""What assignments need from outside: the assignment and submission tables, and the files a
submission attaches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from domain.assessment.ports import AssessmentUnitOfWork
from domain.assignments.model import Assignment, Submission, SubmissionStatus
from domain.catalog.model import Course
from domain.files.model import StoredFile
from domain.shared.pagination import Page, PageParams


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueItem:
    """Work waiting for a grader: an attempt's ungraded essays, or a submission."""

    kind: str  # "essay" or "submission"
    id: UUID
    attempt_id: UUID | None
    submission_id: UUID | None
    quiz_id: UUID | None
    assignment_id: UUID | None
    question_ids: list[UUID] | None
    student_id: UUID
    submitted_at: datetime


class AssignmentRepository(Protocol):
    async def get(self, assignment_id: UUID) -> Assignment | None: ...
    async def with_course(self, assignment_id: UUID) -> tuple[Assignment, Course] | None:
        """The assignment and its course, in one read."""
        ...

    async def of_lesson(self, lesson_id: UUID) -> Assignment | None: ...
    async def add(self, assignment: Assignment) -> None:
        """Insert; raises Conflict(LESSON_HAS_ASSIGNMENT) when the lesson has one (end the unit of work then)."""
        ...

    async def save(self, assignment: Assignment) -> None: ...
    async def delete(self, assignment_id: UUID) -> None: ...
    async def page(self, course_id: UUID, *, published_only: bool, params: PageParams) -> Page[Assignment]:
        """The course's assignments, newest first."""
        ...

    async def has_submissions(self, assignment_id: UUID) -> bool: ...


class SubmissionRepository(Protocol):
    async def get(self, submission_id: UUID, *, lock: bool = False) -> Submission | None: ...
    async def of_enrollment(self, assignment_id: UUID, enrollment_id: UUID) -> list[Submission]:
        """The enrollment's submissions to the assignment, by number."""
        ...

    async def page(
        self,
        assignment_id: UUID,
        params: PageParams,
        *,
        status: SubmissionStatus | None = None,
        student_id: UUID | None = None,
    ) -> Page[Submission]:
        """Newest first."""
        ...

    async def add(self, submission: Submission) -> None:
        """Insert; raises Conflict(MAX_SUBMISSIONS) when the number is taken (a lost race)."""
        ...

    async def save(self, submission: Submission) -> None:
        """The grading members and the status."""
        ...

    async def waiting(self, course_id: UUID, params: PageParams) -> Page[QueueItem]:
        """The course's grading queue, oldest first: `pending_review` attempts (with their essays
        still ungraded) and `submitted` submissions."""
        ...


class SubmissionFiles(Protocol):
    async def owned(self, file_ids: Sequence[UUID], owner_id: UUID) -> list[StoredFile]:
        """The files among `file_ids` that `owner_id` uploaded, in the order asked."""
        ...

    async def of(self, file_ids: Sequence[UUID]) -> dict[UUID, StoredFile]:
        """The records still stored, by id."""
        ...


class AssignmentsUnitOfWork(AssessmentUnitOfWork, Protocol):
    @property
    def assignments(self) -> AssignmentRepository: ...
    @property
    def submissions(self) -> SubmissionRepository: ...
    @property
    def submission_files(self) -> SubmissionFiles: ...


class AssignmentsUnitOfWorkFactory(Protocol):
    def __call__(self) -> AssignmentsUnitOfWork: ...
