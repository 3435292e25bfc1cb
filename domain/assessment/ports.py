"""What assessment needs from outside: the quiz, question and attempt tables."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol
from uuid import UUID

from domain.assessment.draws import Draw
from domain.assessment.model import Attempt, Question, QuestionBank, Quiz
from domain.catalog.release import LessonRelease
from domain.learning.ports import LearningUnitOfWork
from domain.shared.pagination import Page, PageParams


@dataclass(frozen=True, slots=True)
class QuizSummary:
    """A quiz with its question count and points (QuizListItem)."""

    quiz: Quiz
    total_questions: int
    total_points: Decimal


@dataclass(frozen=True, slots=True)
class BankSummary:
    """A question bank with its question count (QuestionBankResponse)."""

    bank: QuestionBank
    question_count: int


@dataclass(frozen=True, slots=True)
class PoolQuestion:
    """What an attempt's start needs of a question: its own points, and its bank (None: the quiz's own)."""

    id: UUID
    points: Decimal
    bank_id: UUID | None


@dataclass(frozen=True, slots=True)
class QuizStart:
    """Everything an attempt's start reads, in one statement: the quiz with its draws, the lesson's
    release for the student, and the questions of the quiz and of the banks it draws from."""

    quiz: Quiz
    release: LessonRelease
    pool: list[PoolQuestion]


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
    async def set_draws(self, quiz_id: UUID, draws: list[Draw]) -> None:
        """Replace the quiz's draws (their order kept)."""
        ...

    async def for_start(self, quiz_id: UUID, student_id: UUID) -> QuizStart | None:
        """The quiz as a student's attempt starts (None when there is no such quiz); the release's
        gap is the student's enrollment's in the quiz's course."""
        ...


class QuestionRepository(Protocol):
    async def of_quiz(self, quiz_id: UUID) -> list[Question]:
        """Every question of the quiz, by position."""
        ...

    async def page(self, quiz_id: UUID, params: PageParams) -> Page[Question]: ...
    async def of_bank(self, bank_id: UUID, params: PageParams) -> Page[Question]: ...
    async def of_ids(self, question_ids: list[UUID]) -> list[Question]:
        """The questions with these ids that still exist, in the order asked."""
        ...

    async def get(self, question_id: UUID) -> Question | None: ...
    async def max_position(self, quiz_id: UUID) -> int | None: ...
    async def max_bank_position(self, bank_id: UUID) -> int | None: ...
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


class QuestionBankRepository(Protocol):
    async def get(self, bank_id: UUID) -> QuestionBank | None: ...
    async def add(self, bank: QuestionBank) -> None: ...
    async def save(self, bank: QuestionBank) -> None: ...
    async def delete(self, bank_id: UUID) -> None:
        """The bank and its questions."""
        ...

    async def page(self, course_id: UUID, params: PageParams) -> Page[BankSummary]:
        """The course's banks, newest first."""
        ...

    async def question_count(self, bank_id: UUID) -> int: ...
    async def of_course(self, course_id: UUID, bank_ids: list[UUID]) -> dict[UUID, BankSummary]:
        """Those of the banks that belong to the course, with their sizes."""
        ...

    async def used_by_quiz(self, bank_id: UUID) -> bool: ...


class AssessmentUnitOfWork(LearningUnitOfWork, Protocol):
    @property
    def quizzes(self) -> QuizRepository: ...
    @property
    def questions(self) -> QuestionRepository: ...
    @property
    def attempts(self) -> AttemptRepository: ...
    @property
    def banks(self) -> QuestionBankRepository: ...


class AssessmentUnitOfWorkFactory(Protocol):
    def __call__(self) -> AssessmentUnitOfWork: ...
