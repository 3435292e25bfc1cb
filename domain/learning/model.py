"""Enrollments and lesson progress, with the progress rules of API §7.6 as their methods."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from domain.shared.decimals import HUNDRED, ZERO, percentage, two_places
from domain.shared.errors import Forbidden, InvalidInput
from domain.shared.unset import UNSET, Unset

REVIEW_THRESHOLD = Decimal("20.00")

DOWNGRADE = "Completed lesson progress cannot be downgraded"
NOT_ACTIVE = "Enrollment is not active"


class EnrollmentStatus(enum.StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    DROPPED = "dropped"
    EXPIRED = "expired"


class ProgressStatus(enum.StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


@dataclass(frozen=True, slots=True, kw_only=True)
class ProgressUpdate:
    """A progress report (E4): every member optional."""

    status: ProgressStatus | Unset = UNSET
    time_spent_seconds: int | Unset = UNSET
    last_position_seconds: int | Unset = UNSET
    completion_percentage: Decimal | Unset = UNSET
    notes: str | Unset | None = UNSET

    def completes(self) -> bool:
        """Whether it asks for completion (status, or a percentage of 100 or more)."""
        return self.status is ProgressStatus.COMPLETED or (
            isinstance(self.completion_percentage, Decimal) and self.completion_percentage >= HUNDRED
        )


COMPLETE = ProgressUpdate(status=ProgressStatus.COMPLETED, completion_percentage=HUNDRED)


@dataclass(slots=True, kw_only=True)
class LessonProgress:
    id: UUID
    enrollment_id: UUID
    lesson_id: UUID
    status: ProgressStatus = ProgressStatus.NOT_STARTED
    started_at: datetime | None = None
    completed_at: datetime | None = None
    time_spent_seconds: int = 0
    last_position_seconds: int = 0
    completion_percentage: Decimal = ZERO
    notes: str | None = None
    created_at: datetime
    updated_at: datetime

    @property
    def is_completed(self) -> bool:
        return self.status is ProgressStatus.COMPLETED

    def apply(self, update: ProgressUpdate, now: datetime, *, is_new: bool) -> None:
        """The seven-step merge of API §7.6, in its order."""
        # 1. Merge; an absent status keeps the stored one, or is in_progress for a new row.
        was_completed = self.is_completed and not is_new
        if isinstance(update.status, ProgressStatus):
            status = update.status
        else:
            status = ProgressStatus.IN_PROGRESS if is_new else self.status
        if isinstance(update.time_spent_seconds, int):
            self.time_spent_seconds = update.time_spent_seconds
        if isinstance(update.last_position_seconds, int):
            self.last_position_seconds = update.last_position_seconds
        if isinstance(update.completion_percentage, Decimal):
            self.completion_percentage = two_places(update.completion_percentage)
        # 2. Completed stays completed.
        if was_completed and status is not ProgressStatus.COMPLETED:
            raise InvalidInput(DOWNGRADE)
        completes = status is ProgressStatus.COMPLETED or self.completion_percentage >= HUNDRED
        # 3. Something done means started.
        if status is ProgressStatus.NOT_STARTED and (
            self.time_spent_seconds > 0 or self.last_position_seconds > 0 or self.completion_percentage > ZERO
        ):
            status = ProgressStatus.IN_PROGRESS
        # 4. Completion.
        if completes:
            status = ProgressStatus.COMPLETED
            self.completion_percentage = HUNDRED
            self.completed_at = self.completed_at or now
            self.started_at = self.started_at or now
        # 5. Back to the start.
        elif status is ProgressStatus.NOT_STARTED:
            self.completion_percentage = ZERO
            self.started_at = None
            self.completed_at = None
        # 6. Under way.
        else:
            self.started_at = self.started_at or now
            self.completed_at = None
        self.status = status
        # 7. Notes, when given and non-empty.
        if isinstance(update.notes, str) and update.notes:
            self.notes = update.notes
        self.updated_at = now


@dataclass(frozen=True, slots=True)
class ProgressTotals:
    """What the recomputation reads: the enrollment's progress rows and the course's lessons now."""

    completed_lessons: int
    total_lessons: int
    time_spent_seconds: int


@dataclass(slots=True, kw_only=True)
class Enrollment:
    id: UUID
    student_id: UUID
    course_id: UUID
    status: EnrollmentStatus = EnrollmentStatus.ACTIVE
    enrolled_at: datetime
    started_at: datetime | None = None
    completed_at: datetime | None = None
    progress_percentage: Decimal = ZERO
    completed_lessons_count: int = 0
    total_lessons_count: int = 0
    total_time_spent_seconds: int = 0
    last_accessed_at: datetime | None = None
    certificate_issued_at: datetime | None = None
    rating: int | None = None
    review: str | None = None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def new(cls, *, id: UUID, student_id: UUID, course_id: UUID, total_lessons: int, now: datetime) -> Enrollment:
        """A new enrollment (API §7.6): active, nothing done, started when enrolled."""
        return cls(
            id=id,
            student_id=student_id,
            course_id=course_id,
            enrolled_at=now,
            started_at=now,
            total_lessons_count=total_lessons,
            created_at=now,
            updated_at=now,
        )

    def record_progress(
        self, progress: LessonProgress | None, lesson_id: UUID, update: ProgressUpdate, now: datetime, new_id: UUID
    ) -> LessonProgress:
        """Merge a progress report into the lesson's row (a new row when there is none yet)."""
        is_new = progress is None
        row = progress or LessonProgress(
            id=new_id, enrollment_id=self.id, lesson_id=lesson_id, created_at=now, updated_at=now
        )
        row.apply(update, now, is_new=is_new)
        self.last_accessed_at = now
        return row

    def recompute(self, totals: ProgressTotals, now: datetime) -> bool:
        """Recompute the figures from the rows (API §7.6). Returns True when this completes the
        enrollment (a move from active to completed); a completed one whose course grew goes back
        to active."""
        was_completed = self.status is EnrollmentStatus.COMPLETED
        self.completed_lessons_count = min(totals.completed_lessons, totals.total_lessons)
        self.total_lessons_count = totals.total_lessons
        self.progress_percentage = percentage(self.completed_lessons_count, totals.total_lessons)
        self.total_time_spent_seconds = totals.time_spent_seconds
        if totals.total_lessons > 0 and totals.completed_lessons >= totals.total_lessons:
            if self.status in (EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED):
                self.status = EnrollmentStatus.COMPLETED
                self.completed_at = self.completed_at or now
        elif was_completed:
            self.status = EnrollmentStatus.ACTIVE
            self.completed_at = None
        self.updated_at = now
        return self.status is EnrollmentStatus.COMPLETED and not was_completed

    def refuse_if_dropped(self) -> None:
        """A dropped enrollment (its order refunded, API §14) reports no progress and takes no quiz."""
        if self.status is EnrollmentStatus.DROPPED:
            raise Forbidden(NOT_ACTIVE)

    def drop(self, now: datetime) -> None:
        """Out of the course, its progress kept."""
        self.status = EnrollmentStatus.DROPPED
        self.updated_at = now

    def reactivate(self, now: datetime) -> None:
        """Back in (a paid order, or a course become free): where the student left off."""
        self.status = EnrollmentStatus.COMPLETED if self.completed_at is not None else EnrollmentStatus.ACTIVE
        self.last_accessed_at = now
        self.updated_at = now

    def can_review(self) -> bool:
        return self.progress_percentage >= REVIEW_THRESHOLD

    def set_review(self, rating: int, review: str, now: datetime) -> None:
        """A new review overwrites the old one."""
        self.rating = rating
        self.review = review
        self.updated_at = now


@dataclass(frozen=True, slots=True)
class CourseStats:
    course_id: UUID
    total_enrollments: int
    active_enrollments: int
    completed_enrollments: int
    average_progress: Decimal
