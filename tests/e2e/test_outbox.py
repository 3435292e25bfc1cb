"""The outbox across real processes: a process killed after a commit loses no event, and two
processes relaying the same outbox deliver each event once per target."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.sql.models import OutboxEventRow
from tests.e2e.conftest import lms, lms_env, serving
from tests.support.databases import PostgresDatabases
from tests.support.receiver import Receiver
from tests.support.servers import free_port, wait_until_up

SECRET = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
PASSWORD = "password-1"


def wait_for(check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.1)


def instructor_token(base: str, env: dict[str, str], email: str) -> str:
    created = lms("users", "create-admin", "--email", email, "--password-stdin", env=env, stdin=PASSWORD + "\n")
    assert created.returncode == 0, created.stderr
    r = httpx.post(f"{base}/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    return str(r.json()["tokens"]["access_token"])


def publish_course(base: str, token: str, title: str) -> str:
    headers = {"Authorization": f"Bearer {token}"}
    course = httpx.post(f"{base}/api/v1/courses", json={"title": title}, headers=headers).json()
    r = httpx.post(f"{base}/api/v1/courses/{course['id']}/publish", headers=headers)
    assert r.status_code == 200, r.text
    return str(course["id"])


async def unrelayed(database: str) -> int:
    engine = create_async_engine(database)
    try:
        async with engine.connect() as conn:
            query = select(func.count()).select_from(OutboxEventRow).where(OutboxEventRow.relayed_at.is_(None))
            return int((await conn.execute(query)).scalar_one())
    finally:
        await engine.dispose()


def test_an_event_committed_before_a_crash_is_delivered_after_restart(
    tmp_path: Path, postgres_databases: PostgresDatabases
) -> None:
    database = asyncio.run(postgres_databases.create())
    target_port, api_port = free_port(), free_port()
    # Nothing listens at the target until after the crash, so nothing is delivered before it.
    env = lms_env(
        tmp_path,
        LMS_DATABASE_URL=database,
        LMS_WEBHOOK_URLS=f"http://127.0.0.1:{target_port}/hooks",
        LMS_WEBHOOK_SECRET=SECRET,
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "lms.cli", "run", "--port", str(api_port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{api_port}"
    try:
        wait_until_up(f"{base}/api/v1/health", process)
        token = instructor_token(base, env, "crash@example.com")
        course_id = publish_course(base, token, "Survives a crash")
    finally:
        os.kill(process.pid, signal.SIGKILL)  # right after the commit: no shutdown, nothing flushed
        process.wait(timeout=10)
    receiver = Receiver().start(target_port)
    try:
        with serving(env):
            wait_for(lambda: len(receiver.answered(200)) >= 1, timeout=40)
            time.sleep(1.5)  # no second copy follows
    finally:
        receiver.stop()
    bodies = [json.loads(r.body) for r in receiver.answered(200)]
    assert [(b["type"], b["data"]["course_id"]) for b in bodies] == [("course.published", course_id)]
    assert asyncio.run(unrelayed(database)) == 0


def test_two_processes_relaying_one_outbox_deliver_each_event_once(
    tmp_path: Path, postgres_databases: PostgresDatabases, redis_url: str
) -> None:
    database = asyncio.run(postgres_databases.create())
    first, second = Receiver().start(), Receiver().start()
    try:
        env = lms_env(
            tmp_path,
            LMS_DATABASE_URL=database,
            LMS_REDIS_URL=redis_url,
            LMS_WEBHOOK_URLS=f"{first.url},{second.url}",
            LMS_WEBHOOK_SECRET=SECRET,
            # The session's Redis is shared with tests that count the auth limit from this address.
            LMS_RATE_LIMIT_ENABLED="false",
        )
        with serving(env) as one, serving(env) as two:  # no queue: each process runs a relay
            token = instructor_token(one, env, "relays@example.com")
            courses = [publish_course(base, token, f"Relayed {n}") for n, base in enumerate([one, two] * 6)]
            wait_for(lambda: len(first.received) >= 12 and len(second.received) >= 12)
            time.sleep(2.5)  # more relay rounds on both processes: nothing more may arrive
        for target in (first, second):
            ids = Counter(r.headers["webhook-id"] for r in target.received)
            assert len(ids) == 12
            assert set(ids.values()) == {1}
            published = {json.loads(r.body)["data"]["course_id"] for r in target.received}
            assert published == set(courses)
    finally:
        first.stop()
        second.stop()
