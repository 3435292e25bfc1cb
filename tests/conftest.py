"""Session-wide servers: a throwaway PostgreSQL cluster and Redis, or the ones named by
LMS_TEST_DATABASE_URL / LMS_TEST_REDIS_URL."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from tests.support.databases import PostgresDatabases, SqliteDatabases
from tests.support.servers import PostgresServer, RedisServer, ServerMissing


def _server(variable: str, start: Callable[[], PostgresServer | RedisServer]) -> Iterator[str]:
    """The server named by `variable`, or a throwaway one for this session."""
    if url := os.environ.get(variable):
        yield url
        return
    try:
        server = start()
    except ServerMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    yield from _server("LMS_TEST_DATABASE_URL", PostgresServer.start)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    yield from _server("LMS_TEST_REDIS_URL", RedisServer.start)


@pytest.fixture(scope="session")
def postgres_databases(postgres_url: str) -> PostgresDatabases:
    return PostgresDatabases(postgres_url)


@pytest.fixture(scope="session")
def sqlite_databases(tmp_path_factory: pytest.TempPathFactory) -> SqliteDatabases:
    return SqliteDatabases(tmp_path_factory.mktemp("sqlite"))
