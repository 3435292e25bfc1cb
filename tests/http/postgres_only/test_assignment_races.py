"""Assignments on PostgreSQL: submissions racing for the last slot, graders racing on one
submission (two app instances on one database), and the statements a submission and a grading cost."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from adapters.sql.models import LessonProgressRow, OutboxEventRow, SubmissionRow
from tests.http.conftest import MakeApiFn
from tests.http.postgres_only.test_round_trips import counting
from tests.support.assignments import assignment_room, submit
from tests.support.learning import enrollment

WEBHOOKS = {"LMS_WEBHOOK_URLS": "http://127.0.0.1:9/hooks", "LMS_WEBHOOK_SECRET": "secret-for-the-outbox"}


async def count(api: Any, query: Any) -> int:
    async with api.container.sessions() as session:
        return int(await session.scalar(query) or 0)


async def test_two_submissions_racing_for_the_last_slot_make_one(make_api: MakeApiFn) -> None:
    one, two = await make_api(), await make_api()
    ar = await assignment_room(one, max_submissions=2)
    student = ar.room.cast.student
    await submit(one, student, ar)
    for _ in range(2):  # the last slot; then, after a return, the extra one
        results = await asyncio.gather(
            *(api.client.post(ar.submissions, json={"text": "mine"}, headers=student.headers) for api in (one, two))
        )
        assert sorted(r.status_code for r in results) == [201, 409]
        assert next(r for r in results if r.status_code == 409).json()["detail"] == "Maximum submissions reached"
        latest = next(r for r in results if r.status_code == 201).json()
        r = await one.client.post(
            f"/api/v1/submissions/{latest['id']}/return", json={"feedback": "again"}, headers=ar.room.cast.owner.headers
        )
        assert r.status_code == 200
    numbers = select(SubmissionRow.number).where(SubmissionRow.assignment_id == ar.assignment["id"])
    async with one.container.sessions() as session:
        assert sorted((await session.execute(numbers)).scalars().all()) == [1, 2, 3]


async def test_two_graders_at_once_both_grade_and_complete_the_lesson_once(make_api: MakeApiFn) -> None:
    one, two = await make_api(**WEBHOOKS), await make_api(**WEBHOOKS)
    ar = await assignment_room(one)
    cast = ar.room.cast
    sid = (await submit(one, cast.student, ar))["id"]
    url = f"/api/v1/submissions/{sid}/grade"
    results = await asyncio.gather(
        one.client.post(url, json={"points": "7"}, headers=cast.owner.headers),
        two.client.post(url, json={"points": "9"}, headers=cast.admin.headers),
    )
    assert [r.status_code for r in results] == [200, 200]
    stored = (await one.client.get(f"/api/v1/submissions/{sid}", headers=cast.owner.headers)).json()
    # The last write wins whole: its points, percentage and grader together.
    assert (stored["final_percentage"], stored["graded_by"]) in {
        ("70.00", cast.owner.user["id"]),
        ("90.00", cast.admin.user["id"]),
    }
    graded = select(func.count()).select_from(OutboxEventRow).where(OutboxEventRow.type == "submission.graded")
    assert await count(one, graded) == 2
    completed = select(func.count()).select_from(OutboxEventRow).where(OutboxEventRow.type == "enrollment.completed")
    assert await count(one, completed) == 1
    rows = (
        select(func.count()).select_from(LessonProgressRow).where(LessonProgressRow.enrollment_id == ar.enrollment_id)
    )
    assert await count(one, rows) == 1
    assert (await enrollment(one, cast.student, ar.enrollment_id))["status"] == "completed"


async def test_a_submission_and_a_grading_cost_few_statements(
    make_api: MakeApiFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = await make_api()
    ar = await assignment_room(api, lesson_id=None, max_submissions=5)
    student, owner = ar.room.cast.student, ar.room.cast.owner
    await submit(api, student, ar)  # warm
    async with counting(api, monkeypatch) as trips:
        made = await submit(api, student, ar)
    # The caller; then the assignment with its course, the locked enrollment, its submissions, the
    # insert, the event and the audit line.
    assert trips.sql == 1 + 6, trips
    async with counting(api, monkeypatch) as trips:
        r = await api.client.post(
            f"/api/v1/submissions/{made['id']}/grade", json={"points": "5"}, headers=owner.headers
        )
    assert r.status_code == 200
    # The caller; the submission, its assignment and course, the enrollment and the submission
    # locked, the update, the event and the audit line; after the commit, the student for the email.
    assert trips.sql == 1 + 7 + 1, trips


async def test_a_gradebook_page_is_three_statements(make_api: MakeApiFn, monkeypatch: pytest.MonkeyPatch) -> None:
    api = await make_api()
    ar = await assignment_room(api)
    await submit(api, ar.room.cast.student, ar)
    url = f"/api/v1/courses/{ar.room.course_id}/gradebook"
    async with counting(api, monkeypatch) as trips:
        r = await api.client.get(url, headers=ar.room.cast.owner.headers)
    assert r.status_code == 200, r.text
    # The caller; then the course with its items, the page of students with the total, their results.
    assert trips.sql == 1 + 3, trips
