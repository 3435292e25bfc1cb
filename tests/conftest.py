"""Session-wide servers: a throwaway PostgreSQL cluster and Redis, or the ones named by
LMS_TEST_DATABASE_URL / LMS_TEST_REDIS_URL."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.databases import PostgresDatabases, SqliteDatabases
from tests.support.servers import PostgresServer, RedisServer, ServerMissing


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    if url := os.environ.get("LMS_TEST_DATABASE_URL"):
        yield url
        return
    try:
        server = PostgresServer.start()
    except ServerMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    if url := os.environ.get("LMS_TEST_REDIS_URL"):
        yield url
        return
    try:
        server = RedisServer.start()
    except ServerMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_databases(postgres_url: str) -> PostgresDatabases:
    return PostgresDatabases(postgres_url)


@pytest.fixture(scope="session")
def sqlite_databases(tmp_path_factory: pytest.TempPathFactory) -> SqliteDatabases:
    return SqliteDatabases(tmp_path_factory.mktemp("sqlite"))
