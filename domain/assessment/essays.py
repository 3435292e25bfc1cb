"""Essays graded by hand (API §11.2): a grader marks each essay answer of a `pending_review`
attempt; the last one decides the attempt, and a pass completes the lesson as §7.8 does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from domain.assessment.attempts import ATTEMPT, ATTEMPT_NOT_FOUND
from domain.assessment.model import Attempt, AttemptStatus, QuestionType, Quiz
from domain.assessment.ports import AssessmentUnitOfWorkFactory
from domain.catalog import rules as catalog_rules
from domain.identity.model import User
from domain.integrations.audit import audit_entry
from domain.integrations.model import ATTEMPT_GRADED, DomainEvent
from domain.learning.services import LearningService
from domain.shared.clock import Clock, iso
from domain.shared.decimals import ZERO, two_places
from domain.shared.errors import Conflict, Forbidden, InvalidInput, NotFound

NOT_AUTHORIZED = "Not authorized to grade attempts for this course"
NOT_IN_ATTEMPT = "Question not found in this attempt"
NOT_AN_ESSAY = "Only essay answers are graded by hand"
NOT_SUBMITTED = "Attempt is not submitted yet"
POINTS_RANGE = "Points must be between 0 and the question's points"


def graded_event(attempt: Attempt, quiz: Quiz, now: datetime) -> DomainEvent:
    return DomainEvent(
        type=ATTEMPT_GRADED,
        occurred_at=now,
        data={
            "attempt_id": str(attempt.id),
            "quiz_id": str(quiz.id),
            "enrollment_id": str(attempt.enrollment_id),
            "student_id": str(attempt.student_id),
            "score": f"{attempt.score:.2f}",
            "percentage": f"{attempt.percentage:.2f}",
            "is_passed": bool(attempt.is_passed),
            "graded_at": iso(now),
        },
    )


@dataclass(slots=True)
class EssayService:
    uow: AssessmentUnitOfWorkFactory
    learning: LearningService
    clock: Clock

    async def grade_answer(
        self, actor: User, attempt_id: UUID, question_id: UUID, points: Decimal, feedback: str | None
    ) -> tuple[Attempt, Quiz]:
        """One transaction: the answer's points; once no essay waits, the attempt's decision, its
        `attempt.graded` event, and for a pass the lesson's completion (never undone by a re-grade)."""
        after_commit = None
        async with self.uow() as uow:
            found = await uow.attempts.get(attempt_id)
            if found is None:
                raise NotFound(ATTEMPT_NOT_FOUND)
            quiz = await uow.quizzes.get(found.quiz_id)
            course = await uow.courses.get(quiz.course_id) if quiz is not None else None
            if quiz is None or course is None:
                raise NotFound(ATTEMPT_NOT_FOUND)
            if not catalog_rules.can_manage(actor, course):
                raise Forbidden(NOT_AUTHORIZED)
            # The enrollment first, as submitting and progress lock it; then the attempt, re-read.
            enrollment = await uow.enrollments.get(found.enrollment_id, lock=True)
            attempt = await uow.attempts.get(attempt_id, lock=True)
            if enrollment is None or attempt is None:
                raise NotFound(ATTEMPT_NOT_FOUND)
            if attempt.status is AttemptStatus.IN_PROGRESS:
                raise Conflict(NOT_SUBMITTED)
            question = await uow.questions.get(question_id)
            in_attempt = any(a.question_id == question_id for a in attempt.answers or [])
            drawn = {d.question_id: d.points for d in attempt.drawn}
            if question is None or not in_attempt or (question.quiz_id != quiz.id and question_id not in drawn):
                raise NotFound(NOT_IN_ATTEMPT)
            if question_id in drawn:  # worth its points in this attempt (API §12)
                question.points = drawn[question_id]
            if question.question_type is not QuestionType.ESSAY:
                raise Conflict(NOT_AN_ESSAY)
            if not (points.is_finite() and ZERO <= points <= question.points):
                raise InvalidInput(POINTS_RANGE)
            now = self.clock.now()
            attempt.grade_essay(question_id, two_places(points), question.points, feedback)
            if attempt.awaiting_review:
                attempt.score = sum((a.points_earned for a in attempt.answers or []), ZERO)
            else:
                attempt.decide(quiz.passing_score, now)
                await uow.outbox.add(graded_event(attempt, quiz, now))
            await uow.attempts.save(attempt)
            await uow.audit.add(
                audit_entry(
                    "quiz_answer_graded",
                    ATTEMPT,
                    attempt.id,
                    actor,
                    now,
                    quiz_id=quiz.id,
                    question_id=question_id,
                    enrollment_id=attempt.enrollment_id,
                    student_id=attempt.student_id,
                    points=f"{points:.2f}",
                )
            )
            if attempt.is_passed:
                stored = await uow.progress.get(enrollment.id, quiz.lesson_id)
                if stored is None or not stored.is_completed:
                    after_commit = await self.learning.complete_in(uow, enrollment, quiz.lesson_id, actor)
            await uow.commit()
        if after_commit is not None:
            await after_commit()
        return attempt, quiz
