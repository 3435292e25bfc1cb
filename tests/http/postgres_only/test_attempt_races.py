"""Races of quiz attempts on PostgreSQL, through two app instances on one database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

import pytest
from sqlalchemy import func, select

from adapters.sql.models import OutboxEventRow, QuestionRow, QuizAttemptRow
from tests.http.conftest import MakeApiFn
from tests.http.postgres_only.test_round_trips import counting
from tests.http.test_question_banks import banked, make_quiz
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


async def test_two_starts_of_a_drawn_quiz_make_one_attempt_with_one_draw(
    make_api: MakeApiFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """API §12: 500 questions in a bank, 20 drawn per attempt. Racing starts make one attempt, and
    its draw is the one the take view shows. A start costs at most 5 statements after the caller's:
    the quiz with its lesson's lock and question pool, the locked enrollment, its attempts, the
    insert and the audit line."""
    one, two = await make_api(), await make_api()
    b = await banked(one, size=0)
    async with one.container.sessions() as session:
        now = datetime.now(UTC)
        session.add_all(
            QuestionRow(
                bank_id=UUID(b.bank["id"]),
                question_text=f"Pooled question {n}",
                question_type="true_false",
                points=Decimal(1),
                order_index=n,
                correct_answer="true",
                created_at=now,
                updated_at=now,
            )
            for n in range(1, 501)
        )
        await session.commit()
    quiz = await make_quiz(one, b, own=1, draws=[{"bank_id": b.bank["id"], "count": 20}])
    course_id, student = b.room.course_id, b.room.cast.student
    r = await one.client.post(f"/api/v1/courses/{course_id}/quizzes/{quiz['id']}/publish", headers=b.owner.headers)
    assert r.status_code == 200, r.text
    await enroll(one, student, course_id)
    url = f"/api/v1/quizzes/{quiz['id']}/attempts"
    results = await asyncio.gather(*(api.client.post(url, headers=student.headers) for api in (one, two)))
    assert sorted(r.status_code for r in results) == [201, 403]
    assert await attempts_of(one, quiz["id"]) == 1
    async with one.container.sessions() as session:
        drawn = (await session.execute(select(QuizAttemptRow.drawn))).scalars().all()
    assert len(drawn) == 1 and len(drawn[0]) == 20
    taken = (await two.client.get(f"{url}/start", headers=student.headers)).json()["questions"]
    assert {q["id"] for q in taken} >= {d["question_id"] for d in drawn[0]} and len(taken) == 21
    # The statements of a start (the first attempt submitted, so a second may start).
    attempt = next(r for r in results if r.status_code == 201).json()
    await one.client.post(f"{url}/{attempt['id']}/submit", json={"answers": []}, headers=student.headers)
    async with counting(one, monkeypatch) as trips:
        r = await one.client.post(url, headers=student.headers)
    assert r.status_code == 201, r.text
    assert trips.sql == 1 + 5, trips
