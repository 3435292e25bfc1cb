"""Learning use cases: enrolling, recording progress, reviews, and what managers read (API §5.6, §7.6)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.catalog import rules as catalog_rules
from domain.catalog.model import Course
from domain.catalog.ports import AfterCommit
from domain.catalog.release import LessonRelease, enrolled_lock, next_lesson, refuse_if_locked
from domain.catalog.services import COURSE_NOT_FOUND
from domain.identity.model import Role, User
from domain.identity.ports import UserLookup
from domain.integrations.audit import audit_entry
from domain.integrations.model import (
    ENROLLMENT_COMPLETED,
    ENROLLMENT_CREATED,
    LESSON_COMPLETED,
    LESSON_PROGRESSED,
    DomainEvent,
)
from domain.learning import emails
from domain.learning.model import (
    COMPLETE,
    CourseStats,
    Enrollment,
    EnrollmentStatus,
    LessonProgress,
    ProgressUpdate,
)
from domain.learning.ports import (
    CompletionListener,
    LearningReader,
    LearningUnitOfWork,
    LearningUnitOfWorkFactory,
    LessonGate,
)
from domain.shared.clock import Clock, iso
from domain.shared.errors import Conflict, Forbidden, NotFound, PaymentRequired
from domain.shared.ids import new_id
from domain.shared.jobs import queue_email
from domain.shared.live import course_channel, message
from domain.shared.pagination import Page, PageParams
from domain.shared.ports import JobQueue, LiveFeed, NoLiveFeed
from domain.shared.unset import UNSET, Unset

PROGRESS_UPDATED = "progress.updated"

ONLY_STUDENTS = "Only students can enroll"
UNPUBLISHED = "Cannot enroll in unpublished course"
PREREQUISITES_MISSING = "Prerequisites not completed"
PAYMENT_REQUIRED = "This course is paid: order it first"
ORDER_URL = "/api/v1/orders"
ENROLLMENT_NOT_FOUND = "Enrollment not found"
NOT_AUTHORIZED_ACCESS = "Not authorized to access this enrollment"
NOT_AUTHORIZED_UPDATE = "Not authorized to update this enrollment progress"
LESSON_NOT_IN_COURSE = "Lesson not found in this enrollment's course"
OWN_REVIEWS = "You can only review your own enrollments"
REVIEW_TOO_EARLY = "Complete at least 20% before reviewing"
NOT_AUTHORIZED_COURSE_ENROLLMENTS = "Not authorized to view course enrollments"
NOT_AUTHORIZED_COURSE_STATS = "Not authorized to view course stats"

ENROLLMENT = "enrollment"


@dataclass(frozen=True, slots=True)
class Enrolled:
    enrollment: Enrollment
    created: bool


@dataclass(frozen=True, slots=True)
class Completion:
    """An enrollment that a change completed, and its course's title, for the message after commit."""

    enrollment: Enrollment
    course_title: str


def progress_message(enrollment: Enrollment, progress: LessonProgress, at: datetime) -> dict[str, Any]:
    """`progress.updated` on the course's live feed (API §13): the lesson's progress as reported."""
    data = {
        "enrollment_id": str(enrollment.id),
        "lesson_id": str(progress.lesson_id),
        "student_id": str(enrollment.student_id),
        "status": progress.status.value,
        "completion_percentage": f"{progress.completion_percentage:.2f}",
    }
    return message(new_id(), PROGRESS_UPDATED, at, data)


def _is_student_or_admin(actor: User, enrollment: Enrollment) -> bool:
    return actor.id == enrollment.student_id or actor.role is Role.ADMIN


def enrollment_created(enrollment: Enrollment) -> DomainEvent:
    """`enrollment.created` (API §9.1), once per enrollment, when it is made."""
    return DomainEvent(
        type=ENROLLMENT_CREATED,
        occurred_at=enrollment.enrolled_at,
        data={
            "enrollment_id": str(enrollment.id),
            "student_id": str(enrollment.student_id),
            "course_id": str(enrollment.course_id),
            "status": enrollment.status.value,
            "enrolled_at": iso(enrollment.enrolled_at),
        },
    )


async def refuse_missing_prerequisites(uow: LearningUnitOfWork, course_id: UUID, student_id: UUID) -> None:
    """API §12: a completed enrollment in each prerequisite (admins enrolling are not exempt)."""
    missing = await uow.courses.missing_prerequisites(course_id, student_id)
    if missing:
        refs = [{"id": str(r.id), "title": r.title, "slug": r.slug} for r in missing]
        raise Forbidden(PREREQUISITES_MISSING, extensions={"missing": refs})


async def admit(
    uow: LearningUnitOfWork,
    student_id: UUID,
    course: Course,
    actor: User | None,
    now: datetime,
    *,
    existing: Enrollment | Unset | None = UNSET,
) -> Enrolled:
    """Put the student in the course inside the caller's unit of work (the course read locked): a
    new enrollment with its `enrollment.created` event, or a dropped one made active again (no new
    event: it was created once). An active or completed one is returned as it is; so is the row
    of a request that won a race to create it. `existing`: the student's enrollment, when the
    caller has read it already under the course's lock."""
    if existing is UNSET:
        existing = await uow.enrollments.of_student(student_id, course.id, lock=True)
    if existing is not None:
        if existing.status is EnrollmentStatus.DROPPED:
            existing.reactivate(now)
            await uow.enrollments.save(existing)
            await uow.audit.add(
                audit_entry("enrollment_reactivated", ENROLLMENT, existing.id, actor, now, course_id=course.id)
            )
        return Enrolled(existing, created=False)
    total = await uow.lessons.count(course.id)
    enrollment = Enrollment.new(id=new_id(), student_id=student_id, course_id=course.id, total_lessons=total, now=now)
    if not await uow.enrollments.add_if_absent(enrollment):
        winner = await uow.enrollments.of_student(student_id, course.id)
        assert winner is not None  # the row that won the race is committed
        return Enrolled(winner, created=False)
    await uow.outbox.add(enrollment_created(enrollment))
    await uow.audit.add(audit_entry("enrollment_created", ENROLLMENT, enrollment.id, actor, now, course_id=course.id))
    return Enrolled(enrollment, created=True)


@dataclass(slots=True)
class LearningService:
    uow: LearningUnitOfWorkFactory
    reader: LearningReader
    users: UserLookup
    queue: JobQueue
    clock: Clock
    frontend_url: str = "http://localhost:3000"
    # Assessment and assignments plug in here: a lesson completes only by passing its published
    # quiz or assignment; no gates, no refusals.
    lesson_gates: list[LessonGate] = field(default_factory=list)
    completion_listener: CompletionListener | None = None  # credentials: the certificate
    live: LiveFeed = field(default_factory=NoLiveFeed)  # each progress report, to the course's feed
    # Record each progress report and lesson completion as an event (for xAPI, API §15.1).
    learning_records: bool = False

    # ----- enrolling -----

    async def enroll(self, actor: User, course_id: UUID) -> Enrolled:
        """Students and admins (for themselves), in a published course; a second call returns the
        existing enrollment, and so does a request that loses a race to create it. A paid course
        is entered through a paid order (API §14): students get `402` here; admins are exempt."""
        if actor.role not in (Role.STUDENT, Role.ADMIN):
            raise Forbidden(ONLY_STUDENTS)
        now = self.clock.now()
        async with self.uow() as uow:
            # Locked as lesson changes lock it: the lesson count below is the one this enrollment
            # commits with, and a second request for the same pair waits here and then finds ours.
            course = await uow.courses.get(course_id, lock=True)
            if course is None:
                raise NotFound(COURSE_NOT_FOUND)
            existing = await uow.enrollments.of_student(actor.id, course_id)
            if existing is not None and existing.status is not EnrollmentStatus.DROPPED:
                return Enrolled(existing, created=False)
            if not course.is_published:
                raise Forbidden(UNPUBLISHED)
            if course.is_paid and actor.role is not Role.ADMIN:
                raise PaymentRequired(PAYMENT_REQUIRED, extensions={"order_url": ORDER_URL})
            await refuse_missing_prerequisites(uow, course_id, actor.id)
            enrolled = await admit(uow, actor.id, course, actor, now, existing=existing)
            await uow.commit()
        if enrolled.created:
            await queue_email(
                self.queue,
                emails.enrolled(actor.email, actor.full_name, course.title, self.frontend_url, str(course_id)),
            )
        return enrolled

    # ----- reading -----

    async def my_courses(self, actor: User, params: PageParams) -> Page[Enrollment]:
        return await self.reader.of_student(actor.id, params)

    async def get_enrollment(self, actor: User, enrollment_id: UUID) -> tuple[Enrollment, UUID | None]:
        """The enrollment and its next lesson: the first, by position, open to the student and not
        completed (API §12)."""
        found = await self.reader.enrollment(enrollment_id)
        if found is None:
            raise NotFound(ENROLLMENT_NOT_FOUND)
        enrollment, owner_id = found
        if not (_is_student_or_admin(actor, enrollment) or actor.id == owner_id):
            raise Forbidden(NOT_AUTHORIZED_ACCESS)
        sequential, lessons, completed = await self.reader.path(enrollment_id)
        upcoming = next_lesson(
            lessons,
            sequential=sequential,
            enrolled_at=enrollment.enrolled_at,
            completed=completed,
            now=self.clock.now(),
        )
        return enrollment, upcoming

    async def course_enrollments(self, actor: User, course_id: UUID, params: PageParams) -> Page[Enrollment]:
        await self._managed_course(actor, course_id, NOT_AUTHORIZED_COURSE_ENROLLMENTS)
        return await self.reader.of_course(course_id, params)

    async def course_stats(self, actor: User, course_id: UUID) -> CourseStats:
        await self._managed_course(actor, course_id, NOT_AUTHORIZED_COURSE_STATS)
        return await self.reader.stats(course_id)

    async def _managed_course(self, actor: User, course_id: UUID, forbidden: str) -> None:
        async with self.uow() as uow:
            course = await uow.courses.get(course_id)
        if course is None:
            raise NotFound(COURSE_NOT_FOUND)
        if not catalog_rules.can_manage(actor, course):
            raise Forbidden(forbidden)

    # ----- progress -----

    async def update_progress(
        self, actor: User, enrollment_id: UUID, lesson_id: UUID, update: ProgressUpdate
    ) -> LessonProgress:
        """Merge a progress report and recompute the enrollment, in one transaction (API §7.6)."""
        async with self.uow() as uow:
            enrollment = await self._own_enrollment(uow, actor, enrollment_id, owner_refusal=NOT_AUTHORIZED_UPDATE)
            enrollment.refuse_if_dropped()
            found = await uow.lessons.release(lesson_id, enrollment.id)
            if found is None or found.course_id != enrollment.course_id:
                raise NotFound(LESSON_NOT_IN_COURSE)
            self.check_lock(found, enrollment, actor)
            stored = await uow.progress.get(enrollment_id, lesson_id)
            already_completed = stored is not None and stored.is_completed
            if update.completes() and not already_completed:
                for gate in self.lesson_gates:
                    if (refusal := await gate.completion_refused(uow, lesson_id)) is not None:
                        raise Conflict(refusal)
            progress, after_commit = await self._record(
                uow, enrollment, stored=stored, lesson_id=lesson_id, update=update, actor=actor
            )
            await uow.commit()
        await after_commit()
        return progress

    async def refuse_locked(
        self, uow: LearningUnitOfWork, enrollment: Enrollment, lesson_id: UUID, actor: User
    ) -> None:
        """`403 Lesson is locked` (API §12) when the student may not act on the lesson yet: for the
        contexts above learning (a quiz start, an assignment submission), inside their unit of work."""
        found = await uow.lessons.release(lesson_id, enrollment.id)
        if found is not None:
            self.check_lock(found, enrollment, actor)

    def check_lock(self, found: LessonRelease, enrollment: Enrollment, actor: User) -> None:
        """As `refuse_locked`, with the lesson's release already read."""
        managing = actor.role is Role.ADMIN or actor.id == found.instructor_id  # never locked out
        now = self.clock.now()
        refuse_if_locked(enrolled_lock(found, enrolled_at=enrollment.enrolled_at, managing=managing, now=now))

    async def complete_in(
        self, uow: LearningUnitOfWork, enrollment: Enrollment, lesson_id: UUID, actor: User
    ) -> AfterCommit:
        """Complete a lesson inside another context's unit of work (a passed quiz, API §7.8): the
        progress rules of §7.6 without the quiz gate. `enrollment` must have been read locked."""
        stored = await uow.progress.get(enrollment.id, lesson_id)
        _, after_commit = await self._record(
            uow, enrollment, stored=stored, lesson_id=lesson_id, update=COMPLETE, actor=actor
        )
        return after_commit

    async def _record(
        self,
        uow: LearningUnitOfWork,
        enrollment: Enrollment,
        *,
        stored: LessonProgress | None,
        lesson_id: UUID,
        update: ProgressUpdate,
        actor: User,
    ) -> tuple[LessonProgress, AfterCommit]:
        now = self.clock.now()
        was_completed = stored is not None and stored.is_completed
        progress = enrollment.record_progress(stored, lesson_id, update, now, new_id())
        await uow.progress.save(progress, is_new=stored is None)
        if self.learning_records:
            await self._record_learning(
                uow, enrollment, progress, now, completed=progress.is_completed and not was_completed
            )
        completion = await self._recompute(uow, enrollment, actor, now)

        async def after_commit() -> None:
            self.live.publish(course_channel(enrollment.course_id), progress_message(enrollment, progress, now))
            if completion is not None:
                await self._send_completion(completion)

        return progress, after_commit

    @staticmethod
    async def _record_learning(
        uow: LearningUnitOfWork, enrollment: Enrollment, progress: LessonProgress, now: datetime, *, completed: bool
    ) -> None:
        data = {
            "enrollment_id": str(enrollment.id),
            "student_id": str(enrollment.student_id),
            "course_id": str(enrollment.course_id),
            "lesson_id": str(progress.lesson_id),
            "completion_percentage": f"{progress.completion_percentage:.2f}",
            "at": iso(now),
        }
        await uow.outbox.add(DomainEvent(type=LESSON_PROGRESSED, occurred_at=now, data=data))
        if completed:
            await uow.outbox.add(DomainEvent(type=LESSON_COMPLETED, occurred_at=now, data=data))

    async def complete_lesson(self, actor: User, enrollment_id: UUID, lesson_id: UUID) -> LessonProgress:
        """E5: the progress report `{status: completed, completion_percentage: 100}`."""
        return await self.update_progress(actor, enrollment_id, lesson_id, COMPLETE)

    async def _own_enrollment(
        self, uow: LearningUnitOfWork, actor: User, enrollment_id: UUID, *, owner_refusal: str
    ) -> Enrollment:
        """The enrollment, locked, for its student or an admin. The course's owner, who may read it
        but not act for the student, gets `owner_refusal`; anyone else the plain refusal."""
        enrollment = await uow.enrollments.get(enrollment_id, lock=True)
        if enrollment is None:
            raise NotFound(ENROLLMENT_NOT_FOUND)
        if not _is_student_or_admin(actor, enrollment):
            course = await uow.courses.get(enrollment.course_id)
            if course is not None and course.instructor_id == actor.id:
                raise Forbidden(owner_refusal)
            raise Forbidden(NOT_AUTHORIZED_ACCESS)
        return enrollment

    async def _recompute(
        self, uow: LearningUnitOfWork, enrollment: Enrollment, actor: User | None, now: datetime
    ) -> Completion | None:
        totals = await uow.enrollments.totals(enrollment.id, enrollment.course_id)
        completion = None
        if enrollment.recompute(totals, now):
            course = await uow.courses.get(enrollment.course_id)
            completion = await self._record_completion(uow, enrollment, course.title if course else "", actor, now)
        await uow.enrollments.save(enrollment)
        return completion

    async def _record_completion(
        self, uow: LearningUnitOfWork, enrollment: Enrollment, course_title: str, actor: User | None, now: datetime
    ) -> Completion:
        assert enrollment.completed_at is not None
        await uow.outbox.add(
            DomainEvent(
                type=ENROLLMENT_COMPLETED,
                occurred_at=now,
                data={
                    "enrollment_id": str(enrollment.id),
                    "student_id": str(enrollment.student_id),
                    "course_id": str(enrollment.course_id),
                    "completed_at": iso(enrollment.completed_at),
                },
            )
        )
        await uow.audit.add(
            audit_entry("enrollment_completed", ENROLLMENT, enrollment.id, actor, now, course_id=enrollment.course_id)
        )
        if self.completion_listener is not None and enrollment.certificate_issued_at is None:
            await self.completion_listener.enrollment_completed(uow, enrollment, now)
        return Completion(enrollment, course_title)

    async def _send_completion(self, completion: Completion) -> None:
        if self.completion_listener is not None:
            await self.completion_listener.completion_committed(completion.enrollment.id)
        student = await self.users.get(completion.enrollment.student_id)
        if student is not None:
            message = emails.completed(student.email, student.full_name, completion.course_title)
            await queue_email(self.queue, message, unless_off=(student.id, ENROLLMENT_COMPLETED))

    # ----- reviews -----

    async def review(self, actor: User, enrollment_id: UUID, rating: int, text: str) -> Enrollment:
        now = self.clock.now()
        async with self.uow() as uow:
            enrollment = await self._own_enrollment(uow, actor, enrollment_id, owner_refusal=OWN_REVIEWS)
            if not enrollment.can_review():
                raise Forbidden(REVIEW_TOO_EARLY)
            enrollment.set_review(rating, text, now)
            await uow.enrollments.save(enrollment)
            await uow.audit.add(
                audit_entry(
                    "enrollment_reviewed",
                    ENROLLMENT,
                    enrollment.id,
                    actor,
                    now,
                    course_id=enrollment.course_id,
                    rating=str(rating),
                )
            )
            await uow.commit()
        return enrollment

    # ----- the catalog's lessons changed (the catalog's CourseContentListener) -----

    @staticmethod
    def _figures(enrollment: Enrollment) -> tuple[object, ...]:
        return (
            enrollment.status,
            enrollment.completed_lessons_count,
            enrollment.total_lessons_count,
            enrollment.certificate_issued_at,
        )

    async def lessons_changing(self, uow: Any, course_id: UUID) -> None:
        """Before a lesson is added or removed: lock the course's enrollments first, so a progress
        change (which locks its enrollment, then the lesson) never waits on us in the other order."""
        learning: LearningUnitOfWork = uow
        await learning.enrollments.of_course(course_id, lock=True)

    async def lessons_changed(self, uow: Any, course: Course, now: datetime) -> AfterCommit:
        """After a lesson is added or removed, in the same transaction: recompute every enrollment
        of the course, so counts never include a deleted lesson or miss a new one. Returns what to
        do once the change has committed (the completion messages)."""
        learning: LearningUnitOfWork = uow
        completions: list[Completion] = []
        changed: list[Enrollment] = []
        totals = await learning.enrollments.course_totals(course.id)
        for enrollment in await learning.enrollments.of_course(course.id):
            before = self._figures(enrollment)
            if enrollment.recompute(totals[enrollment.id], now):
                completions.append(await self._record_completion(learning, enrollment, course.title, None, now))
            if before != self._figures(enrollment):
                changed.append(enrollment)
        await learning.enrollments.save_all(changed)

        async def after_commit() -> None:
            for completion in completions:
                await self._send_completion(completion)

        return after_commit
