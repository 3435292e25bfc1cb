"""The outbox and audit log (written inside a unit of work) and the webhook delivery state."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import ColumnElement, Table, delete, func, insert, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.sql.mappers import delivery_from_row, row_values
from adapters.sql.models import ROW_COUNTS, AuditLogRow, OutboxEventRow, WebhookDeliveryRow
from adapters.sql.paging import kept_count, page_of_rows
from adapters.sql.statements import dialect_of, insert_ignoring_conflicts
from domain.integrations.model import (
    LEARNING_RECORDS,
    AuditEntry,
    ClaimedDelivery,
    Delivery,
    DeliveryFilter,
    DeliveryStatus,
    DomainEvent,
)
from domain.integrations.webhooks import event_body
from domain.shared.ids import new_id
from domain.shared.pagination import Page, PageParams

OUTBOX = cast(Table, OutboxEventRow.__table__)
DELIVERIES = cast(Table, WebhookDeliveryRow.__table__)
AUDIT = cast(Table, AuditLogRow.__table__)


class SqlOutbox:
    """Writes events in the unit of work's transaction (`enabled=False` records nothing)."""

    def __init__(self, session: AsyncSession, *, enabled: bool) -> None:
        self._s = session
        self._enabled = enabled
        self.recorded = False  # whether the transaction holds events (its commit wakes the relay)

    async def add(self, event: DomainEvent) -> None:
        await self.add_all([event])

    async def add_all(self, events: Sequence[DomainEvent]) -> None:
        if self._enabled and events:
            self.recorded = True
            rows = [
                {"id": e.id, "type": e.type, "occurred_at": e.occurred_at, "payload": event_body(e)} for e in events
            ]
            await self._s.execute(insert(OUTBOX), rows)


class SqlAuditLog:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, entry: AuditEntry) -> None:
        await self._s.execute(insert(AUDIT).values(**row_values(entry)))

    async def add_all(self, entries: Sequence[AuditEntry]) -> None:
        if entries:
            await self._s.execute(insert(AUDIT), [row_values(entry) for entry in entries])


def claimable(session: AsyncSession, query: Any) -> Any:
    """Rows another relay holds are skipped, not waited for (PostgreSQL); SQLite has one writer."""
    return query.with_for_update(skip_locked=True) if dialect_of(session) == "postgresql" else query


async def claim_events(session: AsyncSession, waiting: ColumnElement[bool], limit: int) -> list[DomainEvent]:
    """Up to `limit` outbox events matching `waiting`, oldest first, claimed for this transaction
    (another consumer skips them on PostgreSQL; SQLite has one writer)."""
    query = select(OUTBOX.c.id, OUTBOX.c.type, OUTBOX.c.occurred_at, OUTBOX.c.payload)
    rows = (await session.execute(claimable(session, query.where(waiting).order_by(OUTBOX.c.id).limit(limit)))).all()
    return [
        DomainEvent(id=row.id, type=row.type, occurred_at=row.occurred_at, data=row.payload.get("data", {}))
        for row in rows
    ]


class SqlDeliveryStore:
    """`xapi`: an LRS is configured, so an event is purged only once its statement is staged."""

    def __init__(self, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], *, xapi: bool = False) -> None:
        self._engine = engine
        self._sessions = sessions
        self._xapi = xapi

    async def backlog(self) -> tuple[int, datetime | None]:
        unrelayed = OUTBOX.c.relayed_at.is_(None)
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(func.count(), func.min(OUTBOX.c.occurred_at)).where(unrelayed))).one()
        return int(row[0]), row[1]

    async def relay(self, targets: Sequence[str], now: datetime, limit: int) -> int:
        unrelayed = OUTBOX.c.relayed_at.is_(None)
        async with self._sessions() as s, s.begin():
            batch = claimable(s, select(OUTBOX.c.id).where(unrelayed).order_by(OUTBOX.c.id).limit(limit))
            # `unrelayed` again in the UPDATE: a row another relay took meanwhile is re-checked, not re-taken.
            claimed = (
                await s.execute(
                    update(OUTBOX)
                    .where(OUTBOX.c.id.in_(batch.scalar_subquery()), unrelayed)
                    .values(relayed_at=now)
                    .returning(OUTBOX.c.id, OUTBOX.c.type)
                )
            ).all()
            deliveries = [
                {
                    "id": new_id(),
                    "event_id": event_id,
                    "event_type": event_type,
                    "target_url": target,
                    "status": DeliveryStatus.PENDING.value,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
                for event_id, event_type in claimed
                if event_type not in LEARNING_RECORDS  # for xAPI only, never webhooks
                for target in targets
            ]
            if deliveries:
                await s.execute(insert_ignoring_conflicts(s, DELIVERIES), deliveries)
        return len(claimed)

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[tuple[UUID, UUID]]:
        due = (
            (DELIVERIES.c.status == DeliveryStatus.PENDING.value)
            & (DELIVERIES.c.next_attempt_at <= now)
            & or_(DELIVERIES.c.claimed_until.is_(None), DELIVERIES.c.claimed_until < now)
        )
        claim_id = new_id()
        async with self._sessions() as s, s.begin():
            batch = claimable(s, select(DELIVERIES.c.id).where(due).order_by(DELIVERIES.c.next_attempt_at).limit(limit))
            rows = await s.execute(
                update(DELIVERIES)
                .where(DELIVERIES.c.id.in_(batch.scalar_subquery()), due)
                .values(claim_id=claim_id, claimed_until=lease_until)
                .returning(DELIVERIES.c.id)
            )
            return [(delivery_id, claim_id) for (delivery_id,) in rows]

    async def start_attempt(self, delivery_id: UUID, claim_id: UUID, lease_until: datetime) -> ClaimedDelivery | None:
        async with self._sessions() as s, s.begin():
            row = (
                await s.execute(
                    update(DELIVERIES)
                    .where(self._held(delivery_id, claim_id), DELIVERIES.c.status == DeliveryStatus.PENDING.value)
                    .values(claimed_until=lease_until)
                    .returning(DELIVERIES.c.target_url, DELIVERIES.c.attempts, DELIVERIES.c.event_id)
                )
            ).first()
            if row is None:
                return None
            payload = (await s.execute(select(OUTBOX.c.payload).where(OUTBOX.c.id == row.event_id))).scalar_one()
        return ClaimedDelivery(
            id=delivery_id, claim_id=claim_id, target_url=row.target_url, attempts=row.attempts, event=dict(payload)
        )

    async def finish_attempt(
        self, delivery_id: UUID, claim_id: UUID, values: Mapping[str, object], now: datetime
    ) -> bool:
        async with self._sessions() as s, s.begin():
            result = await s.execute(
                update(DELIVERIES)
                .where(self._held(delivery_id, claim_id))
                .values(**values, claim_id=None, claimed_until=None, updated_at=now)
                .returning(DELIVERIES.c.id)
            )
            return result.first() is not None

    @staticmethod
    def _held(delivery_id: UUID, claim_id: UUID) -> ColumnElement[bool]:
        return (DELIVERIES.c.id == delivery_id) & (DELIVERIES.c.claim_id == claim_id)

    async def page(self, where: DeliveryFilter, params: PageParams) -> Page[Delivery]:
        query = select(DELIVERIES)
        if where.status is not None:
            query = query.where(DELIVERIES.c.status == where.status.value)
        if where.event_type is not None:
            query = query.where(DELIVERIES.c.event_type == where.event_type)
        ordered = query.order_by(DELIVERIES.c.created_at.desc(), DELIVERIES.c.id.desc())
        unfiltered = where.status is None and where.event_type is None
        total = kept_count(ROW_COUNTS, "webhook_deliveries") if unfiltered else None
        return await page_of_rows(self._engine, ordered, params, delivery_from_row, total=total)

    async def get(self, delivery_id: UUID) -> Delivery | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(DELIVERIES).where(DELIVERIES.c.id == delivery_id))).first()
        return delivery_from_row(row) if row else None

    async def purge(self, relayed_before: datetime, limit: int) -> int:
        pending = select(DELIVERIES.c.id).where(
            DELIVERIES.c.event_id == OUTBOX.c.id, DELIVERIES.c.status == DeliveryStatus.PENDING.value
        )
        batch = (
            select(OUTBOX.c.id)
            .where(
                OUTBOX.c.relayed_at < relayed_before,
                OUTBOX.c.notified_at.is_not(None),
                OUTBOX.c.xapi_at.is_not(None) if self._xapi else true(),
                ~pending.exists(),
            )
            .order_by(OUTBOX.c.relayed_at)
            .limit(limit)
        )
        async with self._sessions() as s, s.begin():
            # Deliveries go with their event (ON DELETE CASCADE). A delivery made pending again
            # meanwhile (an admin's retry) is re-checked in the DELETE, so its event stays.
            done = await s.execute(
                delete(OUTBOX).where(OUTBOX.c.id.in_(batch.scalar_subquery()), ~pending.exists()).returning(OUTBOX.c.id)
            )
            return len(done.all())

    async def retry(self, delivery_id: UUID, now: datetime) -> Delivery | None:
        async with self._sessions() as s, s.begin():
            row = (
                await s.execute(
                    update(DELIVERIES)
                    .where(DELIVERIES.c.id == delivery_id, DELIVERIES.c.status == DeliveryStatus.FAILED.value)
                    .values(status=DeliveryStatus.PENDING.value, attempts=0, next_attempt_at=now, updated_at=now)
                    .returning(*DELIVERIES.c)
                )
            ).first()
        return delivery_from_row(row) if row else None
