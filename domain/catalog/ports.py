"""What the catalog needs from outside: transactional repositories and single-statement reads."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from domain.catalog.model import Course, CourseFilter, CourseRef, Lesson
from domain.catalog.release import LessonRelease, Standing
from domain.integrations.ports import AuditLog, Outbox
from domain.shared.pagination import Page, PageParams
from domain.shared.unit_of_work import UnitOfWork


class CourseRepository(Protocol):
    async def get(self, course_id: UUID, *, lock: bool = False) -> Course | None:
        """`lock=True` holds the row until the unit of work ends, serialising writes to the course
        and its lessons."""
        ...

    async def of_lesson(self, lesson_id: UUID, *, lock: bool = False) -> Course | None:
        """The course the lesson belongs to (None when there is no such lesson), as `get`."""
        ...

    async def add(self, course: Course) -> None:
        """Insert; raises Conflict(SLUG_TAKEN) when the slug is taken (end the unit of work then)."""
        ...

    async def slugs_like(self, base: str) -> set[str]:
        """The taken slugs that are `base` or `base-<suffix>`."""
        ...

    async def save(self, course: Course) -> None: ...
    async def delete(self, course_id: UUID) -> None:
        """Delete the course and everything under it."""
        ...

    async def has_enrollments(self, course_id: UUID) -> bool: ...

    # ----- prerequisites (API §12) -----
    async def prerequisites(self, course_id: UUID) -> list[CourseRef]:
        """The courses it requires, in the order they were set."""
        ...

    async def existing(self, course_ids: Sequence[UUID]) -> set[UUID]: ...
    async def lock_prerequisites(self) -> None:
        """Serialise changes of the prerequisite graph until the unit of work ends."""
        ...

    async def reaches(self, from_ids: Sequence[UUID], target: UUID) -> bool:
        """Whether `target` is one of `from_ids` or required by them, directly or not."""
        ...

    async def set_prerequisites(self, course_id: UUID, required: Sequence[UUID]) -> None: ...
    async def dependents(self, course_id: UUID) -> list[tuple[UUID, bool]]:
        """The courses that require it, each with whether it is published."""
        ...

    async def missing_prerequisites(self, course_id: UUID, student_id: UUID) -> list[CourseRef]:
        """Its prerequisites the student has no completed enrollment in, in order."""
        ...

    async def lacking_prerequisites(self, course_id: UUID, student_ids: Sequence[UUID]) -> set[UUID]:
        """Those of the students who have not completed every prerequisite of the course (one query)."""
        ...


class LessonRepository(Protocol):
    async def get(self, lesson_id: UUID) -> Lesson | None: ...
    async def release(self, lesson_id: UUID, enrollment_id: UUID) -> LessonRelease | None:
        """The lesson's release rules, its course's, and the enrollment's first lesson not
        completed before it, in one statement (None when there is no such lesson)."""
        ...

    async def of_course(self, course_id: UUID) -> list[Lesson]:
        """Every lesson of the course, by position."""
        ...

    async def max_position(self, course_id: UUID) -> int | None: ...
    async def count(self, course_id: UUID) -> int: ...
    async def add(self, lesson: Lesson) -> None:
        """Insert; raises Conflict(ORDER_CONFLICT) when the position is taken (end the unit of work then)."""
        ...

    async def save(self, lesson: Lesson) -> None:
        """Update; raises Conflict(ORDER_CONFLICT) when the new position is taken."""
        ...

    async def remove(self, lesson: Lesson) -> None:
        """Delete; its children lose their parent and the positions after it close up by one."""
        ...

    async def set_positions(self, moves: Mapping[UUID, int], now: datetime) -> None:
        """Move each lesson to its new position (the moves together free every position they take)."""
        ...


class CatalogUnitOfWork(UnitOfWork, Protocol):
    @property
    def courses(self) -> CourseRepository: ...
    @property
    def lessons(self) -> LessonRepository: ...
    @property
    def outbox(self) -> Outbox: ...
    @property
    def audit(self) -> AuditLog: ...


class CatalogUnitOfWorkFactory(Protocol):
    def __call__(self) -> CatalogUnitOfWork: ...


class CatalogReader(Protocol):
    """Reads outside any unit of work, each one or two statements (the hot, uncached paths)."""

    async def course(self, course_id: UUID) -> Course | None: ...
    async def course_id_of(self, slug: str) -> UUID | None:
        """The id of the course with this slug."""
        ...

    async def courses(self, scope: CourseFilter, params: PageParams) -> Page[Course]:
        """Courses in the scope, newest first."""
        ...

    async def lesson(self, lesson_id: UUID) -> tuple[Lesson, Course] | None:
        """The lesson with its course."""
        ...

    async def lessons(self, course_id: UUID, params: PageParams) -> Page[Lesson]:
        """The course's lessons by position."""
        ...

    async def standing(self, course_id: UUID, user_id: UUID | None) -> Standing:
        """What the user is to the course's locks, in one statement: enrolled (when and the first
        lesson not completed) or an outsider (the first lesson's position). Not the managing check."""
        ...


AfterCommit = Callable[[], Awaitable[None]]


class CourseContentListener(Protocol):
    """A context above the catalog that keeps figures about a course's lessons (learning's
    enrollment counts). Both calls run inside the lesson change's unit of work, which is passed on
    as it is (the listener's own unit-of-work type: one unit of work spans every context)."""

    async def lessons_changing(self, uow: Any, course_id: UUID) -> None:
        """Before a lesson is added or removed (after the course is locked)."""
        ...

    async def lessons_changed(self, uow: Any, course: Course, now: datetime) -> AfterCommit:
        """After it, before commit; returns what to do once the change has committed."""
        ...


class LessonGuard(Protocol):
    """A context above the catalog whose records would be lost with a lesson (assessment: the
    attempts at its quiz). Asked inside the deletion's unit of work, after the manager check."""

    async def removal_refused(self, uow: Any, lesson_id: UUID) -> str | None:
        """Why the lesson may not be deleted (a 409 detail), or None when it may."""
        ...
