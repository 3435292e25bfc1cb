"""The API killed in the middle of enroll, submit and upload: the client's retry with the same
`Idempotency-Key` ends with one row, one object and one event, whether the process died before
its change committed or after it committed and before its answer was stored."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from tests.e2e.conftest import Client, admin_of, crash, lms_env, start_api, wait_for
from tests.support.databases import PostgresDatabases
from tests.support.servers import RedisServer

TABLES = "enrollments, quiz_attempts, files"


def raw_url(database: str) -> str:
    return database.replace("postgresql+asyncpg://", "postgresql://")


@contextmanager
def tables_locked(database: str, tables: str = TABLES) -> Iterator[None]:
    """The tables (default: the three of this test) locked against writes and row locks (plain
    reads go on) until the block ends, in a thread of its own so the test can go on meanwhile."""
    ready, done = threading.Event(), threading.Event()

    async def hold() -> None:
        conn = await asyncpg.connect(raw_url(database))
        try:
            async with conn.transaction():
                await conn.execute(f"LOCK TABLE {tables} IN EXCLUSIVE MODE")
                ready.set()
                await asyncio.to_thread(done.wait)
        finally:
            await conn.close()

    holder = threading.Thread(target=asyncio.run, args=(hold(),))
    holder.start()
    ready.wait(timeout=10)
    try:
        yield
    finally:
        done.set()
        holder.join(timeout=10)


async def _query(database: str, sql: str) -> list[Any]:
    conn = await asyncpg.connect(raw_url(database))
    try:
        return list(await conn.fetch(sql))
    finally:
        await conn.close()


def query(database: str, sql: str) -> list[Any]:
    return asyncio.run(_query(database, sql))


def lock_waiters(database: str) -> int:
    name = raw_url(database).rsplit("/", 1)[1]
    rows = query(
        database, f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{name}' AND wait_event_type = 'Lock'"
    )
    return int(rows[0][0])


@dataclass
class Round:
    """The three requests of one kill: enroll in a course, submit a started attempt, upload a file."""

    enroll: tuple[str, dict[str, Any]]
    submit: tuple[str, dict[str, Any]]
    upload: bytes
    key: str

    def send(self, client: Client, student: dict[str, str], which: str) -> httpx.Response:
        headers = {**student, "Idempotency-Key": f"{self.key}-{which}"}
        if which == "upload":
            files = {"file": (f"{self.key}.pdf", self.upload, "application/pdf")}
            return client.http.post("/files/upload", files=files, headers=headers)
        path, body = getattr(self, which)
        return client.http.post(path, json=body, headers=headers)


def prepare(client: Client, admin: dict[str, str], student: dict[str, str], key: str) -> Round:
    to_enroll, _ = client.published_course(admin, f"Enroll {key}")
    _, quiz_id, question_id = client.quiz_course(admin, student, f"Quiz {key}")
    attempt = client.call("POST", f"/quizzes/{quiz_id}/attempts", student, 201)
    answers = {"answers": [{"question_id": question_id, "answer_text": "true"}]}
    return Round(
        enroll=("/enrollments", {"course_id": to_enroll}),
        submit=(f"/quizzes/{quiz_id}/attempts/{attempt['id']}/submit", answers),
        upload=f"%PDF-1.4 {key}".encode(),
        key=key,
    )


def fire(client: Client, student: dict[str, str], round_: Round) -> list[threading.Thread]:
    """The three requests, each in a thread; they die with the server."""

    def send(which: str) -> None:
        with contextlib.suppress(httpx.HTTPError):  # the server is killed under it
            round_.send(client, student, which)

    threads = [threading.Thread(target=send, args=(which,)) for which in ("enroll", "submit", "upload")]
    for thread in threads:
        thread.start()
    return threads


def retry(client: Client, student: dict[str, str], round_: Round, which: str) -> httpx.Response:
    """What a careful client does: retry with the same key, waiting as Retry-After says while the
    dead request's lease runs out (409)."""
    for _ in range(20):
        answer = round_.send(client, student, which)
        if answer.status_code not in (409, 429) or ("Idempotency-Key" not in answer.text and answer.status_code == 409):
            return answer
        time.sleep(float(answer.headers["retry-after"]))
    raise AssertionError(f"the {which} retry never settled: {answer.status_code} {answer.text}")


def test_a_retry_after_the_api_died_mid_request_makes_one_row_one_object_one_event(
    tmp_path: Path, postgres_databases: PostgresDatabases, own_redis: RedisServer
) -> None:
    database = asyncio.run(postgres_databases.create())
    env = lms_env(
        tmp_path,
        LMS_DATABASE_URL=database,
        LMS_REDIS_URL=own_redis.url,
        LMS_WEBHOOK_URLS="http://127.0.0.1:9/hooks",  # nobody listens: the events stay recorded
        LMS_WEBHOOK_SECRET="whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    )
    api, base = start_api(env)
    try:
        client = Client(base)
        admin = admin_of(client, env, "kill-api@example.com")
        student = client.student("kill-api-student@example.com")
        before, after = prepare(client, admin, student, "before"), prepare(client, admin, student, "after")

        # 1. Killed before the commit: each request waits on a table lock when the process dies.
        with tables_locked(database):
            threads = fire(client, student, before)
            wait_for(lambda: lock_waiters(database) == 3, what="three requests waiting on the locks")
            crash(api)
        for thread in threads:
            thread.join(timeout=10)
        api, base = start_api(env)
        client = Client(base)
        results = {which: retry(client, student, before, which) for which in ("enroll", "submit", "upload")}
        assert [results[w].status_code for w in ("enroll", "submit", "upload")] == [201, 200, 201]

        # 2. Killed after the commit, before the answer is stored: Redis stalls once the requests
        # hold their keys, the locks are released, and the process dies once the rows are there.
        # Redis is then lost as well (the answers sent to it were never read), and started empty.
        with tables_locked(database):
            threads = fire(client, student, after)
            wait_for(lambda: lock_waiters(database) == 3, what="three requests waiting on the locks")
            own_redis.freeze()
        try:
            wait_for(lambda: committed(database, after), what="the three changes to commit")
            crash(api)
        finally:
            own_redis.kill()
            own_redis.resume()
        for thread in threads:
            thread.join(timeout=10)
        api, base = start_api(env)
        client = Client(base)
        enrolled, submitted, uploaded = (retry(client, student, after, w) for w in ("enroll", "submit", "upload"))
        # The first run's answers were lost; the retries meet what it did.
        assert enrolled.status_code == 200  # E1's answer to an existing enrollment: that enrollment
        assert (submitted.status_code, submitted.json()["detail"]) == (403, "Attempt is already submitted")
        assert uploaded.status_code == 201
        (stored,) = query(database, f"SELECT id FROM files WHERE original_filename = '{after.key}.pdf'")
        assert uploaded.json()["id"] == str(stored["id"])
    finally:
        crash(api)

    for round_ in (before, after):
        course_id = round_.enroll[1]["course_id"]
        assert len(query(database, f"SELECT 1 FROM enrollments WHERE course_id = '{course_id}'")) == 1
        attempt_id = round_.submit[0].rsplit("/", 2)[1]
        assert query(database, f"SELECT status FROM quiz_attempts WHERE id = '{attempt_id}'")[0][0] == "graded"
        assert len(query(database, f"SELECT 1 FROM files WHERE original_filename = '{round_.key}.pdf'")) == 1
    rows = query(database, "SELECT type, payload->'data' AS data FROM outbox_events")
    events = Counter((row["type"], json.loads(row["data"]).get("course_id")) for row in rows)
    attempts = Counter(json.loads(row["data"])["attempt_id"] for row in rows if row["type"] == "quiz.submitted")
    for round_ in (before, after):
        assert events[("enrollment.created", round_.enroll[1]["course_id"])] == 1
        assert attempts[round_.submit[0].rsplit("/", 2)[1]] == 1
    objects = [f for f in (tmp_path / "files").rglob("*.pdf") if "uploads" in f.parts]
    assert len(objects) == 2


def committed(database: str, round_: Round) -> bool:
    course_id = round_.enroll[1]["course_id"]
    attempt_id = round_.submit[0].rsplit("/", 2)[1]
    return bool(
        query(database, f"SELECT 1 FROM enrollments WHERE course_id = '{course_id}'")
        and query(database, f"SELECT 1 FROM quiz_attempts WHERE id = '{attempt_id}' AND status <> 'in_progress'")
        and query(database, f"SELECT 1 FROM files WHERE original_filename = '{round_.key}.pdf'")
    )
