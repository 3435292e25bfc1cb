"""The notification repositories on one AsyncSession (API §13)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Table, delete, exists, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.sql.assignments_repositories import ASSIGNMENTS, SUBMISSIONS
from adapters.sql.catalog_repositories import COURSES, ENROLLMENTS
from adapters.sql.integrations import OUTBOX, claim_events
from adapters.sql.mappers import entity_from_row, row_values
from adapters.sql.models import ASSIGNMENT_REMINDERS, NOTIFICATION_PREFERENCES, NotificationRow
from adapters.sql.paging import page_in
from adapters.sql.statements import insert_ignoring_conflicts, upsert
from domain.learning.model import EnrollmentStatus
from domain.notifications.model import Channel, Notification, NotificationType, Preferences
from domain.notifications.ports import Compose, CourseFacts, DueAssignment, Fed
from domain.shared.pagination import Page, PageParams

NOTIFICATIONS = cast(Table, NotificationRow.__table__)
PREFERENCES = NOTIFICATION_PREFERENCES


def notification_from_row(row: Any) -> Notification:
    return entity_from_row(Notification, row, type=NotificationType)


class SqlNotificationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add_all(self, notifications: Sequence[Notification]) -> list[Notification]:
        if not notifications:
            return []
        statement = insert_ignoring_conflicts(self._s, NOTIFICATIONS, ["event_id", "user_id"])
        rows = [row_values(n) for n in notifications]
        # The rows it inserted known by what it returns (drivers differ in what `rowcount` says for
        # a skipped conflict or a batch). Given as parameter sets, not `.values(rows)`: the driver
        # batches them into multi-row statements from one compiled form, where a statement built
        # with every row in it is compiled anew each time (ten times the CPU, in the relay's loop).
        inserted = {row.id for row in await self._s.execute(statement.returning(NOTIFICATIONS.c.id), rows)}
        return [n for n in notifications if n.id in inserted]

    def _mine(self, user_id: UUID, notification_id: UUID) -> Any:
        return (NOTIFICATIONS.c.user_id == user_id) & (NOTIFICATIONS.c.id == notification_id)

    async def page(self, user_id: UUID, *, unread_only: bool, params: PageParams) -> Page[Notification]:
        query = select(NOTIFICATIONS).where(NOTIFICATIONS.c.user_id == user_id)
        if unread_only:
            query = query.where(NOTIFICATIONS.c.read_at.is_(None))
        ordered = query.order_by(NOTIFICATIONS.c.created_at.desc(), NOTIFICATIONS.c.id.desc())
        return await page_in(self._s, ordered, params, notification_from_row)

    async def since(self, user_id: UUID, after: UUID, not_before: datetime, limit: int) -> list[Notification]:
        query = (
            select(NOTIFICATIONS)
            .where(
                NOTIFICATIONS.c.user_id == user_id, NOTIFICATIONS.c.id > after, NOTIFICATIONS.c.created_at >= not_before
            )
            .order_by(NOTIFICATIONS.c.id.desc())
            .limit(limit)
        )
        return [notification_from_row(row) for row in reversed((await self._s.execute(query)).all())]

    async def unread_count(self, user_id: UUID) -> int:
        query = select(func.count()).where(NOTIFICATIONS.c.user_id == user_id, NOTIFICATIONS.c.read_at.is_(None))
        return int((await self._s.execute(query)).scalar_one())

    async def mark_read(self, user_id: UUID, notification_id: UUID, now: datetime) -> bool:
        unread = self._mine(user_id, notification_id) & NOTIFICATIONS.c.read_at.is_(None)
        if (await self._s.execute(update(NOTIFICATIONS).where(unread).values(read_at=now))).rowcount:  # type: ignore[attr-defined]
            return True
        found = await self._s.execute(select(NOTIFICATIONS.c.id).where(self._mine(user_id, notification_id)))
        return found.first() is not None  # read already: it stays as it was

    async def mark_all_read(self, user_id: UUID, now: datetime) -> None:
        unread = (NOTIFICATIONS.c.user_id == user_id) & NOTIFICATIONS.c.read_at.is_(None)
        await self._s.execute(update(NOTIFICATIONS).where(unread).values(read_at=now))

    async def delete(self, user_id: UUID, notification_id: UUID) -> bool:
        result = await self._s.execute(delete(NOTIFICATIONS).where(self._mine(user_id, notification_id)))
        return bool(result.rowcount)  # type: ignore[attr-defined]


class SqlPreferenceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, user_id: UUID) -> Preferences:
        row = (await self._s.execute(select(PREFERENCES.c.off).where(PREFERENCES.c.user_id == user_id))).first()
        if row is None:
            return Preferences()
        return Preferences(frozenset((Channel(channel), NotificationType(kind)) for channel, kind in row.off))

    async def put(self, user_id: UUID, preferences: Preferences, now: datetime) -> None:
        off = sorted([channel.value, kind.value] for channel, kind in preferences.off)
        await self._s.execute(
            upsert(self._s, PREFERENCES, {"user_id": user_id, "off": off, "updated_at": now}, ["user_id"])
        )


class SqlReminderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def due_between(self, start: datetime, end: datetime) -> list[DueAssignment]:
        query = (
            select(
                ASSIGNMENTS.c.id,
                ASSIGNMENTS.c.course_id,
                ASSIGNMENTS.c.title,
                COURSES.c.title.label("course_title"),
                ASSIGNMENTS.c.due_at,
            )
            .join(COURSES, COURSES.c.id == ASSIGNMENTS.c.course_id)
            .where(
                ASSIGNMENTS.c.is_published.is_(True),
                COURSES.c.is_published.is_(True),
                ASSIGNMENTS.c.due_at > start,
                ASSIGNMENTS.c.due_at <= end,
            )
            .order_by(ASSIGNMENTS.c.due_at, ASSIGNMENTS.c.id)
        )
        return [entity_from_row(DueAssignment, row) for row in await self._s.execute(query)]

    async def claim(self, assignment_id: UUID, course_id: UUID, now: datetime) -> list[UUID]:
        handed_in = exists().where(
            SUBMISSIONS.c.assignment_id == assignment_id, SUBMISSIONS.c.student_id == ENROLLMENTS.c.student_id
        )
        students = select(
            literal(assignment_id, ASSIGNMENT_REMINDERS.c.assignment_id.type),
            ENROLLMENTS.c.student_id,
            literal(now, ASSIGNMENT_REMINDERS.c.reminded_at.type),
        ).where(
            ENROLLMENTS.c.course_id == course_id,
            ENROLLMENTS.c.status == EnrollmentStatus.ACTIVE.value,
            ~handed_in,
        )
        statement = insert_ignoring_conflicts(self._s, ASSIGNMENT_REMINDERS, ["assignment_id", "student_id"])
        statement = statement.from_select(["assignment_id", "student_id", "reminded_at"], students)
        rows = await self._s.execute(statement.returning(ASSIGNMENT_REMINDERS.c.student_id))
        return sorted(row.student_id for row in rows)


class SqlNotificationFeed:
    """The inbox's claim on the outbox: events not notified yet, each batch in one transaction."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def feed(self, now: datetime, limit: int, compose: Compose) -> Fed:
        waiting = OUTBOX.c.notified_at.is_(None)
        async with self._sessions() as s, s.begin():
            events = await claim_events(s, waiting, limit)
            if not events:
                return Fed([], [])
            stored = await SqlNotificationRepository(s).add_all(await compose(events))
            await s.execute(update(OUTBOX).where(OUTBOX.c.id.in_([e.id for e in events])).values(notified_at=now))
        return Fed(events, stored)


class SqlRecipientReader:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def courses(self, course_ids: set[UUID]) -> dict[UUID, CourseFacts]:
        if not course_ids:
            return {}
        query = select(COURSES.c.id, COURSES.c.title, COURSES.c.instructor_id).where(COURSES.c.id.in_(course_ids))
        async with self._engine.connect() as conn:
            return {row.id: CourseFacts(row.title, row.instructor_id) for row in await conn.execute(query)}

    async def enrolled(self, course_ids: set[UUID]) -> dict[UUID, list[tuple[UUID, datetime]]]:
        if not course_ids:
            return {}
        query = select(ENROLLMENTS.c.course_id, ENROLLMENTS.c.student_id, ENROLLMENTS.c.enrolled_at).where(
            ENROLLMENTS.c.course_id.in_(course_ids),
            ENROLLMENTS.c.status.in_([EnrollmentStatus.ACTIVE.value, EnrollmentStatus.COMPLETED.value]),
        )
        found: dict[UUID, list[tuple[UUID, datetime]]] = {}
        async with self._engine.connect() as conn:
            for row in await conn.execute(query.order_by(ENROLLMENTS.c.course_id, ENROLLMENTS.c.student_id)):
                found.setdefault(row.course_id, []).append((row.student_id, row.enrolled_at))
        return found

    async def courses_of(self, enrollment_ids: set[UUID], assignment_ids: set[UUID]) -> dict[UUID, UUID]:
        found: dict[UUID, UUID] = {}
        if not enrollment_ids and not assignment_ids:
            return found
        async with self._engine.connect() as conn:
            for table, ids in ((ENROLLMENTS, enrollment_ids), (ASSIGNMENTS, assignment_ids)):
                if ids:
                    query = select(table.c.id, table.c.course_id).where(table.c.id.in_(ids))
                    found.update({row.id: row.course_id for row in await conn.execute(query)})
        return found

    async def wants_email(self, user_id: UUID, kind: str) -> bool:
        off = await self.switched_off(Channel.EMAIL, {(user_id, NotificationType(kind))})
        return not off

    async def switched_off(
        self, channel: Channel, wanted: set[tuple[UUID, NotificationType]]
    ) -> set[tuple[UUID, NotificationType]]:
        users = {user_id for user_id, _ in wanted}
        if not users:
            return set()
        query = select(PREFERENCES.c.user_id, PREFERENCES.c.off).where(PREFERENCES.c.user_id.in_(users))
        off: set[tuple[UUID, NotificationType]] = set()
        async with self._engine.connect() as conn:
            for row in await conn.execute(query):
                for name, kind in row.off:
                    pair = (row.user_id, NotificationType(kind))
                    if name == channel.value and pair in wanted:
                        off.add(pair)
        return off
