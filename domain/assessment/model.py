"""Quizzes, questions and attempts; grading is a method of the quiz's questions (API §6.5, §7.8)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.assessment.draws import Draw, DrawnQuestion
from domain.shared.decimals import ZERO, percentage_of


class QuizType(enum.StrEnum):
    PRACTICE = "practice"
    GRADED = "graded"


class QuestionType(enum.StrEnum):
    MULTIPLE_CHOICE = "multiple_choice"
    TRUE_FALSE = "true_false"
    SHORT_ANSWER = "short_answer"
    ESSAY = "essay"
    MULTIPLE_RESPONSE = "multiple_response"  # several options correct, partial credit (API §12)


class AttemptStatus(enum.StrEnum):
    IN_PROGRESS = "in_progress"
    PENDING_REVIEW = "pending_review"  # essays wait for a grader (API §11.2)
    GRADED = "graded"


class EssayGrading(enum.StrEnum):
    ZERO = "zero"  # essays score 0 (API §7.8)
    MANUAL = "manual"  # a grader marks them (API §11.2)


@dataclass(slots=True, kw_only=True)
class Quiz:
    id: UUID
    course_id: UUID
    lesson_id: UUID
    title: str
    description: str | None = None
    quiz_type: QuizType = QuizType.GRADED
    time_limit_minutes: int | None = None
    passing_score: Decimal = Decimal("70.00")
    max_attempts: int | None = None
    shuffle_questions: bool = True
    shuffle_options: bool = True
    show_correct_answers: bool = True
    essay_grading: EssayGrading = EssayGrading.ZERO
    due_at: datetime | None = None  # for the gradebook only (API §11.3)
    weight: Decimal = Decimal("1.00")
    is_published: bool = False
    created_at: datetime
    updated_at: datetime
    draws: list[Draw] = field(default_factory=list)  # questions drawn from banks per attempt (API §12)


@dataclass(slots=True, kw_only=True)
class QuestionBank:
    """Questions kept apart from any quiz, for quizzes to draw from (API §12)."""

    id: UUID
    course_id: UUID
    name: str
    description: str | None = None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Option:
    option_id: str
    option_text: str
    is_correct: bool = False


@dataclass(slots=True, kw_only=True)
class Question:
    """A question of a quiz, or of a question bank (exactly one of the two)."""

    id: UUID
    quiz_id: UUID | None = None
    bank_id: UUID | None = None
    question_text: str
    question_type: QuestionType
    points: Decimal = Decimal("1.00")
    order_index: int
    explanation: str | None = None
    options: list[Option] | None = None
    correct_answer: str | None = None
    metadata: dict[str, Any] | None = None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Answer:
    """One submitted answer (T3)."""

    question_id: UUID
    selected_option_id: str | None = None
    answer_text: str | None = None
    selected_option_ids: list[str] | None = None  # multiple response


@dataclass(frozen=True, slots=True)
class GradedAnswer:
    question_id: UUID
    selected_option_id: str | None
    answer_text: str | None
    is_correct: bool
    points_earned: Decimal
    needs_review: bool = False  # an essay waiting for a grader (API §11.2)
    feedback: str | None = None  # the grader's, on an essay graded by hand
    selected_option_ids: list[str] | None = None  # multiple response: the options chosen, once each


@dataclass(slots=True, kw_only=True)
class Attempt:
    id: UUID
    enrollment_id: UUID
    quiz_id: UUID
    student_id: UUID
    attempt_number: int
    status: AttemptStatus = AttemptStatus.IN_PROGRESS
    started_at: datetime
    expires_at: datetime | None = None
    submitted_at: datetime | None = None
    graded_at: datetime | None = None
    score: Decimal | None = None
    max_score: Decimal
    percentage: Decimal | None = None
    is_passed: bool | None = None
    time_taken_seconds: int | None = None
    answers: list[GradedAnswer] | None = field(default=None)
    drawn: list[DrawnQuestion] = field(default_factory=list)  # from the quiz's banks, fixed at the start

    def expired(self, now: datetime) -> bool:
        return self.status is AttemptStatus.IN_PROGRESS and self.expires_at is not None and now > self.expires_at

    def expire(self, now: datetime) -> None:
        """Stored as graded with nothing earned (API §7.8)."""
        self.status = AttemptStatus.GRADED
        self.score = ZERO
        self.percentage = ZERO
        self.is_passed = False
        self.submitted_at = self.graded_at = now
        self.time_taken_seconds = int((now - self.started_at).total_seconds())
        self.answers = []

    def record_grade(self, answers: list[GradedAnswer], passing_score: Decimal, now: datetime) -> None:
        """Submitted: graded at once, or, when essays wait for a grader, `pending_review` with the
        score of what was graded automatically (API §11.2)."""
        self.answers = answers
        self.submitted_at = now
        self.time_taken_seconds = int((now - self.started_at).total_seconds())
        if any(a.needs_review for a in answers):
            self.status = AttemptStatus.PENDING_REVIEW
            self.score = sum((a.points_earned for a in answers), ZERO)
            self.percentage = self.is_passed = None
            return
        self.decide(passing_score, now)

    def decide(self, passing_score: Decimal, now: datetime) -> None:
        """Every answer graded: the score, percentage and pass (again, after a re-grade)."""
        answers = self.answers or []
        self.status = AttemptStatus.GRADED
        self.score = sum((a.points_earned for a in answers), ZERO)
        self.percentage = percentage_of(self.score, self.max_score)
        self.is_passed = self.percentage >= passing_score
        self.graded_at = now

    def grade_essay(self, question_id: UUID, points: Decimal, full: Decimal, feedback: str | None) -> None:
        """A grader's points for one essay answer, replacing any earlier ones."""
        self.answers = [
            replace(a, points_earned=points, is_correct=points == full, needs_review=False, feedback=feedback)
            if a.question_id == question_id
            else a
            for a in self.answers or []
        ]

    @property
    def awaiting_review(self) -> list[UUID]:
        return [a.question_id for a in self.answers or [] if a.needs_review]
