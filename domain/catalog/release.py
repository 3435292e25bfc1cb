"""When a lesson opens (API §12 release rules): on a date, some days after enrolling, or once the
lessons before it are completed. Pure rules: the caller brings the lessons, the viewer's facts and
the time (from the clock port)."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from domain.catalog.model import Lesson
from domain.shared.clock import iso
from domain.shared.errors import Forbidden


class LockReason(enum.StrEnum):
    SCHEDULED = "scheduled"  # `available_from` is still ahead
    DRIP = "drip"  # `available_after_days` after enrolling is still ahead
    SEQUENCE = "sequence"  # an earlier lesson of a sequential course is not completed
    ENROLLMENT = "enrollment"  # the lesson has a release rule and the viewer is not enrolled


@dataclass(frozen=True, slots=True)
class Lock:
    reason: LockReason
    unlock_at: datetime | None = None
    blocking_lesson_id: UUID | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Release:
    """What decides when one lesson opens."""

    lesson_id: UUID
    order_index: int
    is_preview: bool = False
    available_from: datetime | None = None
    available_after_days: int = 0


def release_of(lesson: Lesson) -> Release:
    return Release(
        lesson_id=lesson.id,
        order_index=lesson.order_index,
        is_preview=lesson.is_preview,
        available_from=lesson.available_from,
        available_after_days=lesson.available_after_days,
    )


@dataclass(frozen=True, slots=True)
class Gap:
    """The first lesson, by position, a student has not completed: in a sequential course, every
    lesson after it waits for it."""

    lesson_id: UUID
    order_index: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Standing:
    """What the viewer is to the course, as far as locks go. A manager is never locked out; a
    student is locked by the rules; anyone else is an outsider."""

    managing: bool = False
    enrolled_at: datetime | None = None  # set for an enrolled student
    gap: Gap | None = None  # a student's first lesson not completed (None: all are)
    first_order: int | None = None  # an outsider's view: the position of the course's first lesson

    @property
    def enrolled(self) -> bool:
        return self.enrolled_at is not None


MANAGING = Standing(managing=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class LessonRelease:
    """One lesson's release rules with what an enrolled student's lock needs of its course: read
    in one statement where a student acts on the lesson (progress, a quiz, an assignment)."""

    release: Release
    course_id: UUID
    instructor_id: UUID
    sequential: bool
    gap: Gap | None  # the enrollment's first lesson not completed before this one


def has_rule(lesson: Release, *, sequential: bool, now: datetime) -> bool:
    """Whether some viewer may find the lesson locked (else no one does, and nothing more is read)."""
    if lesson.is_preview:
        return False
    ahead = lesson.available_from is not None and lesson.available_from > now
    return ahead or lesson.available_after_days > 0 or sequential


def enrolled_lock(found: LessonRelease, *, enrolled_at: datetime, managing: bool, now: datetime) -> Lock | None:
    """The lock a student acting on the lesson meets (a manager acting meets none)."""
    standing = MANAGING if managing else Standing(enrolled_at=enrolled_at, gap=found.gap)
    return lock_of(found.release, sequential=found.sequential, standing=standing, now=now)


def lock_of(lesson: Release, *, sequential: bool, standing: Standing, now: datetime) -> Lock | None:
    """The lesson's lock for this viewer (API §12). A student: the first rule that holds wins,
    `scheduled`, `drip`, then `sequence` (blocked by the first lesson not completed, when that comes
    before this one). An outsider: a lesson with a release rule is locked, `scheduled` while its
    date is ahead and `enrollment` otherwise, so drip content never reaches anonymous readers.
    Previews never lock; managers are never locked."""
    if lesson.is_preview or standing.managing:
        return None
    ahead = lesson.available_from is not None and lesson.available_from > now
    if ahead:
        return Lock(LockReason.SCHEDULED, unlock_at=lesson.available_from)
    if standing.enrolled_at is None:
        later = sequential and standing.first_order is not None and lesson.order_index != standing.first_order
        return Lock(LockReason.ENROLLMENT) if lesson.available_after_days > 0 or later else None
    if lesson.available_after_days > 0:
        opens = standing.enrolled_at + timedelta(days=lesson.available_after_days)
        if opens > now:
            return Lock(LockReason.DRIP, unlock_at=opens)
    gap = standing.gap
    if sequential and gap is not None and gap.order_index < lesson.order_index:
        return Lock(LockReason.SEQUENCE, blocking_lesson_id=gap.lesson_id)
    return None


def gap_of(lessons: Sequence[Release], completed: set[UUID]) -> Gap | None:
    """The first lesson by position not in `completed`."""
    for lesson in sorted(lessons, key=lambda r: (r.order_index, r.lesson_id)):
        if lesson.lesson_id not in completed:
            return Gap(lesson.lesson_id, lesson.order_index)
    return None


def next_lesson(
    lessons: Sequence[Release], *, sequential: bool, enrolled_at: datetime, completed: set[UUID], now: datetime
) -> UUID | None:
    """The first lesson, by position, that is open to the student and not completed (an
    enrollment's `next_lesson_id`)."""
    standing = Standing(enrolled_at=enrolled_at, gap=gap_of(lessons, completed))
    for lesson in sorted(lessons, key=lambda r: (r.order_index, r.lesson_id)):
        if lesson.lesson_id in completed:
            continue
        if lock_of(lesson, sequential=sequential, standing=standing, now=now) is None:
            return lesson.lesson_id
    return None


LESSON_LOCKED = "Lesson is locked"


def lock_json(lock: Lock) -> dict[str, str | None]:
    """The lock as the problem body's `lock` member (API §12)."""
    return {
        "reason": lock.reason.value,
        "unlock_at": iso(lock.unlock_at) if lock.unlock_at else None,
        "blocking_lesson_id": str(lock.blocking_lesson_id) if lock.blocking_lesson_id else None,
    }


def refuse_if_locked(lock: Lock | None) -> None:
    """`403 Lesson is locked`, with the lock, when there is one."""
    if lock is not None:
        raise Forbidden(LESSON_LOCKED, extensions={"lock": lock_json(lock)})
