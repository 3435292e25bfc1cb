"""Live updates across real processes (API §13): `lms run --workers 2`, another `lms run` and an
`lms worker` on PostgreSQL and Redis. A message reaches a client whichever process it is connected
to; a client of a killed process reconnects to the other and, with its last id, misses nothing; a
Redis restart closes every connection with the code that says "reconnect", and the reconnected
clients get what was made during the outage; a deactivated user's connections close within 5 s."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from tests.e2e.conftest import Client, admin_of, crash, lms_env, serving, start_api, stop, working
from tests.support.databases import PostgresDatabases
from tests.support.servers import RedisServer

WAIT = 5.0


def ws_url(base: str, ticket: str, last: str | None = None) -> str:
    url = base.replace("http://", "ws://") + f"/api/v1/ws?ticket={ticket}"
    return url + (f"&last_event_id={last}" if last else "")


def ticket_of(base: str, headers: dict[str, str]) -> str:
    r = httpx.post(f"{base}/api/v1/auth/ws-ticket", headers=headers, timeout=10)
    assert r.status_code == 200, r.text
    return str(r.json()["ticket"])


async def close_code(socket: Any) -> int:
    """The code the server closes the socket with (it must, within WAIT seconds)."""
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(socket.recv(), WAIT)
    return closed.value.rcvd.code if closed.value.rcvd is not None else 1006


async def next_json(socket: Any, timeout: float = WAIT) -> dict[str, Any]:
    return dict(json.loads(await asyncio.wait_for(socket.recv(), timeout)))


@asynccontextmanager
async def sse(base: str, headers: dict[str, str], last: str | None = None) -> AsyncIterator[asyncio.Queue[Any]]:
    """The stream's messages as they come, then None when it ends."""
    got: asyncio.Queue[Any] = asyncio.Queue()
    extra = {"Last-Event-ID": last} if last else {}

    async def read() -> None:
        try:
            async with (
                httpx.AsyncClient(timeout=httpx.Timeout(10.0, read=60.0)) as client,
                client.stream("GET", f"{base}/api/v1/notifications/stream", headers={**headers, **extra}) as r,
            ):
                assert r.status_code == 200
                await got.put("open")
                async for line in r.aiter_lines():
                    if line.startswith("data:"):
                        await got.put(json.loads(line[5:]))
        except (httpx.HTTPError, AssertionError):
            pass
        await got.put(None)

    task = asyncio.create_task(read())
    try:
        assert await asyncio.wait_for(got.get(), WAIT) == "open"
        yield got
    finally:
        task.cancel()


def lesson(client: Client, admin: dict[str, str], course_id: str, title: str) -> None:
    client.call("POST", f"/courses/{course_id}/lessons", admin, 201, title=title, lesson_type="text")


def test_messages_cross_processes_and_a_killed_process_loses_nothing(
    tmp_path: Path, postgres_databases: PostgresDatabases, redis_url: str
) -> None:
    database = asyncio.run(postgres_databases.create())
    env = lms_env(tmp_path, LMS_DATABASE_URL=database, LMS_REDIS_URL=redis_url, LMS_QUEUE_URL=redis_url)
    proc_a, one = start_api(env, "--workers", "2")
    try:
        with serving(env) as two, working(env):
            a, b = Client(one), Client(two)
            admin = admin_of(a, env, "live-admin@example.com")
            student = a.student("live-student@example.com")
            course_id, lesson_id = a.published_course(admin, "Live across processes")
            enrollment = a.call("POST", "/enrollments", student, 201, course_id=course_id)

            async def scenario() -> None:
                async with (
                    websockets.connect(ws_url(one, ticket_of(one, student))) as mine,
                    websockets.connect(ws_url(two, ticket_of(two, admin))) as manager,
                    sse(two, student) as stream,
                ):
                    await manager.send(json.dumps({"subscribe": f"course:{course_id}"}))
                    assert await next_json(manager) == {"subscribed": f"course:{course_id}"}
                    started = time.monotonic()
                    lesson(b, admin, course_id, "Made on the other process")
                    said = await next_json(mine)
                    assert said["type"] == "lesson.published" and time.monotonic() - started < 1.0
                    assert (await asyncio.wait_for(stream.get(), WAIT))["id"] == said["id"]
                    a.http.put(
                        f"/enrollments/{enrollment['id']}/lessons/{lesson_id}/progress",
                        json={"completion_percentage": 50},
                        headers=student,
                    ).raise_for_status()
                    moved = await next_json(manager)
                    assert moved["type"] == "progress.updated" and moved["data"]["lesson_id"] == lesson_id
                    last_seen = said["id"]

                    # The process the socket was on dies; meanwhile three more lessons open.
                    crash(proc_a)
                    await close_code(mine)  # no close frame from a dead process: the connection drops
                    for n in range(3):
                        lesson(b, admin, course_id, f"While away {n}")
                    missed = [(await asyncio.wait_for(stream.get(), WAIT))["id"] for _ in range(3)]
                    async with websockets.connect(ws_url(two, ticket_of(two, student), last_seen)) as again:
                        assert [(await next_json(again))["id"] for _ in range(3)] == missed
                        # A ticket is good once, whichever process it is shown to.
                        used = ticket_of(two, student)
                        async with websockets.connect(ws_url(two, used)):
                            pass
                        async with websockets.connect(ws_url(two, used)) as replayed:
                            assert await close_code(replayed) == 4401
                        # Deactivated: every connection of the student closes within 5 s.
                        started = time.monotonic()
                        user_id = b.call("GET", "/users/me", student, 200)["id"]
                        b.call("PATCH", f"/users/{user_id}", admin, 200, is_active=False)
                        assert await close_code(again) == 4401
                        assert await asyncio.wait_for(stream.get(), WAIT) is None  # the stream ended too
                        assert time.monotonic() - started < 5.0

            asyncio.run(scenario())
    finally:
        stop(proc_a)


def test_a_redis_restart_makes_clients_reconnect_and_replay(tmp_path: Path, own_redis: RedisServer) -> None:
    env = lms_env(tmp_path, LMS_ENVIRONMENT="development", LMS_REDIS_URL=own_redis.url)
    with serving(env) as base:
        client = Client(base)
        admin = admin_of(client, env, "outage-admin@example.com")
        student = client.student("outage-student@example.com")
        course_id, _ = client.published_course(admin, "Live through an outage")
        client.call("POST", "/enrollments", student, 201, course_id=course_id)

        async def scenario() -> None:
            async with (
                websockets.connect(ws_url(base, ticket_of(base, student))) as socket,
                sse(base, student) as stream,
            ):
                lesson(client, admin, course_id, "Before the outage")
                last_seen = (await next_json(socket))["id"]
                assert (await asyncio.wait_for(stream.get(), WAIT))["id"] == last_seen
                own_redis.kill()
                assert await close_code(socket) == 1012  # reconnect
                assert await asyncio.wait_for(stream.get(), WAIT) is None
                for n in range(2):  # made while Redis is down: stored, told to nobody yet
                    lesson(client, admin, course_id, f"During the outage {n}")
            own_redis.resume()
            codes: list[int] = []
            replayed: list[str] = []
            deadline = time.monotonic() + 20
            while not replayed:  # the client's backoff: tickets need the store back, sockets the fan-out
                assert time.monotonic() < deadline, "no reconnection within 20 s of Redis coming back"
                r = await asyncio.to_thread(httpx.post, f"{base}/api/v1/auth/ws-ticket", headers=student, timeout=10)
                if r.status_code == 200:
                    async with websockets.connect(ws_url(base, r.json()["ticket"], last_seen)) as socket:
                        try:
                            replayed = [(await next_json(socket))["type"] for _ in range(2)]
                        except ConnectionClosed as closed:  # 1013: the fan-out is not back yet
                            codes.append(closed.rcvd.code if closed.rcvd else 1006)
                await asyncio.sleep(0.25)
            assert set(codes) <= {1013}
            assert replayed == ["lesson.published", "lesson.published"]
            async with sse(base, student, last_seen) as stream:
                got = [await asyncio.wait_for(stream.get(), WAIT) for _ in range(2)]
                assert [m["type"] for m in got] == ["lesson.published", "lesson.published"]

        asyncio.run(scenario())


def test_a_process_serves_requests_beside_more_open_streams_than_granian_allows_by_default(tmp_path: Path) -> None:
    # An open event stream is a request in flight for as long as it lasts; granian's default bound
    # (1,024 per process) would leave the process deaf once that many clients listen.
    env = lms_env(tmp_path, LMS_RATE_LIMIT_GLOBAL="1000000/60")
    with serving(env) as base:
        student = Client(base).student("many-streams@example.com")
        host, port = base.removeprefix("http://").split(":")

        async def scenario() -> None:
            gate = asyncio.Semaphore(50)

            async def open_stream() -> asyncio.StreamWriter:
                async with gate:
                    reader, writer = await asyncio.open_connection(host, int(port))
                    asking = f"GET /api/v1/notifications/stream HTTP/1.1\r\nHost: {host}\r\n"
                    writer.write(f"{asking}Authorization: {student['Authorization']}\r\n\r\n".encode())
                    assert b" 200 " in await asyncio.wait_for(reader.readline(), 30)
                    return writer

            writers = await asyncio.gather(*(open_stream() for _ in range(1_100)))
            try:
                async with httpx.AsyncClient(base_url=base, timeout=5) as http:
                    r = await http.get("/api/v1/users/me", headers=student)
                    assert r.status_code == 200
            finally:
                for writer in writers:
                    writer.close()

        asyncio.run(scenario())
