"""Pure assignment rules (API §11.1): what a submission must contain, when it is late and by how
many days, the late penalty and the grade it leaves, and rubric scores."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from domain.shared.decimals import HUNDRED, ZERO, percentage_of, two_places
from domain.shared.errors import Forbidden, InvalidInput

TEXT = "text"
FILE = "file"
DAY = timedelta(days=1)

NOT_OPEN = "Assignment is not open yet"
CLOSED = "Assignment is closed"
TEXT_REQUIRED = "A text answer is required"
FILE_REQUIRED = "A file is required"
TEXT_OR_FILE_REQUIRED = "A text answer or a file is required"
POINTS_OUT_OF_RANGE = "Points must be between 0 and max_points"
RUBRIC_MISMATCH = "Rubric scores do not match the rubric"
RUBRIC_SUM = "The rubric's points must add up to max_points"


@dataclass(frozen=True, slots=True, kw_only=True)
class LatePolicy:
    accept_late: bool = False
    penalty_percent_per_day: Decimal = ZERO
    max_late_days: int = 0  # 0: no limit


@dataclass(frozen=True, slots=True)
class Criterion:
    criterion: str
    points: Decimal


@dataclass(frozen=True, slots=True)
class Grade:
    """The arithmetic of one grading: what the grader gave, and what the late days leave of it."""

    points: Decimal
    penalty_percent: Decimal
    final_points: Decimal
    final_percentage: Decimal


def late_days(submitted_at: datetime, due_at: datetime | None) -> int:
    """Whole days after the due date, rounded up (a minute late is one day); 0 when on time."""
    if due_at is None or submitted_at <= due_at:
        return 0
    return math.ceil((submitted_at - due_at) / DAY)


def check_window(now: datetime, available_from: datetime | None, due_at: datetime | None, policy: LatePolicy) -> int:
    """Whether a submission may be made now (G7); the late days it would carry."""
    if available_from is not None and now < available_from:
        raise Forbidden(NOT_OPEN)
    days = late_days(now, due_at)
    if days and (not policy.accept_late or (policy.max_late_days and days > policy.max_late_days)):
        raise Forbidden(CLOSED)
    return days


def check_content(submission_types: Sequence[str], text: str | None, file_count: int) -> None:
    """What `submission_types` asks for is there (G7): the first rule broken answers 400."""
    has_text = text is not None and bool(text.strip())
    wants_text, wants_file = TEXT in submission_types, FILE in submission_types
    if wants_text and wants_file:
        if not has_text and not file_count:
            raise InvalidInput(TEXT_OR_FILE_REQUIRED)
    elif wants_text and not has_text:
        raise InvalidInput(TEXT_REQUIRED)
    elif wants_file and not file_count:
        raise InvalidInput(FILE_REQUIRED)


def check_rubric(rubric: Sequence[Criterion], max_points: Decimal) -> None:
    """A rubric's criteria must add up to the assignment's points (AssignmentCreate)."""
    if rubric and sum((c.points for c in rubric), ZERO) != max_points:
        raise InvalidInput(RUBRIC_SUM)


def rubric_points(rubric: Sequence[Criterion], scores: Sequence[Criterion]) -> Decimal:
    """The points of a graded rubric: one score per criterion, each within its criterion's points."""
    allowed = {c.criterion: c.points for c in rubric}
    given = {s.criterion: s.points for s in scores}
    if len(given) != len(scores) or set(given) != set(allowed):
        raise InvalidInput(RUBRIC_MISMATCH)
    if any(not (points.is_finite() and ZERO <= points <= allowed[name]) for name, points in given.items()):
        raise InvalidInput(RUBRIC_MISMATCH)
    return sum(given.values(), ZERO)


def grade(points: Decimal, max_points: Decimal, days_late: int, policy: LatePolicy) -> Grade:
    """`penalty_percent` = min(100, late days * penalty per day); `final_points` = points * (1 -
    penalty/100), rounded half-even to 2 places; `final_percentage` from the rounded points."""
    if not (points.is_finite() and ZERO <= points <= max_points):
        raise InvalidInput(POINTS_OUT_OF_RANGE)
    penalty = min(HUNDRED, two_places(policy.penalty_percent_per_day * days_late))
    final = two_places(points * (1 - penalty / 100))
    return Grade(
        points=two_places(points),
        penalty_percent=penalty,
        final_points=final,
        final_percentage=percentage_of(final, max_points),
    )
