"""Races of quiz attempts on PostgreSQL, through two app instances on one database."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from adapters.sql.models import OutboxEventRow, QuizAttemptRow
from tests.http.conftest import MakeApiFn
from tests.support.learning import enroll, quiz_room

WEBHOOKS = {"LMS_WEBHOOK_URLS": "http://127.0.0.1:9/hooks", "LMS_WEBHOOK_SECRET": "secret-for-the-outbox"}


async def attempts_of(api: object, quiz_id: str) -> int:
    async with api.container.sessions() as session:  # type: ignore[attr-defined]
        query = select(func.count()).select_from(QuizAttemptRow).where(QuizAttemptRow.quiz_id == quiz_id)
        return int(await session.scalar(query) or 0)


async def test_two_starts_at_once_make_one_attempt(make_api: MakeApiFn) -> None:
    one, two = await make_api(), await make_api()
    qr = await quiz_room(one)
    student = qr.room.cast.student
    await enroll(one, student, qr.room.course_id)
    results = await asyncio.gather(*(api.client.post(qr.attempts, headers=student.headers) for api in (one, two)))
    assert sorted(r.status_code for r in results) == [201, 403]
    loser = next(r for r in results if r.status_code == 403)
    assert loser.json()["detail"] == "You already have an in-progress attempt"
    assert await attempts_of(one, qr.quiz["id"]) == 1


async def test_two_submits_at_once_grade_once(make_api: MakeApiFn) -> None:
    one, two = await make_api(**WEBHOOKS), await make_api(**WEBHOOKS)
    qr = await quiz_room(one)
    student = qr.room.cast.student
    await enroll(one, student, qr.room.course_id)
    for _ in range(3):
        attempt = (await one.client.post(qr.attempts, headers=student.headers)).json()
        url = f"{qr.attempts}/{attempt['id']}/submit"
        body = {"answers": qr.right_answers()}
        results = await asyncio.gather(
            *(api.client.post(url, json=body, headers=student.headers) for api in (one, two))
        )
        assert sorted(r.status_code for r in results) == [200, 403]
        assert next(r for r in results if r.status_code == 403).json()["detail"] == "Attempt is already submitted"
        async with one.container.sessions() as session:
            payloads = (await session.execute(select(OutboxEventRow.payload))).scalars().all()
        events = [p for p in payloads if p["type"] == "quiz.submitted" and p["data"]["attempt_id"] == attempt["id"]]
        assert len(events) == 1


async def test_starts_racing_the_last_allowed_attempt(make_api: MakeApiFn) -> None:
    one, two = await make_api(), await make_api()
    qr = await quiz_room(one, max_attempts=2)
    student = qr.room.cast.student
    await enroll(one, student, qr.room.course_id)
    first = (await one.client.post(qr.attempts, headers=student.headers)).json()
    await one.client.post(f"{qr.attempts}/{first['id']}/submit", json={}, headers=student.headers)
    results = await asyncio.gather(
        *(api.client.post(qr.attempts, headers=student.headers) for api in (one, two, one, two))
    )
    assert sorted(r.status_code for r in results) == [201, 403, 403, 403]
    assert await attempts_of(one, qr.quiz["id"]) == 2
