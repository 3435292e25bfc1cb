"""When lessons open (API §12 release rules), on plain values and a fixed time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from hypothesis import given
from hypothesis import strategies as st

from domain.catalog.release import Lock, LockReason, Release, next_lesson, outsider_locks, student_locks

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
ENROLLED = NOW - timedelta(days=3)


def lesson(n: int, **rules: object) -> Release:
    return Release(lesson_id=uuid4(), order_index=n, **rules)  # type: ignore[arg-type]


def test_the_first_rule_that_holds_wins() -> None:
    soon = NOW + timedelta(hours=1)
    both = lesson(1, available_from=soon, available_after_days=10)
    drip = lesson(2, available_after_days=5)
    open_drip = lesson(3, available_after_days=3)  # enrolled three days ago: open now
    past = lesson(4, available_from=NOW - timedelta(seconds=1))
    locks = student_locks(
        [both, drip, open_drip, past], sequential=False, enrolled_at=ENROLLED, completed=set(), now=NOW
    )
    assert locks[both.lesson_id] == Lock(LockReason.SCHEDULED, unlock_at=soon)
    assert locks[drip.lesson_id] == Lock(LockReason.DRIP, unlock_at=ENROLLED + timedelta(days=5))
    assert locks[open_drip.lesson_id] is None and locks[past.lesson_id] is None


def test_a_sequential_course_opens_one_lesson_at_a_time() -> None:
    one, two, three = lesson(1), lesson(2), lesson(3, is_preview=True)
    four = lesson(4)
    lessons = [four, three, two, one]  # any order in, the order by position out
    locks = student_locks(lessons, sequential=True, enrolled_at=ENROLLED, completed=set(), now=NOW)
    assert locks[one.lesson_id] is None
    assert locks[two.lesson_id] == Lock(LockReason.SEQUENCE, blocking_lesson_id=one.lesson_id)
    assert locks[three.lesson_id] is None  # previews never lock
    assert locks[four.lesson_id] == Lock(LockReason.SEQUENCE, blocking_lesson_id=one.lesson_id)
    done = {one.lesson_id}
    locks = student_locks(lessons, sequential=True, enrolled_at=ENROLLED, completed=done, now=NOW)
    assert locks[two.lesson_id] is None
    assert locks[four.lesson_id] == Lock(LockReason.SEQUENCE, blocking_lesson_id=two.lesson_id)
    assert next_lesson(lessons, locks, done) == two.lesson_id


def test_outsiders_see_only_lessons_without_rules() -> None:
    first, second = lesson(1), lesson(2)
    scheduled = lesson(3, available_from=NOW + timedelta(days=1))
    dripped, preview = lesson(4, available_after_days=1), lesson(5, available_after_days=9, is_preview=True)
    lessons = [first, second, scheduled, dripped, preview]
    flat = outsider_locks(lessons, sequential=False, now=NOW)
    assert flat[first.lesson_id] is None and flat[second.lesson_id] is None and flat[preview.lesson_id] is None
    assert flat[scheduled.lesson_id] == Lock(LockReason.SCHEDULED, unlock_at=NOW + timedelta(days=1))
    assert flat[dripped.lesson_id] == Lock(LockReason.ENROLLMENT)
    chained = outsider_locks(lessons, sequential=True, now=NOW)
    assert chained[first.lesson_id] is None
    assert chained[second.lesson_id] == Lock(LockReason.ENROLLMENT)


@given(st.integers(min_value=1, max_value=30), st.data())
def test_in_a_sequence_exactly_the_lessons_after_the_first_gap_are_locked(count: int, data: st.DataObject) -> None:
    lessons = [lesson(n) for n in range(1, count + 1)]
    completed = {r.lesson_id for r in lessons if data.draw(st.booleans())}
    locks = student_locks(lessons, sequential=True, enrolled_at=ENROLLED, completed=completed, now=NOW)
    gap: UUID | None = next((r.lesson_id for r in lessons if r.lesson_id not in completed), None)
    seen_gap = False
    for r in lessons:
        expected = Lock(LockReason.SEQUENCE, blocking_lesson_id=gap) if seen_gap else None
        assert locks[r.lesson_id] == expected
        seen_gap = seen_gap or r.lesson_id == gap
    assert next_lesson(lessons, locks, completed) == gap
