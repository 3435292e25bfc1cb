"""The assignment arithmetic of API §11.1: late days, penalties, rounding, rubrics, content."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.assignments.rules import (
    Criterion,
    LatePolicy,
    check_content,
    check_rubric,
    check_window,
    grade,
    late_days,
    rubric_points,
)
from domain.shared.errors import Forbidden, InvalidInput

DUE = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
D = Decimal


@pytest.mark.parametrize(
    ("submitted", "days"),
    [
        (DUE - timedelta(seconds=1), 0),
        (DUE, 0),
        (DUE + timedelta(minutes=1), 1),
        (DUE + timedelta(days=1), 1),
        (DUE + timedelta(days=1, seconds=1), 2),
        (DUE + timedelta(days=6, hours=23), 7),
    ],
)
def test_late_days_are_whole_days_rounded_up(submitted: datetime, days: int) -> None:
    assert late_days(submitted, DUE) == days
    assert late_days(submitted, None) == 0


def test_the_penalty_and_the_final_points() -> None:
    policy = LatePolicy(accept_late=True, penalty_percent_per_day=D("12.5"))
    on_time = grade(D("80"), D("100"), 0, policy)
    assert (on_time.penalty_percent, on_time.final_points, on_time.final_percentage) == (
        D("0.00"),
        D("80.00"),
        D("80.00"),
    )
    late = grade(D("80"), D("100"), 3, policy)  # 37.5 % off: 80 × 0.625 = 50
    assert (late.penalty_percent, late.final_points, late.final_percentage) == (D("37.50"), D("50.00"), D("50.00"))
    capped = grade(D("80"), D("100"), 9, policy)  # 112.5 % is capped at 100
    assert (capped.penalty_percent, capped.final_points) == (D("100.00"), D("0.00"))


def test_rounding_is_half_even_and_the_percentage_comes_from_the_rounded_points() -> None:
    policy = LatePolicy(accept_late=True, penalty_percent_per_day=D("10"))
    # 0.125 × 0.9 = 0.1125 → 0.11 (half-even); 0.11 / 3 × 100 = 3.666… → 3.67
    result = grade(D("0.125"), D("3"), 1, policy)
    assert (result.final_points, result.final_percentage) == (D("0.11"), D("3.67"))
    # 2.345 → 2.34 (the 4 is even); 2.355 → 2.36
    assert grade(D("2.345"), D("10"), 0, policy).final_points == D("2.34")
    assert grade(D("2.355"), D("10"), 0, policy).final_points == D("2.36")


@given(
    points=st.decimals(min_value=0, max_value=1000, places=2),
    days=st.integers(min_value=0, max_value=400),
    per_day=st.decimals(min_value=0, max_value=100, places=2),
)
def test_a_penalty_never_adds_points_nor_goes_below_zero(points: Decimal, days: int, per_day: Decimal) -> None:
    result = grade(points, D("1000"), days, LatePolicy(accept_late=True, penalty_percent_per_day=per_day))
    assert D("0") <= result.final_points <= result.points
    assert D("0") <= result.penalty_percent <= D("100")


def test_points_outside_the_range_are_refused() -> None:
    for points in (D("-0.01"), D("100.01")):
        with pytest.raises(InvalidInput, match="Points must be between 0 and max_points"):
            grade(points, D("100"), 0, LatePolicy())


def test_the_window_opens_closes_and_accepts_late_work_only_when_allowed() -> None:
    opens = DUE - timedelta(days=7)
    with pytest.raises(Forbidden, match="Assignment is not open yet"):
        check_window(opens - timedelta(seconds=1), opens, DUE, LatePolicy())
    assert check_window(DUE, opens, DUE, LatePolicy()) == 0
    with pytest.raises(Forbidden, match="Assignment is closed"):
        check_window(DUE + timedelta(minutes=1), opens, DUE, LatePolicy())
    limited = LatePolicy(accept_late=True, max_late_days=2)
    assert check_window(DUE + timedelta(days=2), opens, DUE, limited) == 2
    with pytest.raises(Forbidden, match="Assignment is closed"):
        check_window(DUE + timedelta(days=2, seconds=1), opens, DUE, limited)
    assert check_window(DUE + timedelta(days=300), None, DUE, LatePolicy(accept_late=True)) == 300


def test_content_follows_the_submission_types() -> None:
    check_content(["text"], "an answer", 0)
    check_content(["file"], None, 1)
    check_content(["text", "file"], "  ", 1)
    for types, text, files, message in (
        (["text"], "   ", 3, "A text answer is required"),
        (["file"], "an answer", 0, "A file is required"),
        (["text", "file"], None, 0, "A text answer or a file is required"),
    ):
        with pytest.raises(InvalidInput, match=message):
            check_content(types, text, files)


def test_rubrics_add_up_and_scores_match_them() -> None:
    rubric = [Criterion("Argument", D("6")), Criterion("Style", D("4"))]
    check_rubric(rubric, D("10"))
    with pytest.raises(InvalidInput, match="add up to max_points"):
        check_rubric(rubric, D("12"))
    assert rubric_points(rubric, [Criterion("Style", D("3.5")), Criterion("Argument", D("5"))]) == D("8.5")
    for scores in (
        [Criterion("Argument", D("5"))],  # one missing
        [Criterion("Argument", D("5")), Criterion("Style", D("4.5"))],  # above its points
        [Criterion("Argument", D("5")), Criterion("Tone", D("1"))],  # not in the rubric
        [Criterion("Argument", D("5")), Criterion("Argument", D("1")), Criterion("Style", D("1"))],  # twice
        [Criterion("Argument", D("-1")), Criterion("Style", D("1"))],  # negative
    ):
        with pytest.raises(InvalidInput, match="Rubric scores do not match the rubric"):
            rubric_points(rubric, scores)
