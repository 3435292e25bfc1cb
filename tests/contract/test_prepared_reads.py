"""Prepared reads on asyncpg answer exactly what the same statements answer through SQLAlchemy, and
survive a server that drops their connections."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.analytics_reader import SqlAnalyticsReader
from adapters.sql.catalog_repositories import SqlCatalogReader
from adapters.sql.engine import create_engine
from adapters.sql.identity_repositories import SqlUserLookup
from adapters.sql.learning_repositories import SqlLearningReader
from adapters.sql.prepared import PreparedReads
from adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from domain.learning.model import COMPLETE, ProgressUpdate
from domain.shared.ids import new_id
from domain.shared.pagination import PageParams
from tests.contract.test_catalog_repositories import NOW
from tests.contract.test_learning_repositories import course_with_lessons


@pytest.fixture
async def through_engine(sql_engine: AsyncEngine) -> AsyncIterator[PreparedReads]:
    reads = PreparedReads(sql_engine, direct=False)
    yield reads
    await reads.close()


async def everything_read(reads: PreparedReads, ids: dict[str, Any]) -> list[Any]:
    """Every read that goes through prepared statements, as the ports answer them."""
    users, learning = SqlUserLookup(reads), SqlLearningReader(reads)
    catalog, analytics = SqlCatalogReader(reads), SqlAnalyticsReader(reads)
    return [
        await users.get(ids["student"]),
        await users.get_by_email(ids["email"]),
        await users.get(new_id()),
        await learning.of_student(ids["student"], PageParams(page=1, page_size=10)),
        await learning.of_student(ids["student"], PageParams(page=3, page_size=10)),  # past the end: the count
        await catalog.course(ids["course"]),  # JSON metadata, text, timestamps
        await catalog.course(new_id()),
        await analytics.student_totals(ids["student"]),
        await analytics.student_courses(ids["student"]),
        await analytics.student_days(ids["student"], NOW - timedelta(days=30)),
        await analytics.course_heading(ids["course"]),
        await analytics.course_totals(ids["course"]),
        await analytics.instructor_totals(ids["owner"]),
        await analytics.system_totals(),
        await learning.of_student(
            ids["student"],
            PageParams(page_size=10, after=(NOW + timedelta(days=900), new_id())),  # by cursor
        ),
        await learning.of_student(
            ids["student"], PageParams(page_size=10, after=(NOW - timedelta(days=900), new_id()))
        ),
    ]


async def test_prepared_reads_answer_as_sqlalchemy_does(
    uow_factory: SqlUnitOfWorkFactory, prepared_reads: PreparedReads, through_engine: PreparedReads
) -> None:
    enrollment, lessons = await course_with_lessons(uow_factory, 3)
    async with uow_factory() as uow:
        stored = await uow.enrollments.get(enrollment.id, lock=True)
        assert stored is not None
        for lesson, update in zip(lessons[:2], (COMPLETE, ProgressUpdate(time_spent_seconds=40)), strict=True):
            await uow.progress.save(stored.record_progress(None, lesson.id, update, NOW, new_id()), is_new=True)  # type: ignore[attr-defined]
        stored.recompute(await uow.enrollments.totals(enrollment.id, enrollment.course_id), NOW)
        await uow.enrollments.save(stored)
        course = await uow.courses.get(enrollment.course_id)
        student = await uow.users.get(enrollment.student_id)
        await uow.commit()
    assert course is not None
    assert student is not None
    ids = {"student": student.id, "email": student.email, "course": course.id, "owner": course.instructor_id}

    direct = await everything_read(prepared_reads, ids)
    assert direct == await everything_read(through_engine, ids)
    assert direct[0] == student
    assert direct[5] == course
    assert direct[5].metadata == {"k": [1, 2]}
    assert [e.progress_percentage for e in direct[3].items] == [stored.progress_percentage]
    after_all, after_none = direct[-2:]
    assert ([e.id for e in after_all.items], after_all.total, after_all.page) == ([enrollment.id], 1, None)
    assert (after_none.items, after_none.total) == ([], 1)


async def test_a_dropped_connection_is_read_again_on_a_fresh_one(
    sql_engine: AsyncEngine, uow_factory: SqlUnitOfWorkFactory, prepared_reads: PreparedReads
) -> None:
    enrollment, _ = await course_with_lessons(uow_factory, 1)
    users = SqlUserLookup(prepared_reads)
    found = await asyncio.gather(*(users.get(enrollment.student_id) for _ in range(12)))  # more than the pool
    assert {user.id for user in found if user is not None} == {enrollment.student_id}
    if sql_engine.dialect.name == "postgresql":
        # As a server restart does: every connection but this one is closed under the pool.
        async with sql_engine.connect() as conn:
            ended = await conn.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
        assert ended
    again = await asyncio.gather(*(users.get(enrollment.student_id) for _ in range(4)))
    assert all(user is not None and user.id == enrollment.student_id for user in again)


async def test_the_pool_connects_with_the_urls_options_as_the_engine_does() -> None:
    engine = create_engine("postgresql+asyncpg://u:p@db.internal:5433/lms?ssl=require&prepared_statement_cache_size=5")
    reads = PreparedReads(engine)
    connect = reads._connect  # what asyncpg.create_pool is given
    assert connect == {
        "host": "db.internal",
        "port": 5433,
        "user": "u",
        "password": "p",
        "database": "lms",
        "ssl": "require",
    }
    await engine.dispose()
