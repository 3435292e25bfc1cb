"""The progress rules of API §7.6 as entity methods: the seven-step merge and the recomputation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from domain.learning.model import (
    COMPLETE,
    DOWNGRADE,
    Enrollment,
    EnrollmentStatus,
    LessonProgress,
    ProgressStatus,
    ProgressTotals,
    ProgressUpdate,
)
from domain.shared.decimals import percentage, two_places
from domain.shared.errors import InvalidInput

T0 = datetime(2026, 11, 22, 4, 44, 45, tzinfo=UTC)
T1 = T0 + timedelta(minutes=5)
T2 = T0 + timedelta(minutes=9)


def enrollment(total: int = 4) -> Enrollment:
    return Enrollment.new(id=uuid4(), student_id=uuid4(), course_id=uuid4(), total_lessons=total, now=T0)


def report(e: Enrollment, row: LessonProgress | None, at: datetime = T1, **update: object) -> LessonProgress:
    return e.record_progress(row, uuid4() if row is None else row.lesson_id, ProgressUpdate(**update), at, uuid4())  # type: ignore[arg-type]


def test_a_new_enrollment_is_active_and_started_when_enrolled() -> None:
    e = enrollment(total=3)
    assert (e.status, e.progress_percentage, e.started_at, e.enrolled_at) == (
        EnrollmentStatus.ACTIVE,
        Decimal("0.00"),
        T0,
        T0,
    )
    assert (e.completed_lessons_count, e.total_lessons_count, e.completed_at) == (0, 3, None)


def test_an_absent_status_is_in_progress_for_a_new_row_and_kept_for_a_stored_one() -> None:
    e = enrollment()
    row = report(e, None)
    assert row.status is ProgressStatus.IN_PROGRESS
    assert row.started_at == T1
    assert row.completed_at is None
    row.status = ProgressStatus.NOT_STARTED
    row.started_at = None
    report(e, row, notes="")
    assert row.status is ProgressStatus.NOT_STARTED  # kept: nothing was done
    assert e.last_accessed_at == T1


def test_values_merge_with_the_stored_ones() -> None:
    e = enrollment()
    row = report(e, None, time_spent_seconds=30, last_position_seconds=12)
    report(e, row, at=T2, completion_percentage=Decimal("40"))
    assert (row.time_spent_seconds, row.last_position_seconds, row.completion_percentage) == (30, 12, Decimal("40.00"))
    assert row.started_at == T1  # set once
    assert row.updated_at == T2


def test_a_completed_lesson_cannot_be_downgraded() -> None:
    e = enrollment()
    row = report(e, None, status=ProgressStatus.COMPLETED)
    for status in (ProgressStatus.IN_PROGRESS, ProgressStatus.NOT_STARTED):
        with pytest.raises(InvalidInput) as caught:
            report(e, row, status=status)
        assert caught.value.detail == DOWNGRADE
    # Staying completed is fine, and a lower percentage does not undo it.
    report(e, row, completion_percentage=Decimal("10"), time_spent_seconds=99)
    assert (row.status, row.completion_percentage, row.time_spent_seconds) == (
        ProgressStatus.COMPLETED,
        Decimal("100.00"),
        99,
    )


def test_not_started_with_anything_done_becomes_in_progress() -> None:
    for done in ({"time_spent_seconds": 1}, {"last_position_seconds": 1}, {"completion_percentage": Decimal("0.01")}):
        row = report(enrollment(), None, status=ProgressStatus.NOT_STARTED, **done)
        assert row.status is ProgressStatus.IN_PROGRESS, done
        assert row.started_at == T1


def test_completion_by_status_or_by_a_full_percentage() -> None:
    by_status = report(enrollment(), None, status=ProgressStatus.COMPLETED, completion_percentage=Decimal("20"))
    by_percentage = report(enrollment(), None, completion_percentage=Decimal("100"))
    for row in (by_status, by_percentage):
        assert row.status is ProgressStatus.COMPLETED
        assert row.completion_percentage == Decimal("100.00")
        assert row.completed_at == T1
        assert row.started_at == T1
    assert COMPLETE.completes()
    assert ProgressUpdate(completion_percentage=Decimal("100")).completes()
    assert not ProgressUpdate(completion_percentage=Decimal("99.99")).completes()


def test_not_started_resets_and_in_progress_clears_completion() -> None:
    e = enrollment()
    row = report(e, None, status=ProgressStatus.IN_PROGRESS, completion_percentage=Decimal("50"))
    report(e, row, status=ProgressStatus.NOT_STARTED, completion_percentage=Decimal("0"))
    assert (row.status, row.completion_percentage, row.started_at, row.completed_at) == (
        ProgressStatus.NOT_STARTED,
        Decimal("0.00"),
        None,
        None,
    )


def test_notes_are_stored_only_when_non_empty() -> None:
    e = enrollment()
    row = report(e, None, notes="remember the index")
    report(e, row, notes="")
    report(e, row, notes=None)
    assert row.notes == "remember the index"


def test_percentages_round_half_to_even() -> None:
    assert two_places(Decimal("50.555")) == Decimal("50.56")
    assert two_places(Decimal("50.565")) == Decimal("50.56")
    assert two_places(Decimal("0.125")) == Decimal("0.12")
    assert percentage(1, 3) == Decimal("33.33")
    assert percentage(2, 3) == Decimal("66.67")
    assert percentage(1, 8) == Decimal("12.50")
    assert percentage(0, 0) == Decimal("0.00")


def totals(completed: int, total: int, seconds: int = 0) -> ProgressTotals:
    return ProgressTotals(completed_lessons=completed, total_lessons=total, time_spent_seconds=seconds)


def test_recompute_counts_and_completes_once() -> None:
    e = enrollment(total=3)
    assert e.recompute(totals(1, 3, 40), T1) is False
    assert (e.completed_lessons_count, e.total_lessons_count, e.progress_percentage, e.total_time_spent_seconds) == (
        1,
        3,
        Decimal("33.33"),
        40,
    )
    assert e.recompute(totals(3, 3, 90), T1) is True  # active -> completed: the event moment
    assert (e.status, e.completed_at, e.progress_percentage) == (EnrollmentStatus.COMPLETED, T1, Decimal("100.00"))
    assert e.recompute(totals(3, 3, 95), T2) is False  # already completed: no second event
    assert e.completed_at == T1


def test_a_completed_enrollment_whose_course_grew_goes_back_to_active() -> None:
    e = enrollment(total=2)
    e.recompute(totals(2, 2), T1)
    assert e.recompute(totals(2, 3), T2) is False
    assert (e.status, e.completed_at, e.progress_percentage) == (EnrollmentStatus.ACTIVE, None, Decimal("66.67"))
    # Deleting the new lesson again completes it again (a fresh completion).
    assert e.recompute(totals(2, 2), T2) is True
    assert e.completed_at == T2


def test_an_empty_course_is_zero_and_never_complete() -> None:
    e = enrollment(total=0)
    assert e.recompute(totals(0, 0), T1) is False
    assert (e.status, e.progress_percentage) == (EnrollmentStatus.ACTIVE, Decimal("0.00"))


def test_counts_never_exceed_the_lessons_that_exist() -> None:
    e = enrollment(total=1)
    e.recompute(totals(3, 1), T1)
    assert (e.completed_lessons_count, e.progress_percentage) == (1, Decimal("100.00"))


def test_dropped_and_expired_enrollments_are_not_completed_by_progress() -> None:
    for status in (EnrollmentStatus.DROPPED, EnrollmentStatus.EXPIRED):
        e = enrollment(total=1)
        e.status = status
        assert e.recompute(totals(1, 1), T1) is False
        assert e.status is status


def test_reviews_need_a_fifth_of_the_course() -> None:
    e = enrollment(total=5)
    e.recompute(totals(0, 5), T1)
    assert not e.can_review()
    e.recompute(totals(1, 5), T1)
    assert e.can_review()
    e.set_review(4, "first thoughts here", T1)
    e.set_review(5, "second thoughts here", T2)
    assert (e.rating, e.review, e.updated_at) == (5, "second thoughts here", T2)
