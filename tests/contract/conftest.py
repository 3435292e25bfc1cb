"""Adapters of each port, built on real servers where the adapter needs one."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.kv.memory import MemoryKeyValue
from adapters.kv.redis_store import RedisKeyValue
from adapters.sql.engine import create_engine, session_factory
from adapters.sql.identity_repositories import SqlUserLookup
from adapters.sql.prepared import PreparedReads
from adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from domain.shared.ports import KeyValueStore
from tests.support.databases import PostgresDatabases, SqliteDatabases
from tests.support.servers import flush


@pytest.fixture(params=["memory", "redis"])
async def kv(request: pytest.FixtureRequest) -> AsyncIterator[KeyValueStore]:
    store: KeyValueStore
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        await flush(url)
        store = RedisKeyValue(url)
    else:
        store = MemoryKeyValue()
    yield store
    await store.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def sql_engine(request: pytest.FixtureRequest) -> AsyncIterator[AsyncEngine]:
    """An engine on a fresh, migrated database of each backend."""
    if request.param == "postgres":
        pg: PostgresDatabases = request.getfixturevalue("postgres_databases")
        url = await pg.create()
    else:
        lite: SqliteDatabases = request.getfixturevalue("sqlite_databases")
        url = await lite.create()
    engine = create_engine(url)
    yield engine
    await engine.dispose()
    if request.param == "postgres":
        await pg.drop(url)


@pytest.fixture
def uow_factory(sql_engine: AsyncEngine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(session_factory(sql_engine))


@pytest.fixture
async def prepared_reads(sql_engine: AsyncEngine) -> AsyncIterator[PreparedReads]:
    reads = PreparedReads(sql_engine, pool_size=4)
    yield reads
    await reads.close()


@pytest.fixture
def user_lookup(prepared_reads: PreparedReads) -> SqlUserLookup:
    return SqlUserLookup(prepared_reads)
