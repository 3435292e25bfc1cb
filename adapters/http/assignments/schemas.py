"""Request and response bodies of the assignment and submission routes (API §11.1)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import UNSET, Meta, UnsetType

from adapters.http.bodies import (
    MAX_WEIGHT,
    DecimalString,
    Timestamp,
    Weight,
    check_decimal,
    decimal_string,
    optional_decimal_string,
    refuses_null,
    response_of,
)
from adapters.http.files.controller import FileResponse
from adapters.http.pagination import PageResponse
from domain.assignments.gradebook import GradeItem, GradeStatus, ItemKind, StudentGrades, StudentRow
from domain.assignments.model import Assignment, SubmissionStatus, SubmissionType
from domain.assignments.ports import QueueItem
from domain.assignments.rules import Criterion, LatePolicy
from domain.assignments.submissions import SubmissionView

HUNDRED = Decimal(100)
MAX_POINTS = Decimal(10_000)

Title = Annotated[str, Meta(min_length=3, max_length=255, examples=["Write a deployment runbook"])]
Instructions = Annotated[str, Meta(max_length=50_000, description="Markdown")]
DecimalInput = Annotated[Decimal, Meta(description="A number or a numeric string", examples=["10.00"])]
Points = Annotated[
    Decimal,
    Meta(
        description="Above 0, up to 10000: a number or a numeric string",
        examples=["10.00"],
        extra_json_schema={"exclusiveMinimum": 0, "maximum": 10_000},
    ),
]
Percent = Annotated[
    Decimal,
    Meta(
        description="0..100, a number or a numeric string",
        examples=["60.00"],
        extra_json_schema={"minimum": 0, "maximum": 100},
    ),
]
Types = Annotated[
    list[SubmissionType],
    Meta(min_length=1, max_length=2, description='`["text"]`, `["file"]` or `["text", "file"]`'),
]
Extensions = Annotated[
    list[str],
    Meta(max_length=50, description="Extensions without the dot; each must be allowed for uploads", examples=[["pdf"]]),
]
Feedback = Annotated[str, Meta(max_length=20_000)]


class LatePolicyBody(msgspec.Struct, kw_only=True):
    accept_late: bool = False
    penalty_percent_per_day: Percent = Decimal("0.00")
    max_late_days: Annotated[int, Meta(ge=0, le=365, description="0: no limit")] = 0


class LatePolicyResponse(msgspec.Struct, kw_only=True):
    accept_late: bool
    penalty_percent_per_day: DecimalString
    max_late_days: int

    @classmethod
    def of(cls, policy: LatePolicy) -> LatePolicyResponse:
        return cls(
            accept_late=policy.accept_late,
            penalty_percent_per_day=decimal_string(policy.penalty_percent_per_day),
            max_late_days=policy.max_late_days,
        )


CriterionName = Annotated[str, Meta(min_length=1, max_length=255, examples=["Correctness"])]


class CriterionBody(msgspec.Struct, kw_only=True):
    """A rubric's criterion and the points it is worth."""

    criterion: CriterionName
    points: Points


class ScoreBody(msgspec.Struct, kw_only=True):
    """A grader's points for one criterion of the rubric (0 up to the criterion's points)."""

    criterion: CriterionName
    points: DecimalInput


class CriterionResponse(msgspec.Struct, kw_only=True):
    criterion: str
    points: DecimalString

    @classmethod
    def of(cls, criterion: Criterion) -> CriterionResponse:
        return cls(criterion=criterion.criterion, points=decimal_string(criterion.points))


Rubric = Annotated[list[CriterionBody], Meta(max_length=50)]


def _check_amounts(data: AssignmentCreate | AssignmentUpdate) -> None:
    """The decimal ranges msgspec cannot express, as 422s on their members (absent ones pass)."""
    check_decimal("max_points", data.max_points, MAX_POINTS, positive=True)
    check_decimal("passing_percentage", data.passing_percentage, HUNDRED)
    check_decimal("weight", data.weight, MAX_WEIGHT)
    if isinstance(data.late_policy, LatePolicyBody):
        check_decimal("late_policy.penalty_percent_per_day", data.late_policy.penalty_percent_per_day, HUNDRED)
    if isinstance(data.rubric, list):
        for index, criterion in enumerate(data.rubric):
            check_decimal(f"rubric.{index}.points", criterion.points, MAX_POINTS, positive=True)


class AssignmentCreate(msgspec.Struct, kw_only=True):
    title: Title
    instructions: Instructions | None = None
    lesson_id: UUID | None = None
    submission_types: Types
    allowed_extensions: Extensions | None = None
    max_points: Points
    passing_percentage: Percent = Decimal("60.00")
    weight: Weight = Decimal("1.00")
    available_from: Timestamp | None = None
    due_at: Timestamp | None = None
    late_policy: LatePolicyBody = msgspec.field(default_factory=LatePolicyBody)
    max_submissions: Annotated[int, Meta(ge=1, le=100)] = 1
    rubric: Rubric = msgspec.field(default_factory=list)

    def checked(self) -> AssignmentCreate:
        _check_amounts(self)
        return self


@refuses_null(
    "title",
    "submission_types",
    "max_points",
    "passing_percentage",
    "weight",
    "late_policy",
    "max_submissions",
    "rubric",
    "is_published",
)
class AssignmentUpdate(msgspec.Struct, kw_only=True):
    """Absent members are left alone; `instructions`, `lesson_id`, `allowed_extensions`,
    `available_from` and `due_at` may be null (no lesson, the upload list, no window)."""

    title: Title | UnsetType | None = UNSET
    instructions: Instructions | UnsetType | None = UNSET
    lesson_id: UUID | UnsetType | None = UNSET
    submission_types: Types | UnsetType | None = UNSET
    allowed_extensions: Extensions | UnsetType | None = UNSET
    max_points: Points | UnsetType | None = UNSET
    passing_percentage: Percent | UnsetType | None = UNSET
    weight: Weight | UnsetType | None = UNSET
    available_from: Timestamp | UnsetType | None = UNSET
    due_at: Timestamp | UnsetType | None = UNSET
    late_policy: LatePolicyBody | UnsetType | None = UNSET
    max_submissions: Annotated[int, Meta(ge=1, le=100)] | UnsetType | None = UNSET
    rubric: Rubric | UnsetType | None = UNSET
    is_published: bool | UnsetType | None = UNSET

    def checked(self) -> AssignmentUpdate:
        _check_amounts(self)
        return self


class AssignmentResponse(msgspec.Struct, kw_only=True):
    id: UUID
    course_id: UUID
    lesson_id: UUID | None
    title: str
    instructions: str | None
    submission_types: list[SubmissionType]
    allowed_extensions: list[str]
    max_points: DecimalString
    passing_percentage: DecimalString
    weight: DecimalString
    available_from: datetime | None
    due_at: datetime | None
    late_policy: LatePolicyResponse
    max_submissions: int
    rubric: list[CriterionResponse]
    is_published: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, assignment: Assignment) -> AssignmentResponse:
        return response_of(
            cls,
            assignment,
            max_points=decimal_string(assignment.max_points),
            passing_percentage=decimal_string(assignment.passing_percentage),
            weight=decimal_string(assignment.weight),
            late_policy=LatePolicyResponse.of(assignment.late_policy),
            rubric=[CriterionResponse.of(c) for c in assignment.rubric],
        )


class SubmissionCreate(msgspec.Struct, kw_only=True):
    text: Annotated[str, Meta(max_length=100_000)] | None = None
    file_ids: Annotated[list[UUID], Meta(max_length=10, description="Files uploaded first (F1) by the submitter")] = (
        msgspec.field(default_factory=list)
    )


class GradeRequest(msgspec.Struct, kw_only=True):
    points: DecimalInput | None = None
    rubric_scores: Annotated[list[ScoreBody], Meta(max_length=50)] | None = None
    feedback: Feedback | None = None


class ReturnRequest(msgspec.Struct, kw_only=True):
    feedback: Annotated[str, Meta(min_length=1, max_length=20_000, examples=["Please add the rollback steps."])]


class SubmissionResponse(msgspec.Struct, kw_only=True):
    id: UUID
    assignment_id: UUID
    enrollment_id: UUID
    student_id: UUID
    number: int
    text: str | None
    files: list[FileResponse]
    status: SubmissionStatus
    submitted_at: datetime
    is_late: bool
    late_days: int
    points: DecimalString | None
    penalty_percent: DecimalString | None
    final_points: DecimalString | None
    final_percentage: DecimalString | None
    feedback: str | None
    rubric_scores: list[CriterionResponse] | None
    graded_at: datetime | None
    graded_by: UUID | None

    @classmethod
    def of(cls, view: SubmissionView) -> SubmissionResponse:
        s = view.submission
        return response_of(
            cls,
            s,
            files=[FileResponse.of(f) for f in view.files],
            points=optional_decimal_string(s.points),
            penalty_percent=optional_decimal_string(s.penalty_percent),
            final_points=optional_decimal_string(s.final_points),
            final_percentage=optional_decimal_string(s.final_percentage),
            rubric_scores=[CriterionResponse.of(c) for c in s.rubric_scores] if s.rubric_scores is not None else None,
        )


class QueueItemResponse(msgspec.Struct, kw_only=True):
    kind: Annotated[str, Meta(description='`"essay"` or `"submission"`', examples=["submission"])]
    id: UUID
    attempt_id: UUID | None
    submission_id: UUID | None
    quiz_id: UUID | None
    assignment_id: UUID | None
    question_ids: list[UUID] | None
    student_id: UUID
    submitted_at: datetime

    @classmethod
    def of(cls, item: QueueItem) -> QueueItemResponse:
        return response_of(cls, item)


class GradeItemResponse(msgspec.Struct, kw_only=True):
    kind: ItemKind
    id: UUID
    title: str
    weight: DecimalString
    max_points: DecimalString

    @classmethod
    def of(cls, item: GradeItem) -> GradeItemResponse:
        return response_of(cls, item, weight=decimal_string(item.weight), max_points=decimal_string(item.max_points))


class ItemGradeResponse(msgspec.Struct, kw_only=True):
    item_id: UUID
    percentage: DecimalString | None
    status: GradeStatus


class StudentRowResponse(msgspec.Struct, kw_only=True):
    student_id: UUID
    full_name: str
    email: str
    grades: list[ItemGradeResponse]
    course_percentage: DecimalString | None

    @classmethod
    def of(cls, row: StudentRow) -> StudentRowResponse:
        grades = [
            ItemGradeResponse(item_id=g.item_id, percentage=optional_decimal_string(g.percentage), status=g.status)
            for g in row.grades
        ]
        return response_of(cls, row, grades=grades, course_percentage=optional_decimal_string(row.course_percentage))


class GradebookResponse(msgspec.Struct, kw_only=True):
    items: list[GradeItemResponse]
    rows: PageResponse[StudentRowResponse]


class StudentGradesResponse(msgspec.Struct, kw_only=True):
    items: list[GradeItemResponse]
    row: StudentRowResponse

    @classmethod
    def of(cls, grades: StudentGrades) -> StudentGradesResponse:
        return cls(items=[GradeItemResponse.of(i) for i in grades.items], row=StudentRowResponse.of(grades.row))
