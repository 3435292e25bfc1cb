"""The retention purge of relayed events and their deliveries, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.engine import session_factory
from adapters.sql.integrations import SqlDeliveryStore
from adapters.sql.models import OutboxEventRow, WebhookDeliveryRow
from adapters.sql.notification_repositories import SqlNotificationFeed
from adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from domain.integrations.model import DeliveryStatus, DomainEvent
from domain.notifications.model import Notification
from tests.contract.test_catalog_repositories import NOW
from tests.contract.test_learning_repositories import count, event

OLD = NOW - timedelta(days=40)
TARGET = ("http://a.example/hook",)


async def no_notifications(events: list[DomainEvent]) -> list[Notification]:
    return []


async def relayed_event(
    uow_factory: SqlUnitOfWorkFactory, store: SqlDeliveryStore, n: int, at: datetime, *, notified: bool = True
) -> None:
    """Event `n`, relayed to the webhook target at `at` and (unless not `notified`) to the inbox."""
    async with uow_factory() as uow:
        await uow.outbox.add(event(n))
        await uow.commit()
    assert await store.relay(TARGET, at, 10) == 1
    if notified:
        assert len((await SqlNotificationFeed(store._sessions).feed(at, 10, no_notifications)).events) == 1


async def finish(store: SqlDeliveryStore, n: int, status: DeliveryStatus, at: datetime) -> None:
    """Record the outcome of event `n`'s delivery (others that are due stay pending)."""
    lease = at + timedelta(seconds=60)
    for delivery_id, claim in await store.claim_due(at, lease, 10):
        claimed = await store.start_attempt(delivery_id, claim, lease)
        assert claimed is not None
        if claimed.event["data"]["n"] == n:
            assert await store.finish_attempt(delivery_id, claim, {"attempts": 1, "status": status}, at)


async def numbers(engine: AsyncEngine) -> set[int]:
    """The `n` of every event left in the outbox."""
    async with engine.connect() as conn:
        return {int(payload["data"]["n"]) for payload in await conn.scalars(select(OutboxEventRow.payload))}


async def test_only_finished_events_past_retention_go_with_their_deliveries(sql_engine: AsyncEngine) -> None:
    uow_factory = SqlUnitOfWorkFactory(session_factory(sql_engine), record_events=True)
    store = SqlDeliveryStore(sql_engine, session_factory(sql_engine))
    await relayed_event(uow_factory, store, 1, OLD)
    await finish(store, 1, DeliveryStatus.DELIVERED, OLD)
    await relayed_event(uow_factory, store, 2, OLD)
    await finish(store, 2, DeliveryStatus.FAILED, OLD + timedelta(minutes=2))
    await relayed_event(uow_factory, store, 3, OLD)  # still being delivered
    await relayed_event(uow_factory, store, 4, NOW)  # recent
    await finish(store, 4, DeliveryStatus.DELIVERED, NOW)
    await relayed_event(uow_factory, store, 6, OLD, notified=False)  # the inbox has not had it yet
    await finish(store, 6, DeliveryStatus.DELIVERED, OLD)
    async with uow_factory() as uow:
        await uow.outbox.add(event(5))  # not relayed yet
        await uow.commit()

    cutoff = NOW - timedelta(days=30)
    assert [await store.purge(cutoff, 1) for _ in range(3)] == [1, 1, 0]  # in batches
    assert await numbers(sql_engine) == {3, 4, 5, 6}
    assert await count(sql_engine, WebhookDeliveryRow) == 3  # event 3's (pending), 4's and 6's
    # Event 3's delivery finishes (late): it goes at the next purge.
    await finish(store, 3, DeliveryStatus.DELIVERED, NOW + timedelta(minutes=2))
    assert await store.purge(cutoff, 10) == 1
    assert await numbers(sql_engine) == {4, 5, 6}
    assert await count(sql_engine, WebhookDeliveryRow) == 2
