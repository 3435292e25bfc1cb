"""When a lesson opens (API §12 release rules): on a date, some days after enrolling, or once the
lessons before it are completed. Pure rules: the caller brings the lessons, the viewer's facts and
the time (from the clock port)."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID


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


def _by_order(lessons: Sequence[Release]) -> list[Release]:
    return sorted(lessons, key=lambda r: (r.order_index, r.lesson_id))


def student_locks(
    lessons: Sequence[Release], *, sequential: bool, enrolled_at: datetime, completed: set[UUID], now: datetime
) -> dict[UUID, Lock | None]:
    """Each lesson's lock for an enrolled student; the first rule that holds wins: `scheduled`,
    `drip`, then `sequence` (blocked by the first earlier lesson not completed). Previews never lock."""
    locks: dict[UUID, Lock | None] = {}
    blocking: UUID | None = None  # the first lesson so far that is not completed
    for lesson in _by_order(lessons):
        locks[lesson.lesson_id] = (
            None if lesson.is_preview else _student_lock(lesson, sequential, enrolled_at, blocking, now)
        )
        if blocking is None and lesson.lesson_id not in completed:
            blocking = lesson.lesson_id
    return locks


def _student_lock(
    lesson: Release, sequential: bool, enrolled_at: datetime, blocking: UUID | None, now: datetime
) -> Lock | None:
    if lesson.available_from is not None and lesson.available_from > now:
        return Lock(LockReason.SCHEDULED, unlock_at=lesson.available_from)
    if lesson.available_after_days > 0:
        opens = enrolled_at + timedelta(days=lesson.available_after_days)
        if opens > now:
            return Lock(LockReason.DRIP, unlock_at=opens)
    if sequential and blocking is not None:
        return Lock(LockReason.SEQUENCE, blocking_lesson_id=blocking)
    return None


def outsider_locks(lessons: Sequence[Release], *, sequential: bool, now: datetime) -> dict[UUID, Lock | None]:
    """Each lesson's lock for a viewer neither enrolled nor managing (anonymous ones too): a lesson
    with a release rule is locked, `scheduled` while its date is ahead and `enrollment` otherwise,
    so drip content never reaches anonymous readers; lessons without one stay open. Previews never lock."""
    ordered = _by_order(lessons)
    first = ordered[0].lesson_id if ordered else None
    locks: dict[UUID, Lock | None] = {}
    for lesson in ordered:
        ahead = lesson.available_from is not None and lesson.available_from > now
        ruled = ahead or lesson.available_after_days > 0 or (sequential and lesson.lesson_id != first)
        if lesson.is_preview or not ruled:
            locks[lesson.lesson_id] = None
        elif ahead:
            locks[lesson.lesson_id] = Lock(LockReason.SCHEDULED, unlock_at=lesson.available_from)
        else:
            locks[lesson.lesson_id] = Lock(LockReason.ENROLLMENT)
    return locks


def next_lesson(lessons: Sequence[Release], locks: dict[UUID, Lock | None], completed: set[UUID]) -> UUID | None:
    """The first lesson, by order, that is open and not completed (an enrollment's `next_lesson_id`)."""
    return next(
        (r.lesson_id for r in _by_order(lessons) if locks.get(r.lesson_id) is None and r.lesson_id not in completed),
        None,
    )
