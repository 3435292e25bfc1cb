"""xAPI statements on SQL (API §15.1): staged from the outbox, claimed in batches, recorded."""

from __future__ import annotations

from datetime import datetime
from typing import cast
from uuid import UUID

from sqlalchemy import Table, delete, or_, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.sql.integrations import OUTBOX, claim_events, claimable
from adapters.sql.models import XAPI_STATEMENTS, AssignmentRow, CourseRow, LessonRow, QuizRow
from adapters.sql.statements import insert_ignoring_conflicts
from domain.shared.ids import new_id
from domain.xapi.ports import Activity, ClaimedBatch, Compose

S = XAPI_STATEMENTS
PENDING, SENT, FAILED = "pending", "sent", "failed"


class SqlStatementStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def stage(self, now: datetime, limit: int, compose: Compose) -> int:
        waiting = OUTBOX.c.xapi_at.is_(None)
        async with self._sessions() as s, s.begin():
            events = await claim_events(s, waiting, limit)
            if not events:
                return 0
            statements = await compose(events)
            if statements:
                values = [
                    {
                        "id": UUID(statement["id"]),
                        "statement": statement,
                        "status": PENDING,
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                    for statement in statements
                ]
                await s.execute(insert_ignoring_conflicts(s, S), values)
            await s.execute(update(OUTBOX).where(OUTBOX.c.id.in_([e.id for e in events])).values(xapi_at=now))
        return len(events)

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> UUID | None:
        due = (
            (S.c.status == PENDING)
            & (S.c.next_attempt_at <= now)
            & or_(S.c.claimed_until.is_(None), S.c.claimed_until < now)
        )
        claim_id = new_id()
        async with self._sessions() as s, s.begin():
            batch = claimable(s, select(S.c.id).where(due).order_by(S.c.next_attempt_at, S.c.id).limit(limit))
            taken = await s.execute(
                update(S)
                .where(S.c.id.in_(batch.scalar_subquery()), due)
                .values(claim_id=claim_id, claimed_until=lease_until)
                .returning(S.c.id)
            )
            return claim_id if taken.first() is not None else None

    async def claimed(self, claim_id: UUID, now: datetime) -> ClaimedBatch | None:
        held = (S.c.claim_id == claim_id) & (S.c.claimed_until >= now) & (S.c.status == PENDING)
        async with self._sessions() as s:
            rows = (await s.execute(select(S.c.statement, S.c.attempts).where(held).order_by(S.c.id))).all()
        if not rows:
            return None
        return ClaimedBatch(claim_id, [dict(row.statement) for row in rows], max(row.attempts for row in rows))

    async def sent(self, claim_id: UUID, now: datetime) -> None:
        await self._record(claim_id, status=SENT, sent_at=now, last_error=None)

    async def failed(
        self, claim_id: UUID, now: datetime, *, attempts: int, next_attempt_at: datetime | None, error: str
    ) -> None:
        await self._record(
            claim_id,
            status=PENDING if next_attempt_at is not None else FAILED,
            attempts=attempts,
            next_attempt_at=next_attempt_at,
            last_error=error,
        )

    async def _record(self, claim_id: UUID, **values: object) -> None:
        async with self._sessions() as s, s.begin():
            await s.execute(
                update(S)
                .where(S.c.claim_id == claim_id, S.c.status == PENDING)
                .values(claim_id=None, claimed_until=None, **values)
            )

    async def purge(self, sent_before: datetime, limit: int) -> int:
        batch = select(S.c.id).where(S.c.status == SENT, S.c.sent_at < sent_before).limit(limit)
        async with self._sessions() as s, s.begin():
            done = await s.execute(delete(S).where(S.c.id.in_(batch.scalar_subquery())).returning(S.c.id))
            return len(done.all())


COURSES = cast(Table, CourseRow.__table__)
LESSONS = cast(Table, LessonRow.__table__)
QUIZZES = cast(Table, QuizRow.__table__)
ASSIGNMENTS = cast(Table, AssignmentRow.__table__)


class SqlActivityNames:
    """Titles of the activities statements name, and their courses: one query for a batch."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def activities(
        self, *, courses: set[UUID], lessons: set[UUID], quizzes: set[UUID], assignments: set[UUID]
    ) -> dict[UUID, Activity]:
        parts = [
            select(table.c.id, table.c.title, course).where(table.c.id.in_(ids))
            for table, course, ids in (
                (COURSES, COURSES.c.id, courses),
                (LESSONS, LESSONS.c.course_id, lessons),
                (QUIZZES, QUIZZES.c.course_id, quizzes),
                (ASSIGNMENTS, ASSIGNMENTS.c.course_id, assignments),
            )
            if ids
        ]
        if not parts:
            return {}
        async with self._engine.connect() as conn:
            rows = (await conn.execute(union_all(*parts))).all()
        return {row[0]: Activity(name=row[1], course_id=row[2]) for row in rows}
