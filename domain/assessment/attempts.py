"""Attempt use cases: starting, taking, submitting and reading quiz attempts (API §5.8, §7.8)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from domain.assessment import rules
from domain.assessment.draws import drawn
from domain.assessment.model import Answer, Attempt, AttemptStatus, Question, Quiz
from domain.assessment.ports import AssessmentUnitOfWork, AssessmentUnitOfWorkFactory
from domain.assessment.quizzes import QUIZ_NOT_FOUND
from domain.catalog import rules as catalog_rules
from domain.identity.model import Role, User
from domain.integrations.audit import audit_entry
from domain.integrations.model import ATTEMPT_PENDING_REVIEW, ATTEMPT_STARTED, QUIZ_SUBMITTED, AuditEntry, DomainEvent
from domain.learning.model import Enrollment, EnrollmentStatus
from domain.learning.services import LearningService
from domain.shared.clock import Clock, iso
from domain.shared.decimals import ZERO
from domain.shared.errors import Forbidden, NotFound
from domain.shared.ids import new_id
from domain.shared.pagination import Page, PageParams

ONLY_STUDENTS_START = "Only students can start quiz attempts"
ONLY_STUDENTS_SUBMIT = "Only students can submit attempts"
ONLY_STUDENTS_READ = "Only students can access own attempts"
NOT_PUBLISHED = "Quiz is not published"
NOT_ENROLLED = "You must enroll in course before attempting quiz"
ENROLLMENT_STATUS = "Enrollment status does not allow quiz attempts"
IN_PROGRESS = "You already have an in-progress attempt"
MAX_ATTEMPTS = "Maximum attempts reached"
ATTEMPT_NOT_FOUND = "Attempt not found"
ALREADY_SUBMITTED = "Attempt is already submitted"
TIME_LIMIT = "Time limit exceeded for this attempt"

ATTEMPT = "quiz_attempt"  # the audit log's subject type


Q = TypeVar("Q")


class TimeLimitExceeded(Forbidden):
    """Raised after the expired attempt has been stored as graded."""


@dataclass(slots=True)
class AttemptService:
    uow: AssessmentUnitOfWorkFactory
    learning: LearningService
    clock: Clock
    shuffle: Callable[[list[Any]], None] = field(default=random.shuffle)

    async def start(self, actor: User, quiz_id: UUID) -> Attempt:
        if actor.role is not Role.STUDENT:
            raise Forbidden(ONLY_STUDENTS_START)
        now = self.clock.now()
        async with self.uow() as uow:
            # One read: the quiz, its lesson's release for this student, and its question pool.
            facts = await uow.quizzes.for_start(quiz_id, actor.id)
            if facts is None:
                raise NotFound(QUIZ_NOT_FOUND)
            quiz = facts.quiz
            if not quiz.is_published:
                raise Forbidden(NOT_PUBLISHED)
            # Locked: starts by one student are serialised, so numbers, limits and draws hold under races.
            enrollment = await self._enrollment(uow, actor, quiz, lock=True)
            self.learning.check_lock(facts.release, enrollment, actor)
            attempts = await uow.attempts.of_enrollment(enrollment.id, quiz_id)
            await self._expire_overdue(uow, attempts, quiz, actor, now)
            if any(a.status is AttemptStatus.IN_PROGRESS for a in attempts):
                raise Forbidden(IN_PROGRESS)
            number = max((a.attempt_number for a in attempts), default=0) + 1
            if quiz.max_attempts is not None and number > quiz.max_attempts:
                await uow.commit()  # expiries found on the way are kept
                raise Forbidden(MAX_ATTEMPTS)
            attempt_id = new_id()
            own = [q.points for q in facts.pool if q.bank_id is None]
            banks: dict[UUID, dict[UUID, Decimal]] = {}
            for q in facts.pool:
                if q.bank_id is not None:
                    banks.setdefault(q.bank_id, {})[q.id] = q.points
            paper = drawn(quiz.draws, banks, attempt_id)  # fixed for the attempt, stored with it
            attempt = Attempt(
                id=attempt_id,
                enrollment_id=enrollment.id,
                quiz_id=quiz_id,
                student_id=actor.id,
                attempt_number=number,
                started_at=now,
                expires_at=now + timedelta(minutes=quiz.time_limit_minutes) if quiz.time_limit_minutes else None,
                max_score=sum(own, ZERO) + sum((d.points for d in paper), ZERO),
                drawn=paper,
            )
            await uow.attempts.add(attempt)
            await uow.audit.add(self._audit("quiz_attempt_started", attempt, actor, now))
            if self.learning.learning_records:
                data = {
                    "attempt_id": str(attempt.id),
                    "quiz_id": str(quiz.id),
                    "enrollment_id": str(enrollment.id),
                    "student_id": str(actor.id),
                    "course_id": str(quiz.course_id),
                    "started_at": iso(now),
                }
                await uow.outbox.add(DomainEvent(type=ATTEMPT_STARTED, occurred_at=now, data=data))
            await uow.commit()
        return attempt

    async def take_access(self, actor: User, quiz_id: UUID) -> Quiz:
        """Who may see the take view (T2), checked on every request before any cached questions."""
        async with self.uow() as uow:
            quiz = await self._quiz(uow, quiz_id)
            course = await uow.courses.get(quiz.course_id)
            if course is None:
                raise NotFound(QUIZ_NOT_FOUND)
            if actor.role is Role.STUDENT:
                await self._enrollment(uow, actor, quiz, lock=False)
                if not quiz.is_published:
                    raise Forbidden(NOT_PUBLISHED)
            elif not quiz.is_published and not catalog_rules.can_manage(actor, course):
                raise Forbidden(NOT_PUBLISHED)
        return quiz

    async def questions(self, quiz_id: UUID) -> list[Question]:
        """The take view's base: the quiz's questions by position (the caller passed `take_access`)."""
        async with self.uow() as uow:
            return await uow.questions.of_quiz(quiz_id)

    async def drawn_questions(self, actor: User, quiz: Quiz) -> list[Question]:
        """The take view's drawn part: the questions the student's attempt in progress drew from
        the quiz's banks, each with its points in it (none without draws or an attempt)."""
        if not quiz.draws or actor.role is not Role.STUDENT:
            return []
        async with self.uow() as uow:
            enrollment = await uow.enrollments.of_student(actor.id, quiz.course_id)
            attempts = await uow.attempts.of_enrollment(enrollment.id, quiz.id) if enrollment else []
            current = next((a for a in attempts if a.status is AttemptStatus.IN_PROGRESS), None)
            return await paper_of(uow, current, after=0) if current is not None else []

    def arrange(self, quiz: Quiz, questions: list[Q]) -> list[Q]:
        """The take view's order, new on every call: questions and each one's options shuffled as the
        quiz says. Works on any question value with an `options` list (domain or wire)."""
        arranged = list(questions)
        if quiz.shuffle_questions:
            self.shuffle(arranged)
        if quiz.shuffle_options:
            for question in arranged:
                options = getattr(question, "options", None)
                if options:
                    shuffled = list(options)
                    self.shuffle(shuffled)
                    question.options = shuffled  # type: ignore[attr-defined]
        return arranged

    async def submit(self, actor: User, quiz_id: UUID, attempt_id: UUID, answers: list[Answer]) -> tuple[Attempt, Quiz]:
        if actor.role is not Role.STUDENT:
            raise Forbidden(ONLY_STUDENTS_SUBMIT)
        async with self.uow() as uow:
            quiz = await self._quiz(uow, quiz_id)
            enrollment = await self._enrollment(uow, actor, quiz, lock=True)
            attempt = await uow.attempts.get(attempt_id, lock=True)
            if attempt is None or attempt.quiz_id != quiz_id or attempt.enrollment_id != enrollment.id:
                raise NotFound(ATTEMPT_NOT_FOUND)
            if attempt.status is not AttemptStatus.IN_PROGRESS:
                raise Forbidden(ALREADY_SUBMITTED)
            questions = await attempt_questions(uow, attempt)
            rules.check_submission(questions, answers)
            now = self.clock.now()
            if attempt.expired(now):
                await self._expire(uow, attempt, actor, now)
                await uow.commit()
                raise TimeLimitExceeded(TIME_LIMIT)
            graded = rules.for_review(questions, rules.grade(questions, answers), quiz.essay_grading)
            attempt.record_grade(graded, quiz.passing_score, now)
            await uow.attempts.save(attempt)
            await uow.outbox.add(submitted_event(attempt, quiz, now))
            await uow.audit.add(self._audit("quiz_attempt_submitted", attempt, actor, now))
            after_commit = None
            if attempt.is_passed:
                after_commit = await self.learning.complete_in(uow, enrollment, quiz.lesson_id, actor)
            await uow.commit()
        if after_commit is not None:
            await after_commit()
        return attempt, quiz

    async def my_attempts(self, actor: User, quiz_id: UUID, params: PageParams) -> Page[Attempt]:
        if actor.role is not Role.STUDENT:
            raise Forbidden(ONLY_STUDENTS_READ)
        async with self.uow() as uow:
            quiz = await self._quiz(uow, quiz_id)
            enrollment = await self._enrollment(uow, actor, quiz, lock=True)
            await self._expire_overdue(
                uow, await uow.attempts.of_enrollment(enrollment.id, quiz_id), quiz, actor, self.clock.now()
            )
            page = await uow.attempts.page(enrollment.id, quiz_id, params)
            await uow.commit()
        return page

    async def get_attempt(self, actor: User, quiz_id: UUID, attempt_id: UUID) -> tuple[Attempt, Quiz]:
        """T5: the student's own attempt; the course's managers read any student's (API §11.2)."""
        if actor.role is not Role.STUDENT:
            return await self._managed_attempt(actor, quiz_id, attempt_id)
        async with self.uow() as uow:
            quiz = await self._quiz(uow, quiz_id)
            enrollment = await self._enrollment(uow, actor, quiz, lock=True)
            attempt = await uow.attempts.get(attempt_id)
            if attempt is None or attempt.quiz_id != quiz_id or attempt.enrollment_id != enrollment.id:
                raise NotFound(ATTEMPT_NOT_FOUND)
            await self._expire_overdue(uow, [attempt], quiz, actor, self.clock.now())
            await uow.commit()
        return attempt, quiz

    async def _managed_attempt(self, actor: User, quiz_id: UUID, attempt_id: UUID) -> tuple[Attempt, Quiz]:
        async with self.uow() as uow:
            quiz = await self._quiz(uow, quiz_id)
            course = await uow.courses.get(quiz.course_id)
            if course is None or not catalog_rules.can_manage(actor, course):
                raise Forbidden(ONLY_STUDENTS_READ)
            attempt = await uow.attempts.get(attempt_id)
            if attempt is None or attempt.quiz_id != quiz_id:
                raise NotFound(ATTEMPT_NOT_FOUND)
        return attempt, quiz

    # ----- helpers -----

    async def _quiz(self, uow: AssessmentUnitOfWork, quiz_id: UUID) -> Quiz:
        quiz = await uow.quizzes.get(quiz_id)
        if quiz is None:
            raise NotFound(QUIZ_NOT_FOUND)
        return quiz

    async def _enrollment(self, uow: AssessmentUnitOfWork, actor: User, quiz: Quiz, *, lock: bool) -> Enrollment:
        """The student's enrollment in the quiz's course, in a status that allows attempts."""
        found = await uow.enrollments.of_student(actor.id, quiz.course_id, lock=lock)
        if found is None:
            raise Forbidden(NOT_ENROLLED)
        found.refuse_if_dropped()
        if found.status not in (EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED):
            raise Forbidden(ENROLLMENT_STATUS)
        return found

    async def _expire_overdue(
        self, uow: AssessmentUnitOfWork, attempts: list[Attempt], quiz: Quiz, actor: User, now: datetime
    ) -> None:
        for attempt in attempts:
            if attempt.expired(now):
                await self._expire(uow, attempt, actor, now)

    async def _expire(self, uow: AssessmentUnitOfWork, attempt: Attempt, actor: User, now: datetime) -> None:
        attempt.expire(now)
        await uow.attempts.save(attempt)
        await uow.audit.add(self._audit("quiz_attempt_expired", attempt, actor, now))

    def _audit(self, action: str, attempt: Attempt, actor: User, now: datetime) -> AuditEntry:
        return audit_entry(
            action,
            ATTEMPT,
            attempt.id,
            actor,
            now,
            quiz_id=attempt.quiz_id,
            enrollment_id=attempt.enrollment_id,
            student_id=attempt.student_id,
        )


async def paper_of(uow: AssessmentUnitOfWork, attempt: Attempt, *, after: int) -> list[Question]:
    """The questions the attempt drew, in draw order after position `after`, each worth its points
    in the attempt (a question deleted from its bank since is left out)."""
    points = {d.question_id: d.points for d in attempt.drawn}
    found = await uow.questions.of_ids(list(points))
    return [replace(q, points=points[q.id], order_index=after + n) for n, q in enumerate(found, 1)]


async def attempt_questions(uow: AssessmentUnitOfWork, attempt: Attempt) -> list[Question]:
    """What the attempt answers and is graded on: the quiz's own questions by position, then the
    questions it drew (API §12)."""
    own = await uow.questions.of_quiz(attempt.quiz_id)
    drawn_part = await paper_of(uow, attempt, after=max((q.order_index for q in own), default=0))
    return [*own, *drawn_part]


def submitted_event(attempt: Attempt, quiz: Quiz, now: datetime) -> DomainEvent:
    """`quiz.submitted` for an attempt graded at once; `attempt.pending_review` for one whose
    essays wait for a grader (API §11.2)."""
    ids: dict[str, Any] = {
        "attempt_id": str(attempt.id),
        "quiz_id": str(quiz.id),
        "enrollment_id": str(attempt.enrollment_id),
        "student_id": str(attempt.student_id),
    }
    if attempt.status is AttemptStatus.PENDING_REVIEW:
        data = {**ids, "course_id": str(quiz.course_id), "submitted_at": iso(now)}
        return DomainEvent(type=ATTEMPT_PENDING_REVIEW, occurred_at=now, data=data)
    data = {
        **ids,
        "percentage": f"{attempt.percentage:.2f}",
        "is_passed": bool(attempt.is_passed),
        "submitted_at": iso(now),
    }
    return DomainEvent(type=QUIZ_SUBMITTED, occurred_at=now, data=data)
