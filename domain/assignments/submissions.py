"""Submission use cases (API §11.1 G7-G12): handing work in, reading it, grading it and returning
it for revision. A passing grade completes the assignment's lesson through learning's completion
path, in the grading's transaction."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from domain.assignments import emails, rules
from domain.assignments.assignments import AssignmentView, located, visible
from domain.assignments.model import Assignment, Submission, SubmissionStatus
from domain.assignments.ports import AssignmentsUnitOfWork, AssignmentsUnitOfWorkFactory
from domain.assignments.rules import Criterion
from domain.catalog import rules as catalog_rules
from domain.files.model import StoredFile, extension_of
from domain.identity.model import User
from domain.identity.ports import UserLookup
from domain.integrations.audit import audit_entry
from domain.integrations.model import ASSIGNMENT_SUBMITTED, SUBMISSION_GRADED, AuditEntry, DomainEvent
from domain.learning.model import Enrollment, EnrollmentStatus
from domain.learning.services import LearningService
from domain.shared.clock import Clock, iso
from domain.shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from domain.shared.ids import new_id
from domain.shared.jobs import queue_email
from domain.shared.pagination import Page, PageParams
from domain.shared.ports import JobQueue

NOT_ENROLLED = "Not enrolled in this course"
MAX_SUBMISSIONS = "Maximum submissions reached"
FILE_NOT_YOURS = "File not found or not yours"
FILE_TYPE = "File type is not allowed for this assignment: .{}"
SUBMISSION_NOT_FOUND = "Submission not found"
NOT_AUTHORIZED_VIEW = "Not authorized to view this submission"
NOT_AUTHORIZED_GRADE = "Not authorized to grade submissions for this course"
RETURNED = "Submission was returned for revision"
NOT_RETURNABLE = "Only a submitted or graded submission can be returned"
POINTS_REQUIRED = "points or rubric_scores is required"

SUBMISSION = "assignment_submission"  # the audit log's subject type


@dataclass(frozen=True, slots=True, kw_only=True)
class NewSubmission:
    text: str | None = None
    file_ids: list[UUID] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GradeInput:
    points: Decimal | None = None
    rubric_scores: list[Criterion] | None = None
    feedback: str | None = None


@dataclass(frozen=True, slots=True)
class SubmissionView:
    """A submission as its reader may see it, with its files' records (those still stored)."""

    submission: Submission
    files: list[StoredFile]


def masked(submission: Submission) -> Submission:
    """The student's view: the grading members stay hidden until the submission is graded or returned."""
    if submission.shows_grade:
        return submission
    return replace(
        submission,
        points=None,
        penalty_percent=None,
        final_points=None,
        final_percentage=None,
        feedback=None,
        rubric_scores=None,
        graded_at=None,
        graded_by=None,
    )


def _unique(ids: list[UUID]) -> list[UUID]:
    return list(dict.fromkeys(ids))


@dataclass(slots=True)
class SubmissionService:
    uow: AssignmentsUnitOfWorkFactory
    learning: LearningService
    users: UserLookup
    queue: JobQueue
    clock: Clock
    frontend_url: str = "http://localhost:3000"

    # ----- handing in (G7) -----

    async def submit(
        self, actor: User, assignment_id: UUID, new: NewSubmission, *, submission_id: UUID | None = None
    ) -> SubmissionView:
        """`submission_id`, when given, names the submission: a retried submit finds what it made."""
        now = self.clock.now()
        file_ids = _unique(new.file_ids or [])
        async with self.uow() as uow:
            view = await visible(uow, actor, assignment_id)
            assignment = view.assignment
            # Locked: one student's submissions are serialised, so numbers and limits hold under races.
            enrollment = await uow.enrollments.of_student(actor.id, assignment.course_id, lock=True)
            if enrollment is not None:
                enrollment.refuse_if_dropped()
            if enrollment is None or enrollment.status not in (EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED):
                raise Forbidden(NOT_ENROLLED)
            if assignment.lesson_id is not None:
                await self.learning.refuse_locked(uow, enrollment, assignment.lesson_id, actor)
            earlier = await uow.submissions.of_enrollment(assignment_id, enrollment.id)
            if submission_id is not None and (made := next((s for s in earlier if s.id == submission_id), None)):
                return SubmissionView(made, await self._files(uow, made))
            late_days = rules.check_window(now, assignment.available_from, assignment.due_at, assignment.late_policy)
            reopened = bool(earlier) and earlier[-1].status is SubmissionStatus.RETURNED
            if len(earlier) >= assignment.max_submissions and not reopened:
                raise Conflict(MAX_SUBMISSIONS)
            rules.check_content(assignment.submission_types, new.text, len(file_ids))
            files = await self._owned_files(uow, assignment, file_ids, actor)
            submission = Submission(
                id=submission_id or new_id(),
                assignment_id=assignment_id,
                enrollment_id=enrollment.id,
                student_id=actor.id,
                number=(earlier[-1].number if earlier else 0) + 1,
                text=new.text,
                file_ids=file_ids,
                submitted_at=now,
                late_days=late_days,
            )
            await uow.submissions.add(submission)
            await uow.outbox.add(
                DomainEvent(
                    type=ASSIGNMENT_SUBMITTED,
                    occurred_at=now,
                    data={
                        "submission_id": str(submission.id),
                        "assignment_id": str(assignment_id),
                        "enrollment_id": str(enrollment.id),
                        "student_id": str(actor.id),
                        "course_id": str(assignment.course_id),
                        "is_late": submission.is_late,
                        "submitted_at": iso(now),
                    },
                )
            )
            await uow.audit.add(self._audit("assignment_submitted", submission, actor, now))
            await uow.commit()
        return SubmissionView(submission, files)

    # ----- reading (G8-G10) -----

    async def of_assignment(
        self,
        actor: User,
        assignment_id: UUID,
        params: PageParams,
        *,
        status: SubmissionStatus | None = None,
        student_id: UUID | None = None,
    ) -> Page[SubmissionView]:
        async with self.uow() as uow:
            await self._graded_by(uow, actor, assignment_id)
            page = await uow.submissions.page(assignment_id, params, status=status, student_id=student_id)
            return await self._views(uow, page, manager=True)

    async def mine(self, actor: User, assignment_id: UUID, params: PageParams) -> Page[SubmissionView]:
        async with self.uow() as uow:
            view = await visible(uow, actor, assignment_id)
            page = await uow.submissions.page(assignment_id, params, student_id=actor.id)
            return await self._views(uow, page, manager=catalog_rules.can_manage(actor, view.course))

    async def get(self, actor: User, submission_id: UUID) -> SubmissionView:
        async with self.uow() as uow:
            submission = await uow.submissions.get(submission_id)
            if submission is None:
                raise NotFound(SUBMISSION_NOT_FOUND)
            view = await located(uow, submission.assignment_id)
            manager = catalog_rules.can_manage(actor, view.course)
            if not manager and submission.student_id != actor.id:
                raise Forbidden(NOT_AUTHORIZED_VIEW)
            shown = submission if manager else masked(submission)
            return SubmissionView(shown, await self._files(uow, submission))

    # ----- grading (G11, G12) -----

    async def grade(self, actor: User, submission_id: UUID, given: GradeInput) -> SubmissionView:
        """One transaction: the grade, its event and audit line, and, for a pass of a published
        assignment on a lesson, that lesson's completion (which may complete the enrollment and
        issue its certificate). A second grading replaces the first; a lower grade never
        un-completes the lesson."""
        after_commit = None
        async with self.uow() as uow:
            submission, view, enrollment = await self._for_grading(uow, actor, submission_id)
            assignment = view.assignment
            if submission.status is SubmissionStatus.RETURNED:
                raise Conflict(RETURNED)
            points, scores = _points(assignment, given)
            grade = rules.grade(points, assignment.max_points, submission.late_days, assignment.late_policy)
            now = self.clock.now()
            submission.record_grade(grade, scores, given.feedback, actor.id, now)
            await uow.submissions.save(submission)
            await uow.outbox.add(
                DomainEvent(
                    type=SUBMISSION_GRADED,
                    occurred_at=now,
                    data={
                        "submission_id": str(submission.id),
                        "assignment_id": str(assignment.id),
                        "student_id": str(submission.student_id),
                        "final_percentage": f"{grade.final_percentage:.2f}",
                        "graded_at": iso(now),
                    },
                )
            )
            await uow.audit.add(
                self._audit(
                    "submission_graded", submission, actor, now, final_percentage=f"{grade.final_percentage:.2f}"
                )
            )
            lesson_id = assignment.lesson_id
            if (
                lesson_id is not None
                and assignment.is_published
                and grade.final_percentage >= assignment.passing_percentage
            ):
                stored = await uow.progress.get(enrollment.id, lesson_id)
                if stored is None or not stored.is_completed:
                    after_commit = await self.learning.complete_in(uow, enrollment, lesson_id, actor)
            files = await self._files(uow, submission)
            await uow.commit()
        if after_commit is not None:
            await after_commit()
        student = await self.users.get(submission.student_id)
        if student is not None:
            link = f"{self.frontend_url.rstrip('/')}/assignments/{assignment.id}/submissions/{submission.id}"
            message = emails.graded(
                student.email, student.full_name, assignment.title, f"{grade.final_percentage:.2f}", link
            )
            await queue_email(self.queue, message, unless_off=(student.id, SUBMISSION_GRADED))
        return SubmissionView(submission, files)

    async def return_for_revision(self, actor: User, submission_id: UUID, feedback: str) -> SubmissionView:
        async with self.uow() as uow:
            submission, _, _ = await self._for_grading(uow, actor, submission_id)
            if submission.status is SubmissionStatus.RETURNED:
                raise Conflict(NOT_RETURNABLE)
            submission.return_for_revision(feedback)
            await uow.submissions.save(submission)
            await uow.audit.add(self._audit("submission_returned", submission, actor, self.clock.now()))
            await uow.commit()
            return SubmissionView(submission, await self._files(uow, submission))

    # ----- helpers -----

    async def _graded_by(self, uow: AssignmentsUnitOfWork, actor: User, assignment_id: UUID) -> AssignmentView:
        view = await located(uow, assignment_id)
        if not catalog_rules.can_manage(actor, view.course):
            raise Forbidden(NOT_AUTHORIZED_GRADE)
        return view

    async def _for_grading(
        self, uow: AssignmentsUnitOfWork, actor: User, submission_id: UUID
    ) -> tuple[Submission, AssignmentView, Enrollment]:
        """The submission for its course's managers, read again under the enrollment's lock (taken
        first, as submitting and progress take it), so graders of one student queue up."""
        found = await uow.submissions.get(submission_id)
        if found is None:
            raise NotFound(SUBMISSION_NOT_FOUND)
        view = await self._graded_by(uow, actor, found.assignment_id)
        enrollment = await uow.enrollments.get(found.enrollment_id, lock=True)
        submission = await uow.submissions.get(submission_id, lock=True)
        if enrollment is None or submission is None:
            raise NotFound(SUBMISSION_NOT_FOUND)
        return submission, view, enrollment

    async def _owned_files(
        self, uow: AssignmentsUnitOfWork, assignment: Assignment, file_ids: list[UUID], actor: User
    ) -> list[StoredFile]:
        if not file_ids:
            return []
        files = await uow.submission_files.owned(file_ids, actor.id)
        if len(files) != len(file_ids):
            raise InvalidInput(FILE_NOT_YOURS)
        for record in files:
            extension = extension_of(record.original_filename)
            if extension not in assignment.allowed_extensions:
                raise InvalidInput(FILE_TYPE.format(extension))
        return files

    async def _files(self, uow: AssignmentsUnitOfWork, submission: Submission) -> list[StoredFile]:
        if not submission.file_ids:
            return []
        found = await uow.submission_files.of(submission.file_ids)
        return [found[i] for i in submission.file_ids if i in found]

    async def _views(
        self, uow: AssignmentsUnitOfWork, page: Page[Submission], *, manager: bool
    ) -> Page[SubmissionView]:
        """The page's submissions with their files, read in one statement."""
        wanted = [i for s in page.items for i in s.file_ids]
        found = await uow.submission_files.of(wanted) if wanted else {}
        views = [
            SubmissionView(s if manager else masked(s), [found[i] for i in s.file_ids if i in found])
            for s in page.items
        ]
        return Page(items=views, total=page.total, page=page.page, page_size=page.page_size, next_key=page.next_key)

    def _audit(self, action: str, submission: Submission, actor: User, now: datetime, **extra: str) -> AuditEntry:
        return audit_entry(
            action,
            SUBMISSION,
            submission.id,
            actor,
            now,
            assignment_id=submission.assignment_id,
            enrollment_id=submission.enrollment_id,
            student_id=submission.student_id,
            **extra,
        )


def _points(assignment: Assignment, given: GradeInput) -> tuple[Decimal, list[Criterion] | None]:
    """What the grader gave: with a rubric, the sum of one score per criterion (and `points`, if
    sent too, must equal it); without one, `points`."""
    if assignment.rubric:
        if given.rubric_scores is None:
            raise InvalidInput(rules.RUBRIC_MISMATCH)
        total = rules.rubric_points(assignment.rubric, given.rubric_scores)
        if given.points is not None and not (given.points.is_finite() and given.points == total):
            raise InvalidInput(rules.RUBRIC_MISMATCH)
        return total, list(given.rubric_scores)
    if given.rubric_scores:
        raise InvalidInput(rules.RUBRIC_MISMATCH)
    if given.points is None:
        raise InvalidInput(POINTS_REQUIRED)
    return given.points, None
