"""The gradebook's pure rules (API §11.3): each item's status and the weighted course percentage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.assignments.gradebook import (
    GradeItem,
    GradeStatus,
    ItemGrade,
    ItemKind,
    Result,
    StudentRow,
    course_percentage,
    csv_row,
    grade_of,
)
from domain.assignments.rules import LatePolicy, grade
from domain.shared.errors import InvalidInput

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
D = Decimal


def item(weight: str = "1", due_at: datetime | None = None) -> GradeItem:
    return GradeItem(kind=ItemKind.QUIZ, id=uuid4(), title="Q", weight=D(weight), max_points=D("10"), due_at=due_at)


def test_statuses() -> None:
    past, future = NOW - timedelta(seconds=1), NOW + timedelta(days=1)
    assert grade_of(item(), Result(percentage=D("75.50"), waiting=True), NOW).status is GradeStatus.GRADED
    assert grade_of(item(due_at=past), Result(percentage=None, waiting=True), NOW).status is GradeStatus.PENDING
    missing = grade_of(item(due_at=past), None, NOW)
    assert (missing.status, missing.percentage) == (GradeStatus.MISSING, D("0.00"))
    assert grade_of(item(due_at=future), None, NOW).status is GradeStatus.NOT_DUE
    assert grade_of(item(), None, NOW).status is GradeStatus.NOT_DUE  # no due date: never missing
    assert grade_of(item(due_at=NOW), None, NOW).status is GradeStatus.NOT_DUE  # due now: not yet past


def test_the_course_percentage_weighs_graded_and_missing_items_only() -> None:
    items = [item("2"), item("1"), item("5"), item("0")]
    grades = [
        ItemGrade(item_id=items[0].id, percentage=D("80.00"), status=GradeStatus.GRADED),
        ItemGrade(item_id=items[1].id, percentage=D("0.00"), status=GradeStatus.MISSING),
        ItemGrade(item_id=items[2].id, percentage=None, status=GradeStatus.PENDING),
        ItemGrade(item_id=items[3].id, percentage=D("100.00"), status=GradeStatus.GRADED),
    ]
    assert course_percentage(items, grades) == D("53.33")  # (2 x 80 + 1 x 0 + 0 x 100) / 3
    assert course_percentage(items[2:3], grades[2:3]) is None
    assert course_percentage(items[3:], grades[3:]) is None  # every counted weight is 0


@given(st.lists(st.tuples(st.integers(0, 10_000), st.integers(1, 100)), min_size=1, max_size=40))
def test_the_course_percentage_stays_within_the_grades(pairs: list[tuple[int, int]]) -> None:
    items = [item(str(weight)) for _, weight in pairs]
    grades = [
        ItemGrade(item_id=i.id, percentage=D(pct) / 100, status=GradeStatus.GRADED)
        for i, (pct, _) in zip(items, pairs, strict=True)
    ]
    result = course_percentage(items, grades)
    assert result is not None
    low, high = (
        min(g.percentage for g in grades if g.percentage is not None),
        max(g.percentage for g in grades if g.percentage is not None),
    )
    assert low - D("0.01") <= result <= high + D("0.01")


def test_a_csv_row() -> None:
    row = StudentRow(
        student_id=uuid4(),
        full_name="Ann",
        email="ann@example.com",
        grades=[
            ItemGrade(item_id=uuid4(), percentage=D("80"), status=GradeStatus.GRADED),
            ItemGrade(item_id=uuid4(), percentage=None, status=GradeStatus.PENDING),
            ItemGrade(item_id=uuid4(), percentage=None, status=GradeStatus.NOT_DUE),
        ],
        course_percentage=None,
    )
    assert csv_row(row)[1:] == ["Ann", "ann@example.com", "80.00", "pending", "", ""]


@pytest.mark.parametrize("points", [D("NaN"), D("Infinity"), D("-0.01"), D("10.01")])
def test_points_that_are_not_grades_are_refused(points: Decimal) -> None:
    with pytest.raises(InvalidInput):
        grade(points, D("10"), 0, LatePolicy())
