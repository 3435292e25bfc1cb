"""The assessment repositories on one AsyncSession: quizzes, questions and attempts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast
from uuid import UUID

import msgspec
from sqlalchemy import Table, Text, delete, exists, func, insert, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sql.catalog_repositories import (
    COURSES,
    ENROLLMENTS,
    LESSONS,
    RELEASE_COLUMNS,
    gap_columns,
    lesson_release_from_row,
)
from adapters.sql.mappers import decimal_of, entity_from_row, row_values
from adapters.sql.models import QUIZ_DRAWS, QuestionRow, QuizAttemptRow, QuizRow
from adapters.sql.paging import page_in
from adapters.sql.statements import bound, first_row, json_rows, uuid_hex
from domain.assessment.draws import Draw, DrawnQuestion
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
from domain.assessment.ports import PoolQuestion, QuizStart, QuizSummary
from domain.assessment.quizzes import LESSON_HAS_QUIZ
from domain.shared.errors import Conflict
from domain.shared.pagination import Page, PageParams

QUIZZES = cast(Table, QuizRow.__table__)
QUESTIONS = cast(Table, QuestionRow.__table__)
ATTEMPTS = cast(Table, QuizAttemptRow.__table__)


def draws_column(quiz_id: Any) -> Any:
    """A quiz's draws as one JSON text column of its read: `[[position, bank id hex, count, points
    each as text or null], ...]`, or null for none."""
    return (
        select(
            json_rows(
                QUIZ_DRAWS.c.position,
                uuid_hex(QUIZ_DRAWS.c.bank_id),
                QUIZ_DRAWS.c.count,
                QUIZ_DRAWS.c.points_each.cast(Text),
            )
        )
        .where(QUIZ_DRAWS.c.quiz_id == quiz_id)
        .scalar_subquery()
        .label("draws")
    )


_DRAWS = msgspec.json.Decoder(list[tuple[int, str, int, str | None]])


def _draws(stored: str | None) -> list[Draw]:
    if not stored:
        return []
    return [
        Draw(bank_id=UUID(hex=bank), count=count, points_each=decimal_of(points) if points is not None else None)
        for _, bank, count, points in sorted(_DRAWS.decode(stored))
    ]


def quiz_from_row(row: Any) -> Quiz:
    """From a quiz read with its `draws_column`."""
    return entity_from_row(Quiz, row, quiz_type=QuizType, essay_grading=EssayGrading, draws=_draws)


_QUIZ = select(QUIZZES, draws_column(QUIZZES.c.id))


def question_from_row(row: Any) -> Question:
    return Question(
        id=row.id,
        quiz_id=row.quiz_id,
        bank_id=row.bank_id,
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

    def drawn(stored: list[dict[str, Any]] | None) -> list[DrawnQuestion]:
        return [DrawnQuestion(UUID(d["question_id"]), Decimal(d["points"])) for d in stored or []]

    return entity_from_row(Attempt, row, status=AttemptStatus, answers=answers, drawn=drawn)


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
    values["drawn"] = [{"question_id": str(d.question_id), "points": f"{d.points:.2f}"} for d in attempt.drawn] or None
    return values


class SqlQuizRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, quiz_id: UUID) -> Quiz | None:
        row = (await self._s.execute(_QUIZ.where(QUIZZES.c.id == quiz_id))).first()
        return quiz_from_row(row) if row else None

    async def of_lesson(self, lesson_id: UUID) -> Quiz | None:
        row = (await self._s.execute(_QUIZ.where(QUIZZES.c.lesson_id == lesson_id))).first()
        return quiz_from_row(row) if row else None

    async def add(self, quiz: Quiz) -> None:
        values = row_values(quiz)
        del values["draws"]
        try:
            await self._s.execute(insert(QUIZZES).values(**values))
        except IntegrityError:
            raise Conflict(LESSON_HAS_QUIZ) from None
        await self.set_draws(quiz.id, quiz.draws)

    async def save(self, quiz: Quiz) -> None:
        values = row_values(quiz)
        del values["id"], values["course_id"], values["lesson_id"], values["created_at"], values["draws"]
        await self._s.execute(update(QUIZZES).where(QUIZZES.c.id == quiz.id).values(**values))

    async def set_draws(self, quiz_id: UUID, draws: list[Draw]) -> None:
        await self._s.execute(delete(QUIZ_DRAWS).where(QUIZ_DRAWS.c.quiz_id == quiz_id))
        if draws:
            rows = [
                {
                    "quiz_id": quiz_id,
                    "position": n,
                    "bank_id": d.bank_id,
                    "count": d.count,
                    "points_each": d.points_each,
                }
                for n, d in enumerate(draws, 1)
            ]
            await self._s.execute(insert(QUIZ_DRAWS), rows)

    async def for_start(self, quiz_id: UUID, student_id: UUID) -> QuizStart | None:
        row = (await self._s.execute(_START, {"quiz_id": quiz_id, "student_id": student_id})).first()
        if row is None:
            return None
        pool = [
            PoolQuestion(UUID(hex=q), decimal_of(points), UUID(hex=bank) if bank else None)
            for q, points, bank in _POOL.decode(row.pool or "[]")
        ]
        return QuizStart(quiz=quiz_from_row(row), release=lesson_release_from_row(row), pool=pool)

    async def delete(self, quiz_id: UUID) -> None:
        await self._s.execute(delete(QUIZZES).where(QUIZZES.c.id == quiz_id))

    async def page(self, course_id: UUID, *, published_only: bool, params: PageParams) -> Page[QuizSummary]:
        # Each quiz's totals through the questions index, for the page's quizzes only.
        of_quiz = QUESTIONS.c.quiz_id == QUIZZES.c.id
        questions = select(func.count()).where(of_quiz).scalar_subquery()
        points = select(func.coalesce(func.sum(QUESTIONS.c.points), 0)).where(of_quiz).scalar_subquery()
        query = select(
            QUIZZES, draws_column(QUIZZES.c.id), questions.label("total_questions"), points.label("total_points")
        ).where(QUIZZES.c.course_id == course_id)
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


_POOL = msgspec.json.Decoder(list[tuple[str, str, str | None]])


def _start() -> Any:
    """An attempt's start in one statement: the quiz with its draws; its lesson's release, with the
    student's first lesson not completed before it; and, as JSON, the ids, points and banks of the
    quiz's own questions and of every question of the banks it draws from."""
    quiz_id = bound(QUIZZES.c.id, "quiz_id")
    enrollment = (
        select(ENROLLMENTS.c.id)
        .where(
            ENROLLMENTS.c.student_id == bound(ENROLLMENTS.c.student_id), ENROLLMENTS.c.course_id == QUIZZES.c.course_id
        )
        .correlate_except(ENROLLMENTS)  # the quiz of the outermost query, two levels up
        .scalar_subquery()
    )
    drawn_from = select(QUIZ_DRAWS.c.bank_id).where(QUIZ_DRAWS.c.quiz_id == quiz_id)
    pool = (
        select(json_rows(uuid_hex(QUESTIONS.c.id), QUESTIONS.c.points.cast(Text), uuid_hex(QUESTIONS.c.bank_id)))
        .where(or_(QUESTIONS.c.quiz_id == quiz_id, QUESTIONS.c.bank_id.in_(drawn_from)))
        .scalar_subquery()
        .label("pool")
    )
    return (
        select(
            QUIZZES,
            draws_column(QUIZZES.c.id),
            *RELEASE_COLUMNS,
            COURSES.c.instructor_id,
            COURSES.c.sequential,
            *gap_columns(LESSONS.c.course_id, enrollment, LESSONS.c.order_index, when=COURSES.c.sequential),
            pool,
        )
        .join(LESSONS, LESSONS.c.id == QUIZZES.c.lesson_id)
        .join(COURSES, COURSES.c.id == QUIZZES.c.course_id)
        .where(QUIZZES.c.id == quiz_id)
    )


_START = _start()


class SqlQuestionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    def _of(self, quiz_id: UUID) -> Any:
        return select(QUESTIONS).where(QUESTIONS.c.quiz_id == quiz_id).order_by(QUESTIONS.c.order_index, QUESTIONS.c.id)

    async def of_quiz(self, quiz_id: UUID) -> list[Question]:
        return [question_from_row(row) for row in await self._s.execute(self._of(quiz_id))]

    async def page(self, quiz_id: UUID, params: PageParams) -> Page[Question]:
        return await page_in(self._s, self._of(quiz_id), params, question_from_row)

    async def of_bank(self, bank_id: UUID, params: PageParams) -> Page[Question]:
        query = select(QUESTIONS).where(QUESTIONS.c.bank_id == bank_id)
        return await page_in(
            self._s, query.order_by(QUESTIONS.c.order_index, QUESTIONS.c.id), params, question_from_row
        )

    async def of_ids(self, question_ids: list[UUID]) -> list[Question]:
        if not question_ids:
            return []
        rows = await self._s.execute(select(QUESTIONS).where(QUESTIONS.c.id.in_(question_ids)))
        found = {row.id: question_from_row(row) for row in rows}
        return [found[q] for q in question_ids if q in found]

    async def get(self, question_id: UUID) -> Question | None:
        row = (await self._s.execute(select(QUESTIONS).where(QUESTIONS.c.id == question_id))).first()
        return question_from_row(row) if row else None

    async def max_position(self, quiz_id: UUID) -> int | None:
        return await self._max_position(QUESTIONS.c.quiz_id == quiz_id)

    async def max_bank_position(self, bank_id: UUID) -> int | None:
        return await self._max_position(QUESTIONS.c.bank_id == bank_id)

    async def _max_position(self, owned: Any) -> int | None:
        value = (await self._s.execute(select(func.max(QUESTIONS.c.order_index)).where(owned))).scalar()
        return int(value) if value is not None else None

    async def add(self, question: Question) -> None:
        await self._s.execute(insert(QUESTIONS).values(**question_values(question)))

    async def save(self, question: Question) -> None:
        values = question_values(question)
        del values["id"], values["quiz_id"], values["bank_id"], values["created_at"], values["order_index"]
        await self._s.execute(update(QUESTIONS).where(QUESTIONS.c.id == question.id).values(**values))

    async def delete(self, question_id: UUID) -> None:
        await self._s.execute(delete(QUESTIONS).where(QUESTIONS.c.id == question_id))


class SqlAttemptRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, attempt_id: UUID, *, lock: bool = False) -> Attempt | None:
        condition = ATTEMPTS.c.id == attempt_id
        row = await first_row(self._s, ATTEMPTS, condition, lock=lock)
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
