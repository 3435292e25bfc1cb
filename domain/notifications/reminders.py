"""The `assignment.due_soon` reminder (API §13): a scheduled job tells each student enrolled in the
course who has not handed anything in, once, within the day before an assignment is due: in the
inbox (an event, so webhooks and live clients hear of it too) and by email, unless switched off.

"Once" is a key, not a lock with a timeout: a (assignment, student) row is written in the
transaction that records the event, so several schedulers running at the same moment (each worker's
cron, or a run repeated after a crash) remind nobody twice and, between them, miss nobody."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from domain.identity.ports import UserLookup
from domain.integrations.model import ASSIGNMENT_DUE_SOON, DomainEvent
from domain.notifications import emails
from domain.notifications.ports import DueAssignment, RemindersUnitOfWorkFactory
from domain.shared.clock import Clock, iso
from domain.shared.jobs import queue_email
from domain.shared.ports import JobQueue

REMIND_DUE_SOON = "remind_due_soon"
DUE_WITHIN = timedelta(hours=24)
REMIND_EVERY_SECONDS = 60  # how often the scheduler looks (its cron runs each minute)


@dataclass(slots=True)
class DueSoonReminders:
    uow: RemindersUnitOfWorkFactory
    users: UserLookup
    queue: JobQueue
    clock: Clock
    frontend_url: str = "http://localhost:3000"

    async def remind_once(self) -> int:
        """Remind whoever is due a reminder now; returns how many students were reminded."""
        now = self.clock.now()
        async with self.uow() as uow:
            due = await uow.reminders.due_between(now, now + DUE_WITHIN)
        reminded = 0
        for assignment in due:
            reminded += len(await self._remind(assignment, now))
        return reminded

    async def _remind(self, due: DueAssignment, now: datetime) -> list[UUID]:
        async with self.uow() as uow:
            students = await uow.reminders.claim(due.id, due.course_id, now)
            for student_id in students:
                await uow.outbox.add(
                    DomainEvent(
                        type=ASSIGNMENT_DUE_SOON,
                        occurred_at=now,
                        data={
                            "assignment_id": str(due.id),
                            "course_id": str(due.course_id),
                            "student_id": str(student_id),
                            "title": due.title,
                            "due_at": iso(due.due_at),
                        },
                    )
                )
            await uow.commit()
        for student_id in students:
            student = await self.users.get(student_id)
            if student is not None and student.is_active:
                message = emails.due_soon(student.email, student.full_name, due, self.frontend_url)
                await queue_email(self.queue, message, unless_off=(student_id, ASSIGNMENT_DUE_SOON))
        return students
