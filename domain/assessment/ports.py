"""What assessment needs from outside: the quiz, question and attempt tables."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol
from uuid import UUID

from domain.assessment.model import Attempt, Question, Quiz
from domain.learning.ports import LearningUnitOfWork
from domain.shared.pagination import Page, PageParams


@dataclass(frozen=True, slots=True)
class QuizSummary:
    """A quiz with its question count and points (QuizListItem)."""

    quiz: Quiz
    total_questions: int
    total_points: Decimal


class QuizRepository(Protocol):
    async def get(self, quiz_id: UUID) -> Quiz | None: ...
    async def of_lesson(self, lesson_id: UUID) -> Quiz | None: ...
    async def add(self, quiz: Quiz) -> None:
        """Insert; raises Conflict(LESSON_HAS_QUIZ) when the lesson has one (end the unit of work then)."""
        ...

    async def save(self, quiz: Quiz) -> None: ...
    async def delete(self, quiz_id: UUID) -> None:
        """The quiz and its questions."""
        ...

    async def page(self, course_id: UUID, *, published_only: bool, params: PageParams) -> Page[QuizSummary]:
        """The course's quizzes, newest first."""
        ...

    async def has_attempts(self, quiz_id: UUID) -> bool: ...


class QuestionRepository(Protocol):
    async def of_quiz(self, quiz_id: UUID) -> list[Question]:
        """Every question of the quiz, by position."""
        ...

    async def page(self, quiz_id: UUID, params: PageParams) -> Page[Question]: ...
    async def get(self, question_id: UUID) -> Question | None: ...
    async def max_position(self, quiz_id: UUID) -> int | None: ...
    async def add(self, question: Question) -> None: ...
    async def save(self, question: Question) -> None: ...
    async def delete(self, question_id: UUID) -> None: ...


class AttemptRepository(Protocol):
    async def get(self, attempt_id: UUID, *, lock: bool = False) -> Attempt | None: ...
    async def of_enrollment(self, enrollment_id: UUID, quiz_id: UUID) -> list[Attempt]:
        """Every attempt of the enrollment at the quiz, by number."""
        ...

    async def page(self, enrollment_id: UUID, quiz_id: UUID, params: PageParams) -> Page[Attempt]: ...
    async def add(self, attempt: Attempt) -> None: ...
    async def save(self, attempt: Attempt) -> None: ...


class AssessmentUnitOfWork(LearningUnitOfWork, Protocol):
    @property
    def quizzes(self) -> QuizRepository: ...
    @property
    def questions(self) -> QuestionRepository: ...
    @property
    def attempts(self) -> AttemptRepository: ...


class AssessmentUnitOfWorkFactory(Protocol):
    def __call__(self) -> AssessmentUnitOfWork: ...
