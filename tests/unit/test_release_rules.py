"""When lessons open (API §12 release rules), on plain values and a fixed time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from hypothesis import given
from hypothesis import strategies as st

from domain.catalog.release import (
    MANAGING,
    Gap,
    Lock,
    LockReason,
    Release,
    Standing,
    gap_of,
    lock_of,
    next_lesson,
)

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
ENROLLED = NOW - timedelta(days=3)
OUTSIDER = Standing(first_order=1)


def lesson(n: int, **rules: object) -> Release:
    return Release(lesson_id=uuid4(), order_index=n, **rules)  # type: ignore[arg-type]


def student(lessons: list[Release], completed: set[object] | None = None) -> Standing:
    return Standing(enrolled_at=ENROLLED, gap=gap_of(lessons, completed or set()))  # type: ignore[arg-type]


def test_the_first_rule_that_holds_wins() -> None:
    soon = NOW + timedelta(hours=1)
    both = lesson(1, available_from=soon, available_after_days=10)
    drip = lesson(2, available_after_days=5)
    open_drip = lesson(3, available_after_days=3)  # enrolled three days ago: open now
    past = lesson(4, available_from=NOW - timedelta(seconds=1))
    standing = student([both, drip, open_drip, past])
    locks = {
        r.lesson_id: lock_of(r, sequential=False, standing=standing, now=NOW) for r in (both, drip, open_drip, past)
    }
    assert locks[both.lesson_id] == Lock(LockReason.SCHEDULED, unlock_at=soon)
    assert locks[drip.lesson_id] == Lock(LockReason.DRIP, unlock_at=ENROLLED + timedelta(days=5))
    assert locks[open_drip.lesson_id] is None and locks[past.lesson_id] is None
    # Scheduled before sequence, too: a sequential course's lesson waiting for its date says so.
    assert lock_of(both, sequential=True, standing=student([both]), now=NOW) == Lock(LockReason.SCHEDULED, soon)


def test_a_sequential_course_opens_one_lesson_at_a_time() -> None:
    one, two, three, four = lesson(1), lesson(2), lesson(3, is_preview=True), lesson(4)
    lessons = [four, three, two, one]  # any order in, the order by position out
    standing = student(lessons)
    assert standing.gap == Gap(one.lesson_id, 1)

    def lock(r: Release, s: Standing) -> Lock | None:
        return lock_of(r, sequential=True, standing=s, now=NOW)

    assert lock(one, standing) is None
    assert lock(two, standing) == Lock(LockReason.SEQUENCE, blocking_lesson_id=one.lesson_id)
    assert lock(three, standing) is None  # previews never lock
    assert lock(four, standing) == Lock(LockReason.SEQUENCE, blocking_lesson_id=one.lesson_id)
    done = {one.lesson_id}
    standing = student(lessons, done)  # type: ignore[arg-type]
    assert lock(two, standing) is None
    assert lock(four, standing) == Lock(LockReason.SEQUENCE, blocking_lesson_id=two.lesson_id)
    assert next_lesson(lessons, sequential=True, enrolled_at=ENROLLED, completed=done, now=NOW) == two.lesson_id
    assert all(lock(r, MANAGING) is None for r in lessons)  # managers are never locked out


def test_outsiders_see_only_lessons_without_rules() -> None:
    first, second = lesson(1), lesson(2)
    scheduled = lesson(3, available_from=NOW + timedelta(days=1))
    dripped, preview = lesson(4, available_after_days=1), lesson(5, available_after_days=9, is_preview=True)
    lessons = [first, second, scheduled, dripped, preview]
    flat = {r.lesson_id: lock_of(r, sequential=False, standing=OUTSIDER, now=NOW) for r in lessons}
    assert flat[first.lesson_id] is None and flat[second.lesson_id] is None and flat[preview.lesson_id] is None
    assert flat[scheduled.lesson_id] == Lock(LockReason.SCHEDULED, unlock_at=NOW + timedelta(days=1))
    assert flat[dripped.lesson_id] == Lock(LockReason.ENROLLMENT)
    chained = {r.lesson_id: lock_of(r, sequential=True, standing=OUTSIDER, now=NOW) for r in lessons}
    assert chained[first.lesson_id] is None
    assert chained[second.lesson_id] == Lock(LockReason.ENROLLMENT)


def test_the_next_lesson_skips_what_is_done_or_not_yet_open() -> None:
    one, two, three = lesson(1), lesson(2, available_after_days=10), lesson(3)
    lessons = [one, two, three]
    free = next_lesson(lessons, sequential=False, enrolled_at=ENROLLED, completed={one.lesson_id}, now=NOW)
    assert free == three.lesson_id  # two drips for a week more
    chained = next_lesson(lessons, sequential=True, enrolled_at=ENROLLED, completed={one.lesson_id}, now=NOW)
    assert chained is None  # three waits for two, which waits for its day
    done = {r.lesson_id for r in lessons}
    assert next_lesson(lessons, sequential=False, enrolled_at=ENROLLED, completed=done, now=NOW) is None


@given(st.integers(min_value=1, max_value=30), st.data())
def test_in_a_sequence_exactly_the_lessons_after_the_first_gap_are_locked(count: int, data: st.DataObject) -> None:
    lessons = [lesson(n) for n in range(1, count + 1)]
    completed = {r.lesson_id for r in lessons if data.draw(st.booleans())}
    standing = Standing(enrolled_at=ENROLLED, gap=gap_of(lessons, completed))
    gap = next((r.lesson_id for r in lessons if r.lesson_id not in completed), None)
    seen_gap = False
    for r in lessons:
        expected = Lock(LockReason.SEQUENCE, blocking_lesson_id=gap) if seen_gap else None
        assert lock_of(r, sequential=True, standing=standing, now=NOW) == expected
        seen_gap = seen_gap or r.lesson_id == gap
    assert next_lesson(lessons, sequential=True, enrolled_at=ENROLLED, completed=completed, now=NOW) == gap
