"""Round trips per request on PostgreSQL + Redis, counted (so a change cannot add one silently):
Redis round trips as packets sent by the client, SQL round trips as statements executed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from redis.asyncio.connection import Connection
from sqlalchemy import event

from tests.http.conftest import MakeApiFn
from tests.support.api import Api
from tests.support.catalog import cast_of, create_course, publish
from tests.support.learning import enroll


@dataclass
class Trips:
    redis: int = 0
    sql: int = 0


@contextmanager
def counting(api: Api, monkeypatch: pytest.MonkeyPatch) -> Iterator[Trips]:
    trips = Trips()
    send = Connection.send_packed_command

    # The API's own clients: the key-value store and the cache (the job queue has its own traffic).
    pools = [api.container.kv._redis.connection_pool, api.container.cache._redis.connection_pool]  # type: ignore[attr-defined]

    async def counted(self: Connection, command: Any, check_health: bool = True) -> None:
        if any(self in pool._in_use_connections for pool in pools):
            trips.redis += 1
        await send(self, command, check_health)

    def statement(*_: Any) -> None:
        trips.sql += 1

    engine = api.container.engine.sync_engine
    monkeypatch.setattr(Connection, "send_packed_command", counted)
    event.listen(engine, "before_cursor_execute", statement)
    try:
        yield trips
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        monkeypatch.setattr(Connection, "send_packed_command", send)


async def measure(api: Api, monkeypatch: pytest.MonkeyPatch, path: str, headers: dict[str, str]) -> Trips:
    assert (await api.client.get(path, headers=headers)).status_code == 200  # warm: caches, scripts
    with counting(api, monkeypatch) as trips:
        r = await api.client.get(path, headers=headers)
    assert r.status_code == 200, r.text
    return trips


LIMITED = {"LMS_RATE_LIMIT_ENABLED": "true", "LMS_RATE_LIMIT_GLOBAL": "100000/60"}


async def test_an_authenticated_request_makes_one_redis_round_trip(
    make_api: MakeApiFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rate-limit count and the revocation check share one pipeline; the user is one query."""
    api = await make_api(**LIMITED)
    cast = await cast_of(api)
    course = await publish(api, cast.owner, (await create_course(api, cast.owner))["id"])
    await enroll(api, cast.student, course["id"])
    me = await measure(api, monkeypatch, "/api/v1/users/me", cast.student.headers)
    assert me == Trips(redis=1, sql=1)
    # A route's own query comes on top of the principal's (the page and its total in one).
    mine = await measure(api, monkeypatch, "/api/v1/enrollments/my-courses", cast.student.headers)
    assert mine == Trips(redis=1, sql=2)


async def test_a_cached_public_read_makes_one_redis_round_trip_and_none_to_the_database(
    make_api: MakeApiFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Anonymous: the rate-limit count and the cache entry in one pipeline."""
    api = await make_api(**LIMITED)
    cast = await cast_of(api)
    course = await publish(api, cast.owner, (await create_course(api, cast.owner))["id"])
    for path in (
        f"/api/v1/courses/{course['id']}",
        f"/api/v1/courses/{course['id']}/lessons?page=1",
        "/api/v1/courses?page_size=5",
        "/api/v1/courses/",
    ):
        assert await measure(api, monkeypatch, path, {}) == Trips(redis=1, sql=0), path
    # Signed in: the count and the revocation check, then the entry; and the principal's row.
    await enroll(api, cast.student, course["id"])
    path = f"/api/v1/courses/{course['id']}/lessons"
    assert await measure(api, monkeypatch, path, cast.student.headers) == Trips(redis=2, sql=1)


async def test_a_revoked_token_is_refused_through_the_shared_round_trip(make_api: MakeApiFn) -> None:
    api = await make_api(**LIMITED)
    student = await api.register()
    r = await api.client.post("/api/v1/auth/logout", json={"refresh_token": student.refresh}, headers=student.headers)
    assert r.status_code == 204
    r = await api.me(student)
    assert (r.status_code, r.json()["detail"]) == (401, "Token has been revoked")
