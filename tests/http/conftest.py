"""HTTP suites run twice: on SQLite with in-process stores, and on PostgreSQL with Redis and SAQ."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest

from domain.shared.clock import Clock
from tests.support.api import Api, app_env, running_api
from tests.support.databases import PostgresDatabases, SqliteDatabases
from tests.support.servers import flush

MakeApiFn = Callable[..., Awaitable[Api]]


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def make_api(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Callable[..., Awaitable[Api]]]:
    """Start an app (several may share one database and Redis) with setting overrides."""
    stack: list[AbstractAsyncContextManager[Api]] = []
    created: list[str] = []
    shared: dict[str, str | None] = {}

    async def get_database() -> tuple[str, str | None]:
        if "db" not in shared:
            if backend == "postgres":
                pg: PostgresDatabases = request.getfixturevalue("postgres_databases")
                shared["db"] = await pg.create()
                created.append(shared["db"])
                shared["redis"] = request.getfixturevalue("redis_url")
                await flush(shared["redis"])
            else:
                lite: SqliteDatabases = request.getfixturevalue("sqlite_databases")
                shared["db"] = await lite.create()
                shared["redis"] = None
        db = shared["db"]
        assert db is not None
        return db, shared["redis"]

    async def factory(clock: Clock | None = None, **overrides: str) -> Api:
        db, redis = await get_database()
        env = app_env(tmp_path / f"app{len(stack)}", db, redis, **overrides)
        ctx = running_api(env, backend, clock)
        api = await ctx.__aenter__()
        stack.append(ctx)
        return api

    yield factory
    for ctx in reversed(stack):
        await ctx.__aexit__(None, None, None)
    if created:
        pg = request.getfixturevalue("postgres_databases")  # already set up: created is non-empty
        for url in created:
            await pg.drop(url)


@pytest.fixture
async def api(make_api: Callable[..., Awaitable[Api]]) -> Api:
    return await make_api()
