"""Learning repositories, the outbox, the audit log and the delivery store on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.engine import session_factory
from adapters.sql.integrations import SqlDeliveryStore
from adapters.sql.learning_repositories import SqlLearningReader
from adapters.sql.models import AuditLogRow, OutboxEventRow
from adapters.sql.prepared import PreparedReads
from adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from domain.integrations.audit import audit_entry
from domain.integrations.context import current_request_id
from domain.integrations.model import DeliveryFilter, DeliveryStatus, DomainEvent
from domain.learning.model import COMPLETE, Enrollment, ProgressUpdate
from domain.shared.ids import new_id
from domain.shared.pagination import PageParams
from tests.contract.test_catalog_repositories import NOW, make_course, make_lesson
from tests.contract.test_identity_repositories import add as add_user
from tests.contract.test_identity_repositories import make_user


@pytest.fixture
def events_uow(sql_engine: AsyncEngine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(session_factory(sql_engine), record_events=True)


async def course_with_lessons(uow_factory: SqlUnitOfWorkFactory, lessons: int) -> tuple[Enrollment, list[object]]:
    owner = make_user(f"owner-{new_id().hex[:8]}@example.com")
    student = make_user(f"student-{new_id().hex[:8]}@example.com")
    await add_user(uow_factory, owner)
    await add_user(uow_factory, student)
    course = make_course(owner, f"course-{new_id().hex[:8]}")
    made = [make_lesson(course, n) for n in range(1, lessons + 1)]
    enrollment = Enrollment.new(id=new_id(), student_id=student.id, course_id=course.id, total_lessons=lessons, now=NOW)
    async with uow_factory() as uow:
        await uow.courses.add(course)
        for lesson in made:
            await uow.lessons.add(lesson)
        assert await uow.enrollments.add_if_absent(enrollment)
        await uow.commit()
    return enrollment, made


async def test_enrollments_are_unique_per_student_and_course(uow_factory: SqlUnitOfWorkFactory) -> None:
    enrollment, _ = await course_with_lessons(uow_factory, 1)
    twin = Enrollment.new(
        id=new_id(), student_id=enrollment.student_id, course_id=enrollment.course_id, total_lessons=1, now=NOW
    )
    async with uow_factory() as uow:
        assert not await uow.enrollments.add_if_absent(twin)
        found = await uow.enrollments.of_student(enrollment.student_id, enrollment.course_id)
    assert found is not None
    assert found.id == enrollment.id
    assert found.progress_percentage == Decimal("0.00")
    assert found.enrolled_at == NOW


async def test_progress_round_trips_and_totals_count_what_exists(uow_factory: SqlUnitOfWorkFactory) -> None:
    enrollment, lessons = await course_with_lessons(uow_factory, 3)
    async with uow_factory() as uow:
        stored = await uow.enrollments.get(enrollment.id, lock=True)
        assert stored is not None
        for lesson, update in zip(lessons[:2], (COMPLETE, ProgressUpdate(time_spent_seconds=40)), strict=True):
            row = stored.record_progress(None, lesson.id, update, NOW, new_id())  # type: ignore[attr-defined]
            row.time_spent_seconds += 5
            await uow.progress.save(row, is_new=True)
        totals = await uow.enrollments.totals(enrollment.id, enrollment.course_id)
        assert (totals.completed_lessons, totals.total_lessons, totals.time_spent_seconds) == (1, 3, 50)
        stored.recompute(totals, NOW)
        await uow.enrollments.save(stored)
        await uow.commit()
    async with uow_factory() as uow:
        again = await uow.enrollments.get(enrollment.id)
        row = await uow.progress.get(enrollment.id, lessons[0].id)  # type: ignore[attr-defined]
        by_course = await uow.enrollments.course_totals(enrollment.course_id)
    assert again is not None
    assert row is not None
    assert (again.progress_percentage, again.completed_lessons_count, again.total_time_spent_seconds) == (
        Decimal("33.33"),
        1,
        50,
    )
    assert (row.completion_percentage, row.status.value) == (Decimal("100.00"), "completed")
    assert by_course[enrollment.id] == totals
    # A deleted lesson takes its progress with it.
    async with uow_factory() as uow:
        await uow.lessons.remove(lessons[0])  # type: ignore[arg-type]
        await uow.commit()
    async with uow_factory() as uow:
        totals = await uow.enrollments.totals(enrollment.id, enrollment.course_id)
    assert (totals.completed_lessons, totals.total_lessons, totals.time_spent_seconds) == (0, 2, 45)


async def test_reader_pages_and_stats(uow_factory: SqlUnitOfWorkFactory, prepared_reads: PreparedReads) -> None:
    enrollment, _ = await course_with_lessons(uow_factory, 1)
    reader = SqlLearningReader(prepared_reads)
    found = await reader.enrollment(enrollment.id)
    assert found is not None
    assert found[0].id == enrollment.id
    assert await reader.enrollment(new_id()) is None
    page = await reader.of_student(enrollment.student_id, PageParams(page=1, page_size=10))
    assert ([e.id for e in page.items], page.total) == ([enrollment.id], 1)
    empty = await reader.of_course(enrollment.course_id, PageParams(page=5, page_size=10))
    assert (empty.items, empty.total) == ([], 1)
    stats = await reader.stats(enrollment.course_id)
    assert (stats.total_enrollments, stats.active_enrollments, stats.completed_enrollments, stats.average_progress) == (
        1,
        1,
        0,
        Decimal("0.00"),
    )
    none = await reader.stats(new_id())
    assert (none.total_enrollments, none.average_progress) == (0, Decimal("0.00"))


def event(n: int = 0) -> DomainEvent:
    return DomainEvent(type="enrollment.created", occurred_at=NOW + timedelta(seconds=n), data={"n": n})


async def count(engine: AsyncEngine, table: type) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def test_the_outbox_and_audit_log_commit_with_the_change_or_not_at_all(
    events_uow: SqlUnitOfWorkFactory, sql_engine: AsyncEngine
) -> None:
    token = current_request_id.set("req-42")
    try:
        async with events_uow() as uow:
            await uow.outbox.add(event())
            await uow.audit.add(audit_entry("course_published", "course", new_id(), None, NOW))
            # left without commit: rolled back
        assert await count(sql_engine, OutboxEventRow) == 0
        assert await count(sql_engine, AuditLogRow) == 0
        async with events_uow() as uow:
            await uow.outbox.add(event())
            await uow.audit.add(audit_entry("course_published", "course", new_id(), None, NOW, by="x"))
            await uow.commit()
    finally:
        current_request_id.reset(token)
    assert await count(sql_engine, OutboxEventRow) == 1
    async with sql_engine.connect() as conn:
        row = (await conn.execute(select(AuditLogRow.request_id, AuditLogRow.details))).one()
    assert row == ("req-42", {"by": "x"})


async def test_without_targets_the_outbox_records_nothing(
    uow_factory: SqlUnitOfWorkFactory, sql_engine: AsyncEngine
) -> None:
    async with uow_factory() as uow:
        await uow.outbox.add(event())
        await uow.commit()
    assert await count(sql_engine, OutboxEventRow) == 0


async def test_relays_claim_each_event_once_and_deliveries_once(
    events_uow: SqlUnitOfWorkFactory, sql_engine: AsyncEngine
) -> None:
    async with events_uow() as uow:
        for n in range(30):
            await uow.outbox.add(event(n))
        await uow.commit()
    stores = [SqlDeliveryStore(sql_engine, session_factory(sql_engine)) for _ in range(3)]
    targets = ("http://a.example/hook", "http://b.example/hook")
    relayed = await asyncio.gather(*(store.relay(targets, NOW, 7) for store in stores for _ in range(3)))
    while sum(relayed) < 30:
        relayed.append(await stores[0].relay(targets, NOW, 7))
    assert sum(relayed) == 30
    assert await stores[0].relay(targets, NOW, 7) == 0
    page = await stores[0].page(DeliveryFilter(), PageParams(page=1, page_size=100))
    assert page.total == 60
    assert {d.status for d in page.items} == {DeliveryStatus.PENDING}
    lease = NOW + timedelta(seconds=60)
    claims = await asyncio.gather(*(store.claim_due(NOW, lease, 25) for store in stores))
    claimed = [delivery_id for batch in claims for delivery_id, _ in batch]
    claimed += [d for d, _ in await stores[0].claim_due(NOW, lease, 100)]
    assert len(claimed) == len(set(claimed)) == 60
    assert await stores[0].claim_due(NOW, lease, 100) == []  # all leased
    assert len(await stores[0].claim_due(lease + timedelta(seconds=1), lease + timedelta(seconds=61), 100)) == 60


async def test_an_attempt_belongs_to_its_claim(events_uow: SqlUnitOfWorkFactory, sql_engine: AsyncEngine) -> None:
    async with events_uow() as uow:
        await uow.outbox.add(event())
        await uow.commit()
    store = SqlDeliveryStore(sql_engine, session_factory(sql_engine))
    await store.relay(("http://a.example/hook",), NOW, 10)
    ((delivery_id, old_claim),) = await store.claim_due(NOW, NOW + timedelta(seconds=60), 10)
    # The lease runs out; another sender claims the delivery.
    later = NOW + timedelta(seconds=61)
    ((_, new_claim),) = await store.claim_due(later, later + timedelta(seconds=60), 10)
    assert await store.start_attempt(delivery_id, old_claim, later) is None
    claimed = await store.start_attempt(delivery_id, new_claim, later + timedelta(seconds=60))
    assert claimed is not None
    assert (claimed.attempts, claimed.event["type"], claimed.event["data"]) == (0, "enrollment.created", {"n": 0})
    done = {"attempts": 1, "status": DeliveryStatus.FAILED, "next_attempt_at": None, "last_status_code": 500}
    assert not await store.finish_attempt(delivery_id, old_claim, done, later)
    assert await store.finish_attempt(delivery_id, new_claim, done, later)
    assert not await store.finish_attempt(delivery_id, new_claim, done, later)  # recorded once
    retried = await store.retry(delivery_id, later)
    assert retried is not None
    assert (retried.status, retried.attempts, retried.last_status_code) == (DeliveryStatus.PENDING, 0, 500)
    assert await store.retry(delivery_id, later) is None  # only a failed one
