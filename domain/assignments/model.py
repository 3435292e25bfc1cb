"""Assignments and their submissions (API §11.1): what a student hands in, and the grade it gets."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from domain.assignments.rules import Criterion, Grade, LatePolicy


class SubmissionType(enum.StrEnum):
    TEXT = "text"
    FILE = "file"


class SubmissionStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    GRADED = "graded"
    RETURNED = "returned"


@dataclass(slots=True, kw_only=True)
class Assignment:
    id: UUID
    course_id: UUID
    lesson_id: UUID | None = None
    title: str
    instructions: str | None = None
    submission_types: list[SubmissionType]
    allowed_extensions: list[str]
    max_points: Decimal
    passing_percentage: Decimal = Decimal("60.00")
    weight: Decimal = Decimal("1.00")
    available_from: datetime | None = None
    due_at: datetime | None = None
    late_policy: LatePolicy = field(default_factory=LatePolicy)
    max_submissions: int = 1
    rubric: list[Criterion] = field(default_factory=list)
    is_published: bool = False
    created_at: datetime
    updated_at: datetime


@dataclass(slots=True, kw_only=True)
class Submission:
    id: UUID
    assignment_id: UUID
    enrollment_id: UUID
    student_id: UUID
    number: int
    text: str | None = None
    file_ids: list[UUID] = field(default_factory=list)
    status: SubmissionStatus = SubmissionStatus.SUBMITTED
    submitted_at: datetime
    late_days: int = 0
    points: Decimal | None = None
    penalty_percent: Decimal | None = None
    final_points: Decimal | None = None
    final_percentage: Decimal | None = None
    feedback: str | None = None
    rubric_scores: list[Criterion] | None = None
    graded_at: datetime | None = None
    graded_by: UUID | None = None

    def record_grade(
        self, grade: Grade, scores: list[Criterion] | None, feedback: str | None, grader: UUID, now: datetime
    ) -> None:
        """A grading replaces any earlier one (G11)."""
        self.status = SubmissionStatus.GRADED
        self.points = grade.points
        self.penalty_percent = grade.penalty_percent
        self.final_points = grade.final_points
        self.final_percentage = grade.final_percentage
        self.rubric_scores = scores
        self.feedback = feedback
        self.graded_at = now
        self.graded_by = grader

    def return_for_revision(self, feedback: str) -> None:
        """Back to the student with feedback (G12); an earlier grade stays on record."""
        self.status = SubmissionStatus.RETURNED
        self.feedback = feedback

    @property
    def is_late(self) -> bool:
        return self.late_days > 0

    @property
    def shows_grade(self) -> bool:
        """Students see the grading members once the submission is graded or returned."""
        return self.status is not SubmissionStatus.SUBMITTED
