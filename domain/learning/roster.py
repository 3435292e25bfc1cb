"""Roster import (API §15.4): a course's managers enroll a list of people from a CSV file, making
accounts for those who have none (an invitation to choose a password), in transactions of 500
rows. Re-running a file changes nothing; a bad row is reported and never stops the others; a dry
run answers the same counts and keeps nothing."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice
from uuid import UUID

from domain.catalog import rules as catalog_rules
from domain.catalog.model import Course
from domain.catalog.services import COURSE_NOT_FOUND
from domain.identity.model import Role, TokenType, User
from domain.identity.policy import is_email, normalize_email
from domain.identity.tokens import Tokens
from domain.integrations.audit import audit_entry
from domain.learning import emails
from domain.learning.model import Enrollment, EnrollmentStatus
from domain.learning.ports import Roster, RosterUnitOfWorkFactory, Row
from domain.learning.services import (
    ENROLLMENT,
    NOT_AUTHORIZED_COURSE_ENROLLMENTS,
    PREREQUISITES_MISSING,
    enrollment_created,
)
from domain.shared.clock import Clock
from domain.shared.errors import Forbidden, InvalidInput, NotFound
from domain.shared.ids import new_id
from domain.shared.jobs import queue_email
from domain.shared.ports import EmailMessage, JobQueue
from domain.shared.spreadsheets import starts_a_formula

MAX_ROWS = 10_000
BATCH = 500  # rows per transaction
INVITATION_TTL = timedelta(days=7)

NO_EMAIL_COLUMN = "CSV must have an email column"
TOO_MANY_ROWS = "At most 10,000 rows per import"
INVALID_EMAIL = "Invalid email"
FORMULA = "Values may not start with =, +, -, @, tab or carriage return"
ONLY_ADMINS_IGNORE = "Only admins may ignore prerequisites"


@dataclass(frozen=True, slots=True)
class RowError:
    row: int  # data rows from 1 (the header is not counted)
    email: str
    message: str


@dataclass(slots=True)
class RosterResult:
    created_users: int = 0
    enrolled: int = 0
    already_enrolled: int = 0
    errors: list[RowError] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Person:
    row: int
    email: str
    full_name: str


def _columns(header: Row) -> tuple[int, int | None]:
    names = [name.strip().lstrip("\ufeff").lower() for name in header]
    if "email" not in names:
        raise InvalidInput(NO_EMAIL_COLUMN)
    return names.index("email"), names.index("full_name") if "full_name" in names else None


def _cell(row: Row, index: int | None) -> str:
    return row[index].strip() if index is not None and index < len(row) else ""


def _name_of(email: str, given: str) -> str:
    """The name given, or the email's local part when it is too short to be one."""
    name = given[:255]
    return name if len(name) >= 2 else email.split("@", 1)[0][:255].ljust(2, "_")


def _people(rows: Iterator[Row], email_at: int, name_at: int | None, result: RosterResult) -> Iterable[_Person]:
    """The rows worth acting on; bad ones become errors, a repeated email counts as enrolled."""
    seen: set[str] = set()
    next(rows, None)  # the header
    for number, row in enumerate(rows, start=1):
        if not any(cell.strip() for cell in row):
            continue  # a blank line
        raw, name = _cell(row, email_at), _cell(row, name_at)
        if starts_a_formula(raw) or starts_a_formula(name):
            result.errors.append(RowError(number, raw, FORMULA))
            continue
        email = normalize_email(raw)
        if not is_email(email):
            result.errors.append(RowError(number, raw, INVALID_EMAIL))
            continue
        if email in seen:
            result.already_enrolled += 1
            continue
        seen.add(email)
        yield _Person(number, email, _name_of(email, name))


@dataclass(slots=True)
class RosterImport:
    uow: RosterUnitOfWorkFactory
    tokens: Tokens
    queue: JobQueue
    clock: Clock
    frontend_url: str = "http://localhost:3000"

    async def run(
        self, actor: User, course_id: UUID, roster: Roster, *, dry_run: bool = False, ignore_prerequisites: bool = False
    ) -> RosterResult:
        if ignore_prerequisites and actor.role is not Role.ADMIN:
            raise Forbidden(ONLY_ADMINS_IGNORE)
        async with self.uow() as uow:
            course = await uow.courses.get(course_id)
            if course is None:
                raise NotFound(COURSE_NOT_FOUND)
            if not catalog_rules.can_manage(actor, course):
                raise Forbidden(NOT_AUTHORIZED_COURSE_ENROLLMENTS)
            requires = bool(await uow.courses.prerequisites(course_id)) and not ignore_prerequisites
        rows = roster.rows()
        header = next(rows, None)
        if header is None:
            raise InvalidInput(NO_EMAIL_COLUMN)
        email_at, name_at = _columns(header)
        if sum(1 for _ in islice(rows, MAX_ROWS + 1)) > MAX_ROWS:
            raise InvalidInput(TOO_MANY_ROWS)
        result = RosterResult()
        people = _people(roster.rows(), email_at, name_at, result)
        while batch := list(islice(people, BATCH)):
            await self._batch(actor, course, batch, result, dry_run=dry_run, requires=requires)
        return result

    async def _batch(
        self, actor: User, course: Course, people: list[_Person], result: RosterResult, *, dry_run: bool, requires: bool
    ) -> None:
        """One transaction: the accounts missing, then the enrollments missing, with their events."""
        now = self.clock.now()
        invitations: list[EmailMessage] = []
        async with self.uow() as uow:
            found = {u.email: u for u in await uow.users.by_emails([p.email for p in people])}
            new = [self._account(p, now) for p in people if p.email not in found]
            if new:
                await uow.users.add_absent(new)
                ours = {u.id for u in new}
                found = {u.email: u for u in await uow.users.by_emails([p.email for p in people])}
                invitations = [self._invitation(u, course, now) for u in found.values() if u.id in ours]
                result.created_users += len(invitations)
            students = [(p, found[p.email]) for p in people if p.email in found]
            enrolled = await uow.enrollments.of_students(course.id, [u.id for _, u in students])
            lacking = (
                await uow.courses.lacking_prerequisites(course.id, [u.id for _, u in students]) if requires else set()
            )
            total = await uow.lessons.count(course.id)
            fresh: list[Enrollment] = []
            again: list[Enrollment] = []
            for person, user in students:
                existing = enrolled.get(user.id)
                if existing is not None and existing.status is not EnrollmentStatus.DROPPED:
                    result.already_enrolled += 1
                    continue
                if user.id in lacking:
                    result.errors.append(RowError(person.row, person.email, PREREQUISITES_MISSING))
                    continue
                if existing is not None:
                    existing.reactivate(now)
                    again.append(existing)
                else:
                    fresh.append(
                        Enrollment.new(
                            id=new_id(), student_id=user.id, course_id=course.id, total_lessons=total, now=now
                        )
                    )
            created = await uow.enrollments.add_all_absent(fresh)
            made_now = [e for e in fresh if e.id in created]
            await uow.enrollments.save_all(again)
            result.enrolled += len(made_now) + len(again)
            result.already_enrolled += len(fresh) - len(made_now)  # enrolled meanwhile by themselves
            await uow.outbox.add_all([enrollment_created(e) for e in made_now])
            await uow.audit.add_all(
                [
                    audit_entry("enrollment_imported", ENROLLMENT, e.id, actor, now, course_id=course.id)
                    for e in (*made_now, *again)
                ]
            )
            if dry_run:
                return  # leaving without commit rolls it all back
            await uow.commit()
        for message in invitations:
            await queue_email(self.queue, message)

    def _account(self, person: _Person, now: datetime) -> User:
        """A student without a password: they choose one through the invitation."""
        return User(
            id=new_id(),
            email=person.email,
            full_name=person.full_name,
            role=Role.STUDENT,
            password_hash=None,
            email_verified_at=now,  # the manager vouched for the address; the link proves it
            created_at=now,
            updated_at=now,
        )

    def _invitation(self, user: User, course: Course, now: datetime) -> EmailMessage:
        token, _ = self.tokens.mint(user, TokenType.PASSWORD_RESET, INVITATION_TTL, now)
        return emails.invited(user.email, user.full_name, course.title, self.frontend_url, token)
