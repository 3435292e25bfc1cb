"""The engine's error translation: a database that cannot be reached is `DatabaseUnavailable`
(503), and a cancelled query stays cancelled."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.engine import DatabaseUnavailable, create_engine, retrying_read
from tests.support.databases import PostgresDatabases
from tests.support.servers import free_port


@pytest.fixture
async def pg_engine(postgres_databases: PostgresDatabases) -> AsyncIterator[AsyncEngine]:
    url = await postgres_databases.create()
    engine = create_engine(url)
    yield engine
    await engine.dispose()
    await postgres_databases.drop(url)


async def test_a_cancelled_query_stays_cancelled(pg_engine: AsyncEngine) -> None:
    """A task cancelled mid-query must see CancelledError, never a translated error that an
    `except Exception` would swallow (the outbox relay could then never be stopped). asyncpg
    reports the interrupted connection as a disconnect, which is what the translation acts on;
    SQLite's driver runs a query in a thread that a cancellation does not interrupt."""

    async def query() -> None:
        async with pg_engine.connect() as conn:
            await conn.execute(text("SELECT pg_sleep(5)"))

    task = asyncio.create_task(query())
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with pg_engine.connect() as conn:  # the engine still serves
        assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1


async def test_an_unreachable_server_is_unavailable() -> None:
    engine = create_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nowhere")

    async def read() -> int:
        async with engine.connect() as conn:
            return int((await conn.execute(text("SELECT 1"))).scalar_one())

    try:
        with pytest.raises(DatabaseUnavailable) as caught:
            await retrying_read(read)
        assert (caught.value.detail, caught.value.disconnect) == ("Database unavailable", False)
    finally:
        await engine.dispose()
