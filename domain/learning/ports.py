"""What learning needs from outside: the enrollment and progress tables, and the quiz gate."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from domain.catalog.ports import CourseRepository, LessonRepository
from domain.catalog.release import Release
from domain.identity.ports import UserRepository
from domain.integrations.ports import AuditLog, Outbox
from domain.learning.model import CourseStats, Enrollment, LessonProgress, ProgressTotals
from domain.shared.pagination import Page, PageParams
from domain.shared.unit_of_work import UnitOfWork


class EnrollmentRepository(Protocol):
    async def get(self, enrollment_id: UUID, *, lock: bool = False) -> Enrollment | None:
        """`lock=True` holds the row until the unit of work ends: progress changes to one
        enrollment are serialised, so each recomputation sees every row before it."""
        ...

    async def add_if_absent(self, enrollment: Enrollment) -> bool:
        """Insert unless the (student, course) pair is enrolled already, racing requests included;
        True when this call created it."""
        ...

    async def of_student(self, student_id: UUID, course_id: UUID, *, lock: bool = False) -> Enrollment | None:
        """`lock=True` locks it as `get` does."""
        ...

    async def of_students(self, course_id: UUID, student_ids: Sequence[UUID]) -> dict[UUID, Enrollment]:
        """The enrollments of these students in the course, by student, in one read."""
        ...

    async def add_all_absent(self, enrollments: Sequence[Enrollment]) -> set[UUID]:
        """`add_if_absent` of each, as one batch; the ids of those this call created."""
        ...

    async def of_course(self, course_id: UUID, *, lock: bool = False) -> list[Enrollment]:
        """Every enrollment of the course (locked with `lock=True`)."""
        ...

    async def save(self, enrollment: Enrollment) -> None: ...
    async def save_all(self, enrollments: Sequence[Enrollment]) -> None:
        """`save` of each, sent to the database as one batch."""
        ...

    async def totals(self, enrollment_id: UUID, course_id: UUID) -> ProgressTotals:
        """The enrollment's completed rows and time spent, and the course's current lesson count."""
        ...

    async def course_totals(self, course_id: UUID) -> dict[UUID, ProgressTotals]:
        """`totals` of every enrollment of the course, in one statement."""
        ...


class ProgressRepository(Protocol):
    async def get(self, enrollment_id: UUID, lesson_id: UUID) -> LessonProgress | None: ...
    async def save(self, progress: LessonProgress, *, is_new: bool) -> None: ...


class LearningUnitOfWork(UnitOfWork, Protocol):
    @property
    def courses(self) -> CourseRepository: ...
    @property
    def lessons(self) -> LessonRepository: ...
    @property
    def enrollments(self) -> EnrollmentRepository: ...
    @property
    def progress(self) -> ProgressRepository: ...
    @property
    def outbox(self) -> Outbox: ...
    @property
    def audit(self) -> AuditLog: ...


class LearningUnitOfWorkFactory(Protocol):
    def __call__(self) -> LearningUnitOfWork: ...


class LearningReader(Protocol):
    """Reads outside any unit of work, one statement each."""

    async def enrollment(self, enrollment_id: UUID) -> tuple[Enrollment, UUID] | None:
        """The enrollment with its course's owner (instructor) id."""
        ...

    async def of_student(self, student_id: UUID, params: PageParams) -> Page[Enrollment]:
        """The student's enrollments, newest first."""
        ...

    async def path(self, enrollment_id: UUID) -> tuple[bool, list[Release], set[UUID]]:
        """Whether its course is sequential, the release rules of the course's lessons, and the
        ones the enrollment completed (API §12 `next_lesson_id`)."""
        ...

    async def of_course(self, course_id: UUID, params: PageParams) -> Page[Enrollment]:
        """The course's enrollments, newest first."""
        ...

    async def stats(self, course_id: UUID) -> CourseStats: ...


class LessonGate(Protocol):
    """A context above learning that answers "does this lesson complete only through me?" (API
    §7.6: a lesson whose quiz is published; §11.1: whose assignment is published), with the refusal
    a manual completion gets. Asked inside the progress change's unit of work."""

    async def completion_refused(self, uow: LearningUnitOfWork, lesson_id: UUID) -> str | None: ...


class CompletionListener(Protocol):
    """A context above learning that acts in the transaction that completes an enrollment
    (credentials: the certificate is issued with the completion, API §7.9)."""

    async def enrollment_completed(self, uow: LearningUnitOfWork, enrollment: Enrollment, now: datetime) -> None: ...
    async def completion_committed(self, enrollment_id: UUID) -> None:
        """After that transaction committed (background work: the certificate's PDF)."""
        ...


Row = Sequence[str]


class Roster(Protocol):
    """A CSV file as rows, read as often as asked (it is kept aside, not in memory): the header
    first, then the data rows (API §15.4)."""

    def rows(self) -> Iterator[Row]: ...


class RosterUnitOfWork(LearningUnitOfWork, Protocol):
    @property
    def users(self) -> UserRepository: ...


class RosterUnitOfWorkFactory(Protocol):
    def __call__(self) -> RosterUnitOfWork: ...
