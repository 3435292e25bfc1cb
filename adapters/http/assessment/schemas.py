"""Request and response bodies of the quiz, question and attempt routes (API §6.5)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

import msgspec
from msgspec import UNSET, Meta, UnsetType

from adapters.http.bodies import (
    MAX_WEIGHT,
    DecimalString,
    Weight,
    changes_of,
    check_decimal,
    decimal_string,
    input_of,
    optional_decimal_string,
    refuses_null,
    response_of,
)
from domain.assessment.draws import Draw
from domain.assessment.model import (
    Attempt,
    AttemptStatus,
    EssayGrading,
    GradedAnswer,
    Question,
    QuestionBank,
    QuestionType,
    Quiz,
    QuizType,
)
from domain.assessment.ports import BankSummary, QuizSummary
from domain.assessment.quizzes import NewQuestion, NewQuiz, OptionInput, QuestionChanges, QuizChanges

Title = Annotated[str, Meta(min_length=3, max_length=255, examples=["Check your understanding"])]
Minutes = Annotated[int, Meta(ge=1, le=2_147_483_647, examples=[30])]
Attempts = Annotated[int, Meta(ge=1, le=2_147_483_647, examples=[3])]
PassingScore = Annotated[
    Decimal,
    Meta(
        description="0..100, a number or a numeric string",
        examples=["70.00"],
        extra_json_schema={"minimum": 0, "maximum": 100},
    ),
]
Points = Annotated[
    Decimal,
    Meta(
        description="0 up to 99999999.99, a number or a numeric string",
        examples=["1.00"],
        extra_json_schema={"minimum": 0, "exclusiveMaximum": 100_000_000},
    ),
]
Text = Annotated[str, Meta(max_length=20_000)]
DueAt = Annotated[
    datetime, Meta(tz=True, description="When the quiz is due: after it, nothing taken counts as missing (API §11.3)")
]
QuestionText = Annotated[str, Meta(min_length=3, max_length=20_000, examples=["What does HTTP 409 mean?"])]
MAX_POINTS = Decimal(100_000_000)


class DrawBody(msgspec.Struct, kw_only=True):
    """Each attempt draws `count` distinct questions of the bank at random (API §12)."""

    bank_id: UUID
    count: Annotated[int, Meta(ge=1, le=100, examples=[20])]
    points_each: Annotated[Points, Meta(description="Replaces the drawn questions' own points when given")] | None = (
        None
    )

    def as_draw(self) -> Draw:
        return Draw(bank_id=self.bank_id, count=self.count, points_each=self.points_each)


Draws = Annotated[list[DrawBody], Meta(max_length=20, description="Questions drawn from banks per attempt")]


def _draws(draws: Any, name: str = "draws") -> Any:
    """The draws as the use case's, each `points_each` checked; absent or null passes through."""
    if not isinstance(draws, list):
        return draws
    for n, draw in enumerate(draws):
        check_decimal(f"{name}[{n}].points_each", draw.points_each, MAX_POINTS, inclusive=False)
    return [draw.as_draw() for draw in draws]


class DrawResponse(msgspec.Struct, kw_only=True):
    bank_id: UUID
    count: int
    points_each: DecimalString | None


class QuizCreate(msgspec.Struct, kw_only=True):
    lesson_id: UUID
    title: Title
    description: Text | None = None
    quiz_type: QuizType = QuizType.GRADED
    time_limit_minutes: Minutes | None = None
    passing_score: PassingScore = Decimal("70.00")
    max_attempts: Attempts | None = None
    shuffle_questions: bool = True
    shuffle_options: bool = True
    show_correct_answers: bool = True
    essay_grading: EssayGrading = EssayGrading.ZERO
    due_at: DueAt | None = None
    weight: Weight = Decimal("1.00")
    draws: Draws = msgspec.field(default_factory=list)

    def checked(self) -> QuizCreate:
        check_decimal("passing_score", self.passing_score, Decimal(100))
        check_decimal("weight", self.weight, MAX_WEIGHT)
        return self

    def as_input(self) -> NewQuiz:
        return input_of(self.checked(), NewQuiz, draws=_draws(self.draws))


@refuses_null(
    "title",
    "quiz_type",
    "passing_score",
    "shuffle_questions",
    "shuffle_options",
    "show_correct_answers",
    "essay_grading",
    "weight",
    "is_published",
    "draws",
)
class QuizUpdate(msgspec.Struct, kw_only=True):
    """Absent members are left alone; only `description`, `time_limit_minutes` and `max_attempts` may be null."""

    title: Title | UnsetType | None = UNSET
    description: Text | UnsetType | None = UNSET
    quiz_type: QuizType | UnsetType | None = UNSET
    time_limit_minutes: Minutes | UnsetType | None = UNSET
    passing_score: PassingScore | UnsetType | None = UNSET
    max_attempts: Attempts | UnsetType | None = UNSET
    shuffle_questions: bool | UnsetType | None = UNSET
    shuffle_options: bool | UnsetType | None = UNSET
    show_correct_answers: bool | UnsetType | None = UNSET
    essay_grading: EssayGrading | UnsetType | None = UNSET
    due_at: DueAt | UnsetType | None = UNSET
    weight: Weight | UnsetType | None = UNSET
    is_published: bool | UnsetType | None = UNSET
    draws: Draws | UnsetType | None = UNSET

    def checked(self) -> QuizUpdate:
        check_decimal("passing_score", self.passing_score, Decimal(100))
        check_decimal("weight", self.weight, MAX_WEIGHT)
        return self

    def as_changes(self) -> QuizChanges:
        return changes_of(self.checked(), QuizChanges, draws=_draws(self.draws))


class QuizResponse(msgspec.Struct, kw_only=True):
    id: UUID
    lesson_id: UUID
    title: str
    description: str | None
    quiz_type: QuizType
    time_limit_minutes: int | None
    passing_score: DecimalString
    max_attempts: int | None
    shuffle_questions: bool
    shuffle_options: bool
    show_correct_answers: bool
    essay_grading: EssayGrading
    due_at: datetime | None
    weight: DecimalString
    is_published: bool
    created_at: datetime
    updated_at: datetime
    draws: list[DrawResponse]

    @classmethod
    def of(cls, quiz: Quiz) -> QuizResponse:
        draws = [
            DrawResponse(bank_id=d.bank_id, count=d.count, points_each=optional_decimal_string(d.points_each))
            for d in quiz.draws
        ]
        return response_of(
            cls, quiz, passing_score=decimal_string(quiz.passing_score), weight=decimal_string(quiz.weight), draws=draws
        )


class QuizListItem(msgspec.Struct, kw_only=True):
    id: UUID
    title: str
    description: str | None
    quiz_type: QuizType
    time_limit_minutes: int | None
    passing_score: DecimalString
    max_attempts: int | None
    total_questions: Annotated[int, Meta(description="Its own questions, and the questions each attempt draws")]
    total_points: Annotated[
        DecimalString,
        Meta(
            description="Its own questions' points, and drawn ones at `points_each` (a draw without it "
            "adds no points here: they vary by attempt)"
        ),
    ]
    is_published: bool

    @classmethod
    def of(cls, summary: QuizSummary) -> QuizListItem:
        quiz = summary.quiz
        drawn_points = sum((d.points_each * d.count for d in quiz.draws if d.points_each is not None), Decimal(0))
        return response_of(
            cls,
            quiz,
            passing_score=decimal_string(quiz.passing_score),
            total_questions=summary.total_questions + sum(d.count for d in quiz.draws),
            total_points=decimal_string(summary.total_points + drawn_points),
        )


class QuestionOptionInput(msgspec.Struct, kw_only=True):
    option_text: Annotated[str, Meta(min_length=1, max_length=2000)]
    option_id: (
        Annotated[str, Meta(max_length=100, description="Generated by the server when absent or empty")] | None
    ) = None
    is_correct: bool = False


def _options(options: Any) -> Any:
    if isinstance(options, list):
        return [input_of(option, OptionInput) for option in options]
    return options


class QuestionCreate(msgspec.Struct, kw_only=True):
    question_text: QuestionText
    question_type: QuestionType
    points: Points = Decimal("1.00")
    explanation: Text | None = None
    options: Annotated[list[QuestionOptionInput], Meta(max_length=100)] | None = None
    correct_answer: Text | None = None
    metadata: Annotated[dict[str, Any], Meta(description="Stored, not echoed")] | None = None

    def checked(self) -> QuestionCreate:
        check_decimal("points", self.points, MAX_POINTS, inclusive=False)
        return self

    def as_input(self) -> NewQuestion:
        return input_of(self.checked(), NewQuestion, options=_options(self.options))


@refuses_null("question_text", "question_type", "points")
class QuestionUpdate(msgspec.Struct, kw_only=True):
    """Absent members are left alone; the merged question is validated again."""

    question_text: QuestionText | UnsetType | None = UNSET
    question_type: QuestionType | UnsetType | None = UNSET
    points: Points | UnsetType | None = UNSET
    explanation: Text | UnsetType | None = UNSET
    options: Annotated[list[QuestionOptionInput], Meta(max_length=100)] | UnsetType | None = UNSET
    correct_answer: Text | UnsetType | None = UNSET
    metadata: dict[str, Any] | UnsetType | None = UNSET

    def checked(self) -> QuestionUpdate:
        check_decimal("points", self.points, MAX_POINTS, inclusive=False)
        return self

    def as_changes(self) -> QuestionChanges:
        return changes_of(self.checked(), QuestionChanges, options=_options(self.options))


class OptionResponse(msgspec.Struct, kw_only=True):
    option_id: str
    option_text: str
    is_correct: bool


class PublicOption(msgspec.Struct, kw_only=True):
    option_id: str
    option_text: str


class QuestionResponse(msgspec.Struct, kw_only=True):
    """The manager's view, with the answers."""

    id: UUID
    quiz_id: Annotated[UUID | None, Meta(description="The quiz it belongs to (null for a bank's question)")]
    bank_id: Annotated[UUID | None, Meta(description="The question bank it belongs to (null for a quiz's own)")]
    question_text: str
    question_type: QuestionType
    points: DecimalString
    order_index: int
    explanation: str | None
    options: list[OptionResponse] | None
    correct_answer: str | None

    @classmethod
    def of(cls, question: Question) -> QuestionResponse:
        options = None if question.options is None else [response_of(OptionResponse, o) for o in question.options]
        return response_of(cls, question, points=decimal_string(question.points), options=options)


class QuestionPublicResponse(msgspec.Struct, kw_only=True):
    """What a student sees: never `is_correct`, `correct_answer` or `explanation`."""

    id: UUID
    question_text: str
    question_type: QuestionType
    points: DecimalString
    options: list[PublicOption] | None

    @classmethod
    def of(cls, question: Question) -> QuestionPublicResponse:
        options = None if question.options is None else [response_of(PublicOption, o) for o in question.options]
        return response_of(cls, question, points=decimal_string(question.points), options=options)


class TakeQuiz(msgspec.Struct, kw_only=True):
    id: UUID
    title: str
    time_limit_minutes: int | None
    total_questions: int
    total_points: DecimalString


class QuizTakeResponse(msgspec.Struct, kw_only=True):
    quiz: TakeQuiz
    questions: list[QuestionPublicResponse]


class AttemptStartResponse(msgspec.Struct, kw_only=True):
    id: UUID
    quiz_id: UUID
    attempt_number: int
    status: AttemptStatus
    started_at: datetime
    expires_at: datetime | None
    max_score: DecimalString

    @classmethod
    def of(cls, attempt: Attempt) -> AttemptStartResponse:
        return response_of(cls, attempt, max_score=decimal_string(attempt.max_score))


class AnswerSubmission(msgspec.Struct, kw_only=True):
    question_id: UUID
    selected_option_id: Annotated[str, Meta(max_length=100)] | None = None
    answer_text: Text | None = None
    selected_option_ids: (
        Annotated[
            list[Annotated[str, Meta(max_length=100)]],
            Meta(max_length=100, description="Multiple response: the chosen options' ids"),
        ]
        | None
    ) = None


class AttemptSubmitRequest(msgspec.Struct, kw_only=True):
    answers: Annotated[list[AnswerSubmission], Meta(max_length=1000)] = msgspec.field(default_factory=list)


class GradedAnswerResponse(msgspec.Struct, kw_only=True):
    question_id: UUID
    selected_option_id: str | None
    answer_text: str | None
    is_correct: bool | UnsetType = UNSET  # left out when the quiz hides correct answers
    points_earned: DecimalString | UnsetType = UNSET
    needs_review: bool = False
    feedback: str | None = None
    selected_option_ids: list[str] | None = None  # multiple response

    @classmethod
    def of(cls, answer: GradedAnswer, *, masked: bool) -> GradedAnswerResponse:
        if masked:
            return cls(
                question_id=answer.question_id,
                selected_option_id=answer.selected_option_id,
                answer_text=answer.answer_text,
                needs_review=answer.needs_review,
                feedback=answer.feedback,
                selected_option_ids=answer.selected_option_ids,
            )
        return response_of(cls, answer, points_earned=decimal_string(answer.points_earned))


class AttemptResponse(msgspec.Struct, kw_only=True):
    id: UUID
    enrollment_id: UUID
    quiz_id: UUID
    attempt_number: int
    status: AttemptStatus
    started_at: datetime
    submitted_at: datetime | None
    graded_at: datetime | None
    score: DecimalString | None
    max_score: DecimalString
    percentage: DecimalString | None
    is_passed: bool | None
    time_taken_seconds: int | None

    @classmethod
    def of(cls, attempt: Attempt) -> AttemptResponse:
        return response_of(cls, attempt, **_decimals(attempt))


def _decimals(attempt: Attempt) -> dict[str, str | None]:
    return {
        "score": optional_decimal_string(attempt.score),
        "max_score": decimal_string(attempt.max_score),
        "percentage": optional_decimal_string(attempt.percentage),
    }


class AttemptResultResponse(AttemptResponse, kw_only=True):
    """An attempt with its graded answers (null while in progress, `[]` when it expired)."""

    answers: list[GradedAnswerResponse] | None

    @classmethod
    def of_graded(cls, attempt: Attempt, quiz: Quiz, *, reveal: bool = False) -> AttemptResultResponse:
        """`reveal`: for the course's managers, who see points and correctness whatever the quiz hides."""
        masked = not (quiz.show_correct_answers or reveal)
        answers = (
            None if attempt.answers is None else [GradedAnswerResponse.of(a, masked=masked) for a in attempt.answers]
        )
        return response_of(cls, attempt, **_decimals(attempt), answers=answers)


# ----- question banks (API §12) -----

BankName = Annotated[str, Meta(min_length=1, max_length=255, examples=["HTTP status codes"])]
BankDescription = Annotated[str, Meta(max_length=2_000)]


class QuestionBankCreate(msgspec.Struct, kw_only=True):
    name: BankName
    description: BankDescription | None = None


@refuses_null("name")
class QuestionBankUpdate(msgspec.Struct, kw_only=True):
    """Absent members are left alone; `description` may be null."""

    name: BankName | UnsetType | None = UNSET
    description: BankDescription | UnsetType | None = UNSET


class QuestionBankResponse(msgspec.Struct, kw_only=True):
    id: UUID
    course_id: UUID
    name: str
    description: str | None
    question_count: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, summary: BankSummary) -> QuestionBankResponse:
        bank: QuestionBank = summary.bank
        return response_of(cls, bank, question_count=summary.question_count)
