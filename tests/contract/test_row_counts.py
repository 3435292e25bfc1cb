"""The totals the writes keep (`row_counts`): exact after single and bulk inserts, publishing and
unpublishing, deletes, and a rolled-back transaction, on both backends."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.models import ROW_COUNTS, CourseRow, OutboxEventRow, UserRow, WebhookDeliveryRow

USERS, COURSES, DELIVERIES = UserRow.__table__, CourseRow.__table__, WebhookDeliveryRow.__table__
EVENTS = OutboxEventRow.__table__


async def kept_and_real(engine: AsyncEngine) -> tuple[dict[str, int], dict[str, int]]:
    async with engine.connect() as conn:
        kept = {name: int(n) for name, n in (await conn.execute(select(ROW_COUNTS.c.name, ROW_COUNTS.c.n))).all()}
        counts = {
            "users": select(func.count()).select_from(USERS),
            "courses": select(func.count()).select_from(COURSES),
            "courses:published": select(func.count()).select_from(COURSES).where(COURSES.c.is_published),
            "webhook_deliveries": select(func.count()).select_from(DELIVERIES),
        }
        real = {name: int((await conn.execute(count)).scalar_one()) for name, count in counts.items()}
    return kept, real


def user(n: int) -> dict[str, object]:
    now = datetime.now(UTC)
    return {
        "id": uuid.uuid4(), "email": f"counted-{n}-{uuid.uuid4().hex[:6]}@example.com", "full_name": "Counted",
        "role": "instructor", "password_hash": "x", "is_active": True, "created_at": now, "updated_at": now,
    }  # fmt: skip


def course(instructor: object, n: int, *, published: bool) -> dict[str, object]:
    now = datetime.now(UTC)
    return {
        "id": uuid.uuid4(), "title": f"Course {n}", "slug": f"counted-{n}-{uuid.uuid4().hex[:6]}",
        "instructor_id": instructor, "is_published": published, "created_at": now, "updated_at": now,
    }  # fmt: skip


async def test_kept_counts_follow_every_write(sql_engine: AsyncEngine) -> None:
    kept, real = await kept_and_real(sql_engine)
    assert kept == real
    owner = user(0)
    async with sql_engine.begin() as conn:
        await conn.execute(insert(USERS).values(owner))
        await conn.execute(insert(USERS), [user(n) for n in range(1, 6)])  # one statement, five rows
        await conn.execute(insert(COURSES), [course(owner["id"], n, published=n % 2 == 0) for n in range(10)])
    kept, real = await kept_and_real(sql_engine)
    assert kept == real and real["courses"] >= 10 and real["courses:published"] >= 5
    async with sql_engine.begin() as conn:
        await conn.execute(update(COURSES).values(is_published=True))  # publish all
        await conn.execute(update(COURSES).where(COURSES.c.title == "Course 1").values(is_published=False))
        await conn.execute(update(COURSES).values(title=COURSES.c.title + " (edited)"))  # no count changes
    kept, real = await kept_and_real(sql_engine)
    assert kept == real
    async with sql_engine.connect() as conn:  # a rolled-back change changes no count
        transaction = await conn.begin()
        await conn.execute(insert(USERS).values(user(99)))
        await conn.execute(delete(COURSES))
        await transaction.rollback()
    assert (await kept_and_real(sql_engine))[0] == kept
    async with sql_engine.begin() as conn:
        await conn.execute(delete(COURSES).where(COURSES.c.title.like("Course 2%")))
        await conn.execute(delete(COURSES).where(COURSES.c.is_published.is_(False)))
    kept, real = await kept_and_real(sql_engine)
    assert kept == real


async def test_kept_delivery_counts_follow_the_relay_and_the_purge(sql_engine: AsyncEngine) -> None:
    now = datetime.now(UTC)
    event = {"id": uuid.uuid4(), "type": "course.published", "occurred_at": now, "payload": {}}
    deliveries = [
        {"id": uuid.uuid4(), "event_id": event["id"], "event_type": "course.published",
         "target_url": f"https://hooks.example.com/{n}", "status": "pending", "attempts": 0,
         "created_at": now, "updated_at": now}
        for n in range(4)
    ]  # fmt: skip
    async with sql_engine.begin() as conn:
        await conn.execute(insert(EVENTS).values(event))
        await conn.execute(insert(DELIVERIES), deliveries)
    kept, real = await kept_and_real(sql_engine)
    assert kept == real and real["webhook_deliveries"] >= 4
    async with sql_engine.begin() as conn:
        await conn.execute(update(DELIVERIES).values(status="delivered"))
        await conn.execute(delete(EVENTS).where(EVENTS.c.id == event["id"]))  # deliveries go with it
    kept, real = await kept_and_real(sql_engine)
    assert kept == real
