"""Round trips per request on PostgreSQL + Redis, counted (so a change cannot add one silently):
Redis round trips as packets sent by the client, SQL round trips as statements executed (through
SQLAlchemy, and the prepared reads' straight through asyncpg)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
from redis.asyncio.connection import Connection
from sqlalchemy import event

from adapters.http.catalog import courses_controller
from tests.http.conftest import MakeApiFn
from tests.support.api import PASSWORD, Api
from tests.support.catalog import cast_of, create_course, create_lesson, publish
from tests.support.learning import complete, enroll


@dataclass
class Trips:
    redis: int = 0
    sql: int = 0


@asynccontextmanager
async def counting(api: Api, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Trips]:
    """Counts the round trips made meanwhile; the outbox relay's polling is stopped first (it is
    not the request's, and the tests that count run its rounds themselves)."""
    await api.container.relay.stop()
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

    fetch = asyncpg.Connection.fetch  # the prepared reads' (SQLAlchemy runs prepared statements itself)

    async def fetched(self: asyncpg.Connection, *args: Any, **kwargs: Any) -> Any:
        trips.sql += 1
        return await fetch(self, *args, **kwargs)

    engine = api.container.engine.sync_engine
    monkeypatch.setattr(Connection, "send_packed_command", counted)
    monkeypatch.setattr(asyncpg.Connection, "fetch", fetched)
    event.listen(engine, "before_cursor_execute", statement)
    try:
        yield trips
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        monkeypatch.setattr(Connection, "send_packed_command", send)
        monkeypatch.setattr(asyncpg.Connection, "fetch", fetch)


async def measure(api: Api, monkeypatch: pytest.MonkeyPatch, path: str, headers: dict[str, str]) -> Trips:
    assert (await api.client.get(path, headers=headers)).status_code == 200  # warm: caches, scripts
    async with counting(api, monkeypatch) as trips:
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


async def test_an_api_key_request_makes_the_round_trips_of_a_bearer_token(
    make_api: MakeApiFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """API §10.4: the rate-limit count in Redis, and the key with its owner in one statement (a
    revocation shows at once); `last_used_at` is written on the first use only, within a minute."""
    api = await make_api(**LIMITED)
    cast = await cast_of(api)
    r = await api.client.post(
        "/api/v1/api-keys", json={"name": "sync", "scopes": ["enrollments:read"]}, headers=cast.owner.headers
    )
    key = {"Authorization": f"Bearer {r.json()['key']}"}
    assert await measure(api, monkeypatch, "/api/v1/users/me", key) == Trips(redis=1, sql=1)
    assert await measure(api, monkeypatch, "/api/v1/users/me", {"X-API-Key": r.json()["key"]}) == Trips(redis=1, sql=1)
    for path in ("/api/v1/enrollments/my-courses", "/api/v1/users/me"):
        with_key = await measure(api, monkeypatch, path, key)
        assert with_key == await measure(api, monkeypatch, path, cast.owner.headers), path  # as a Bearer token


async def test_a_password_sign_in_reads_its_lock_in_the_rate_limiters_round_trip(
    make_api: MakeApiFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The count and the email's lock state travel together (API §10.1); the user is one query and
    the new sign-in one insert. Only a failure adds a round trip, to count it."""
    api = await make_api(**LIMITED)
    s = await api.register()
    right = {"email": s.email, "password": PASSWORD}
    wrong = {"email": s.email, "password": "not-the-password"}
    assert (await api.client.post("/api/v1/auth/login", json=right)).status_code == 200  # warm
    for body, status, expected in ((right, 200, Trips(redis=1, sql=2)), (wrong, 401, Trips(redis=2, sql=1))):
        async with counting(api, monkeypatch) as trips:
            r = await api.client.post("/api/v1/auth/login", json=body)
        assert r.status_code == status, r.text
        assert trips == expected, body
    async with counting(api, monkeypatch) as trips:  # the failure count is dropped on the next success
        assert (await api.client.post("/api/v1/auth/login", json=right)).status_code == 200
    assert trips == Trips(redis=2, sql=2)


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


VARYING = {"x-request-id", "ratelimit-remaining", "x-ratelimit-remaining", "ratelimit-reset", "x-ratelimit-reset"}


def answer(response: Any) -> tuple[int, bytes, list[tuple[str, str]]]:
    """Status, body and headers (sorted; without those that differ per request or per caller)."""
    headers = sorted((k, v) for k, v in response.headers.multi_items() if k not in {*VARYING, "cache-control"})
    return response.status_code, response.content, headers


async def test_a_cached_public_read_is_answered_before_its_handler_with_the_handlers_bytes(
    make_api: MakeApiFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The limiter found the entry: the answer is the handler's own, byte for byte and header for
    header, 200 and 304 alike, without the handler running."""
    api = await make_api(**LIMITED)
    cast = await cast_of(api)
    course = await publish(api, cast.owner, (await create_course(api, cast.owner))["id"])
    await enroll(api, cast.student, course["id"])
    loads = 0
    original = courses_controller.read_through

    async def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal loads
        loads += 1
        return await original(*args, **kwargs)

    monkeypatch.setattr(courses_controller, "read_through", counted)
    for path in (
        f"/api/v1/courses/{course['id']}",
        f"/api/v1/courses/{course['id']}/lessons?page=1",
        "/api/v1/courses?page_size=5",
    ):
        # Signed in, the handler answers from the same shared entry (and fills it).
        by_handler = await api.client.get(path, headers=cast.student.headers)
        assert by_handler.status_code == 200
        # The signed-in caller's copy is private (the edge adds that to answers for credentials).
        assert by_handler.headers["cache-control"] == "private, no-cache"
        handled = loads
        before = await api.client.get(path)
        assert loads == handled, path  # answered before the handler
        assert "cache-control" not in before.headers
        assert answer(before) == answer(by_handler), path
        etag = {"If-None-Match": by_handler.headers["etag"]}
        not_modified = await api.client.get(path, headers={**cast.student.headers, **etag})
        assert not_modified.status_code == 304
        assert answer(await api.client.get(path, headers=etag)) == answer(not_modified), path
        head = await api.client.head(path)
        assert (head.status_code, head.content, head.headers["content-length"]) == (200, b"", str(len(before.content)))


async def test_a_revoked_token_is_refused_through_the_shared_round_trip(make_api: MakeApiFn) -> None:
    api = await make_api(**LIMITED)
    student = await api.register()
    r = await api.client.post("/api/v1/auth/logout", json={"refresh_token": student.refresh}, headers=student.headers)
    assert r.status_code == 204
    r = await api.me(student)
    assert (r.status_code, r.json()["detail"]) == (401, "Token has been revoked")


async def test_an_enrolled_students_lessons_in_a_long_sequential_course_are_one_read_plus_their_progress(
    make_api: MakeApiFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """API §12: 200 lessons that open in order. An enrolled student's page is the principal, the
    course, the page of lessons, and the student's standing (when enrolled, where the first gap
    is): one statement each, whatever the page or the course's length. An anonymous reader's stays
    the shared entry."""
    api = await make_api(**LIMITED)
    cast = await cast_of(api)
    course = await create_course(api, cast.owner, sequential=True)
    lessons = [await create_lesson(api, cast.owner, course["id"]) for _ in range(200)]
    await publish(api, cast.owner, course["id"])
    eid = (await enroll(api, cast.student, course["id"]))["id"]
    await complete(api, cast.student, eid, lessons[0]["id"])
    for page in (1, 4):
        path = f"/api/v1/courses/{course['id']}/lessons?page={page}&page_size=50"
        assert await measure(api, monkeypatch, path, {}) == Trips(redis=1, sql=0)
        trips = await measure(api, monkeypatch, path, cast.student.headers)
        assert trips == Trips(redis=2, sql=4), page  # the entry is the outsiders' view: read, then passed by
    r = await api.client.get(f"/api/v1/courses/{course['id']}/lessons?page_size=3", headers=cast.student.headers)
    by_second = {"reason": "sequence", "unlock_at": None, "blocking_lesson_id": lessons[1]["id"]}
    assert [item["lock"] for item in r.json()["items"]] == [None, None, by_second]
