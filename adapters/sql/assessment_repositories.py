"""The assessment repositories on one AsyncSession: quizzes, questions and attempts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Table, delete, exists, func, insert, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sql.mappers import decimal_of, entity_from_row, row_values
from adapters.sql.models import QuestionRow, QuizAttemptRow, QuizRow
from adapters.sql.paging import page_in
from adapters.sql.statements import locked
from domain.assessment.model import (
    Attempt,
    AttemptStatus,
    EssayGrading,
    GradedAnswer,
    Option,
    Question,
    QuestionType,
    Quiz,
    QuizType,
)
from domain.assessment.ports import QuizSummary
from domain.assessment.quizzes import LESSON_HAS_QUIZ
from domain.shared.errors import Conflict
from domain.shared.pagination import Page, PageParams

QUIZZES = cast(Table, QuizRow.__table__)
QUESTIONS = cast(Table, QuestionRow.__table__)
ATTEMPTS = cast(Table, QuizAttemptRow.__table__)


def quiz_from_row(row: Any) -> Quiz:
    return entity_from_row(Quiz, row, quiz_type=QuizType, essay_grading=EssayGrading)


def question_from_row(row: Any) -> Question:
    return Question(
        id=row.id,
        quiz_id=row.quiz_id,
        question_text=row.question_text,
        question_type=QuestionType(row.question_type),
        points=row.points,
        order_index=row.order_index,
        explanation=row.explanation,
        options=[Option(**o) for o in row.options] if row.options is not None else None,
        correct_answer=row.correct_answer,
        metadata=row.custom_metadata,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def question_values(question: Question) -> dict[str, object]:
    values = row_values(question)
    values["custom_metadata"] = values.pop("metadata")
    values["options"] = (
        [{"option_id": o.option_id, "option_text": o.option_text, "is_correct": o.is_correct} for o in question.options]
        if question.options is not None
        else None
    )
    return values


def attempt_from_row(row: Any) -> Attempt:
    def answers(stored: list[dict[str, Any]] | None) -> list[GradedAnswer] | None:
        if stored is None:
            return None
        return [
            GradedAnswer(
                question_id=UUID(a["question_id"]),
                selected_option_id=a["selected_option_id"],
                answer_text=a["answer_text"],
                is_correct=a["is_correct"],
                points_earned=Decimal(a["points_earned"]),
                needs_review=a.get("needs_review", False),
                feedback=a.get("feedback"),
                selected_option_ids=a.get("selected_option_ids"),
            )
            for a in stored
        ]

    return entity_from_row(Attempt, row, status=AttemptStatus, answers=answers)


def attempt_values(attempt: Attempt) -> dict[str, object]:
    values = row_values(attempt)
    values["answers"] = (
        [
            {
                "question_id": str(a.question_id),
                "selected_option_id": a.selected_option_id,
                "answer_text": a.answer_text,
                "is_correct": a.is_correct,
                "points_earned": f"{a.points_earned:.2f}",
                "needs_review": a.needs_review,
                "feedback": a.feedback,
                "selected_option_ids": a.selected_option_ids,
            }
            for a in attempt.answers
        ]
        if attempt.answers is not None
        else None
    )
    return values


class SqlQuizRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, quiz_id: UUID) -> Quiz | None:
        row = (await self._s.execute(select(QUIZZES).where(QUIZZES.c.id == quiz_id))).first()
        return quiz_from_row(row) if row else None

    async def of_lesson(self, lesson_id: UUID) -> Quiz | None:
        row = (await self._s.execute(select(QUIZZES).where(QUIZZES.c.lesson_id == lesson_id))).first()
        return quiz_from_row(row) if row else None

    async def add(self, quiz: Quiz) -> None:
        try:
            await self._s.execute(insert(QUIZZES).values(**row_values(quiz)))
        except IntegrityError:
            raise Conflict(LESSON_HAS_QUIZ) from None

    async def save(self, quiz: Quiz) -> None:
        values = row_values(quiz)
        del values["id"], values["course_id"], values["lesson_id"], values["created_at"]
        await self._s.execute(update(QUIZZES).where(QUIZZES.c.id == quiz.id).values(**values))

    async def delete(self, quiz_id: UUID) -> None:
        await self._s.execute(delete(QUIZZES).where(QUIZZES.c.id == quiz_id))

    async def page(self, course_id: UUID, *, published_only: bool, params: PageParams) -> Page[QuizSummary]:
        # Each quiz's totals through the questions index, for the page's quizzes only.
        of_quiz = QUESTIONS.c.quiz_id == QUIZZES.c.id
        questions = select(func.count()).where(of_quiz).scalar_subquery()
        points = select(func.coalesce(func.sum(QUESTIONS.c.points), 0)).where(of_quiz).scalar_subquery()
        query = select(QUIZZES, questions.label("total_questions"), points.label("total_points")).where(
            QUIZZES.c.course_id == course_id
        )
        if published_only:
            query = query.where(QUIZZES.c.is_published == true())
        ordered = query.order_by(QUIZZES.c.created_at.desc(), QUIZZES.c.id.desc())

        def summary(row: Any) -> QuizSummary:
            return QuizSummary(
                quiz=quiz_from_row(row),
                total_questions=int(row.total_questions or 0),
                total_points=decimal_of(row.total_points),
            )

        return await page_in(self._s, ordered, params, summary)

    async def has_attempts(self, quiz_id: UUID) -> bool:
        return bool((await self._s.execute(select(exists().where(ATTEMPTS.c.quiz_id == quiz_id)))).scalar())


class SqlQuestionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    def _of(self, quiz_id: UUID) -> Any:
        return select(QUESTIONS).where(QUESTIONS.c.quiz_id == quiz_id).order_by(QUESTIONS.c.order_index, QUESTIONS.c.id)

    async def of_quiz(self, quiz_id: UUID) -> list[Question]:
        return [question_from_row(row) for row in await self._s.execute(self._of(quiz_id))]

    async def page(self, quiz_id: UUID, params: PageParams) -> Page[Question]:
        return await page_in(self._s, self._of(quiz_id), params, question_from_row)

    async def get(self, question_id: UUID) -> Question | None:
        row = (await self._s.execute(select(QUESTIONS).where(QUESTIONS.c.id == question_id))).first()
        return question_from_row(row) if row else None

    async def max_position(self, quiz_id: UUID) -> int | None:
        query = select(func.max(QUESTIONS.c.order_index)).where(QUESTIONS.c.quiz_id == quiz_id)
        value = (await self._s.execute(query)).scalar()
        return int(value) if value is not None else None

    async def add(self, question: Question) -> None:
        await self._s.execute(insert(QUESTIONS).values(**question_values(question)))

    async def save(self, question: Question) -> None:
        values = question_values(question)
        del values["id"], values["quiz_id"], values["created_at"], values["order_index"]
        await self._s.execute(update(QUESTIONS).where(QUESTIONS.c.id == question.id).values(**values))

    async def delete(self, question_id: UUID) -> None:
        await self._s.execute(delete(QUESTIONS).where(QUESTIONS.c.id == question_id))


class SqlAttemptRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, attempt_id: UUID, *, lock: bool = False) -> Attempt | None:
        condition = ATTEMPTS.c.id == attempt_id
        if lock:
            row = (await locked(self._s, ATTEMPTS, condition)).first()
        else:
            row = (await self._s.execute(select(ATTEMPTS).where(condition))).first()
        return attempt_from_row(row) if row else None

    def _of(self, enrollment_id: UUID, quiz_id: UUID) -> Any:
        return (
            select(ATTEMPTS)
            .where(ATTEMPTS.c.enrollment_id == enrollment_id, ATTEMPTS.c.quiz_id == quiz_id)
            .order_by(ATTEMPTS.c.attempt_number)
        )

    async def of_enrollment(self, enrollment_id: UUID, quiz_id: UUID) -> list[Attempt]:
        return [attempt_from_row(row) for row in await self._s.execute(self._of(enrollment_id, quiz_id))]

    async def page(self, enrollment_id: UUID, quiz_id: UUID, params: PageParams) -> Page[Attempt]:
        return await page_in(self._s, self._of(enrollment_id, quiz_id), params, attempt_from_row)

    async def add(self, attempt: Attempt) -> None:
        await self._s.execute(insert(ATTEMPTS).values(**attempt_values(attempt)))

    async def save(self, attempt: Attempt) -> None:
        values = attempt_values(attempt)
        del values["id"], values["enrollment_id"], values["quiz_id"], values["student_id"], values["attempt_number"]
        await self._s.execute(update(ATTEMPTS).where(ATTEMPTS.c.id == attempt.id).values(**values))
