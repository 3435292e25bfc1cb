"""Essays graded by hand and the grading queue over HTTP (API §11.2), on both backends."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from adapters.sql.models import OutboxEventRow
from tests.http.conftest import MakeApiFn
from tests.http.test_auth import invalid, problem
from tests.support.api import Api
from tests.support.assignments import assignment_room, submit
from tests.support.catalog import user_with_role
from tests.support.documented import assert_documented_event
from tests.support.learning import QuizRoom, enroll, enrollment, quiz_room

NO_SUCH = "00000000-0000-0000-0000-00000000abcd"
WEBHOOKS = {"LMS_WEBHOOK_URLS": "http://127.0.0.1:9/hooks", "LMS_WEBHOOK_SECRET": "secret-for-the-outbox"}


async def essay_room(api: Api, **quiz: Any) -> tuple[QuizRoom, dict[str, Any], str]:
    """A quiz of four points of auto-graded questions and a six-point essay, graded by hand; the
    student enrolled. Returns the room, the essay question and the enrollment id."""
    qr = await quiz_room(api, publish_quiz=False, essay_grading="manual", **quiz)
    owner = qr.room.cast.owner
    r = await api.client.post(
        f"{qr.url}/questions",
        json={"question_text": "Explain idempotency.", "question_type": "essay", "points": "6"},
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    essay = r.json()
    r = await api.client.post(f"{qr.url}/publish", headers=owner.headers)
    assert (r.status_code, r.json()["essay_grading"]) == (200, "manual")
    eid = (await enroll(api, qr.room.cast.student, qr.room.course_id))["id"]
    return qr, essay, eid


async def submit_attempt(
    api: Api, qr: QuizRoom, essay_id: str, essay_text: str | None = "Same request, same effect."
) -> dict[str, Any]:
    student = qr.room.cast.student
    attempt = (await api.client.post(qr.attempts, headers=student.headers)).json()
    answers = qr.right_answers()
    if essay_text is not None:
        answers.append({"question_id": essay_id, "answer_text": essay_text})
    r = await api.client.post(
        f"{qr.attempts}/{attempt['id']}/submit", json={"answers": answers}, headers=student.headers
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def grade_url(attempt_id: str, question_id: str) -> str:
    return f"/api/v1/attempts/{attempt_id}/answers/{question_id}/grade"


async def test_an_essay_waits_for_a_grader_and_the_decision_completes_the_lesson(make_api: MakeApiFn) -> None:
    api = await make_api(**WEBHOOKS)
    qr, essay, eid = await essay_room(api)
    cast = qr.room.cast
    pending = await submit_attempt(api, qr, essay["id"])
    assert (pending["status"], pending["score"], pending["percentage"], pending["is_passed"], pending["max_score"]) == (
        "pending_review",
        "4.00",
        None,
        None,
        "10.00",
    )
    assert [a["needs_review"] for a in pending["answers"]] == [False, False, False, True]
    (waiting,) = [json.loads(json.dumps(p)) for p in await payloads(api, "attempt.pending_review")]
    await assert_documented_event(api, waiting)
    assert not await payloads(api, "quiz.submitted")
    # The grading queue shows it, with the essay still to grade; managers read the attempt whole.
    queue = (
        await api.client.get(f"/api/v1/courses/{qr.room.course_id}/grading-queue", headers=cast.owner.headers)
    ).json()
    assert [(i["kind"], i["attempt_id"], i["question_ids"]) for i in queue["items"]] == [
        ("essay", pending["id"], [essay["id"]])
    ]
    seen = (await api.client.get(f"{qr.attempts}/{pending['id']}", headers=cast.owner.headers)).json()
    assert seen["answers"][3]["answer_text"] == "Same request, same effect."
    # Bad grades change nothing.
    url = grade_url(pending["id"], essay["id"])
    problem(
        await api.client.post(url, json={"points": "6.01"}, headers=cast.owner.headers),
        400,
        "Points must be between 0 and the question's points",
    )
    problem(
        await api.client.post(url, json={"points": "-1"}, headers=cast.owner.headers),
        400,
        "Points must be between 0 and the question's points",
    )
    invalid(await api.client.post(url, json={"points": "six"}, headers=cast.owner.headers), "body.points")
    mc = qr.questions[0]["id"]
    problem(
        await api.client.post(grade_url(pending["id"], mc), json={"points": "1"}, headers=cast.owner.headers),
        409,
        "Only essay answers are graded by hand",
    )
    problem(
        await api.client.post(grade_url(pending["id"], NO_SUCH), json={"points": "1"}, headers=cast.owner.headers),
        404,
        "Question not found in this attempt",
    )
    problem(
        await api.client.post(grade_url(NO_SUCH, essay["id"]), json={"points": "1"}, headers=cast.owner.headers),
        404,
        "Attempt not found",
    )
    for who in (cast.student, cast.other):
        problem(
            await api.client.post(url, json={"points": "1"}, headers=who.headers),
            403,
            "Not authorized to grade attempts for this course",
        )
    assert (await enrollment(api, cast.student, eid))["completed_lessons_count"] == 0
    # The decision: 4 + 3 = 7 of 10, 70 %: a pass (passing score 70), which completes the lesson.
    r = await api.client.post(url, json={"points": "3", "feedback": "Give an example."}, headers=cast.owner.headers)
    assert r.status_code == 200, r.text
    decided = r.json()
    assert (decided["status"], decided["score"], decided["percentage"], decided["is_passed"]) == (
        "graded",
        "7.00",
        "70.00",
        True,
    )
    assert (decided["answers"][3]["points_earned"], decided["answers"][3]["feedback"]) == ("3.00", "Give an example.")
    assert (await enrollment(api, cast.student, eid))["completed_lessons_count"] == 1
    (graded,) = [json.loads(json.dumps(p)) for p in await payloads(api, "attempt.graded")]
    await assert_documented_event(api, graded)
    assert graded["data"]["percentage"] == "70.00" and graded["data"]["is_passed"] is True
    assert (
        await api.client.get(f"/api/v1/courses/{qr.room.course_id}/grading-queue", headers=cast.owner.headers)
    ).json()["items"] == []
    # A re-grade replaces the points and decides again; the lesson stays completed.
    again = (await api.client.post(url, json={"points": "0"}, headers=cast.admin.headers)).json()
    assert (again["percentage"], again["is_passed"]) == ("40.00", False)
    assert (await enrollment(api, cast.student, eid))["completed_lessons_count"] == 1
    assert len(await payloads(api, "attempt.graded")) == 2
    mine = (await api.client.get(f"{qr.attempts}/{pending['id']}", headers=cast.student.headers)).json()
    assert mine["answers"][3]["feedback"] is None and mine["answers"][3]["points_earned"] == "0.00"


async def test_an_unanswered_essay_waits_too_and_zero_grading_is_unchanged(api: Api) -> None:
    qr, essay, _ = await essay_room(api, max_attempts=2)
    pending = await submit_attempt(api, qr, essay["id"], essay_text=None)
    assert pending["status"] == "pending_review"
    # Pending attempts count toward max_attempts.
    second = await submit_attempt(api, qr, essay["id"], essay_text=None)
    assert second["attempt_number"] == 2
    problem(await api.client.post(qr.attempts, headers=qr.room.cast.student.headers), 403, "Maximum attempts reached")
    plain = await quiz_room(api)
    r = await api.client.post(
        f"{plain.url}/questions",
        json={"question_text": "Why?", "question_type": "essay", "points": "1"},
        headers=plain.room.cast.owner.headers,
    )
    assert r.status_code == 201
    await enroll(api, plain.room.cast.student, plain.room.course_id)
    attempt = (await api.client.post(plain.attempts, headers=plain.room.cast.student.headers)).json()
    r = await api.client.post(
        f"{plain.attempts}/{attempt['id']}/submit",
        json={"answers": plain.right_answers()},
        headers=plain.room.cast.student.headers,
    )
    assert (r.json()["status"], r.json()["percentage"]) == ("graded", "80.00")  # essays score 0 under "zero"
    # A manager may still grade such an essay by hand: the attempt is decided again.
    essay_answer = r.json()["answers"][3]["question_id"]
    url = grade_url(attempt["id"], essay_answer)
    regraded = (await api.client.post(url, json={"points": "1"}, headers=plain.room.cast.owner.headers)).json()
    assert (regraded["status"], regraded["percentage"]) == ("graded", "100.00")
    started = (await api.client.post(plain.attempts, headers=plain.room.cast.student.headers)).json()
    problem(
        await api.client.post(
            grade_url(started["id"], essay_answer), json={"points": "1"}, headers=plain.room.cast.owner.headers
        ),
        409,
        "Attempt is not submitted yet",
    )


async def test_the_queue_lists_submissions_and_essays_oldest_first(api: Api) -> None:
    ar = await assignment_room(api)
    cast = ar.room.cast
    made = await submit(api, cast.student, ar)
    url = f"/api/v1/courses/{ar.room.course_id}/grading-queue"
    body = (await api.client.get(url, headers=cast.owner.headers)).json()
    assert [(i["kind"], i["submission_id"], i["assignment_id"], i["attempt_id"]) for i in body["items"]] == [
        ("submission", made["id"], ar.assignment["id"], None)
    ]
    assert body["items"][0]["student_id"] == cast.student.user["id"]
    outsider = await user_with_role(api, "student")
    for who in (cast.student, cast.other, outsider):
        problem(await api.client.get(url, headers=who.headers), 403, "Not authorized to grade work for this course")
    problem(
        await api.client.get(f"/api/v1/courses/{NO_SUCH}/grading-queue", headers=cast.owner.headers),
        404,
        "Course not found",
    )
    r = await api.client.post(
        f"/api/v1/submissions/{made['id']}/grade", json={"points": "5"}, headers=cast.owner.headers
    )
    assert r.status_code == 200
    assert (await api.client.get(url, headers=cast.admin.headers)).json()["total"] == 0


async def payloads(api: Api, event_type: str) -> list[Any]:
    async with api.container.sessions() as session:
        rows = await session.execute(select(OutboxEventRow.payload).where(OutboxEventRow.type == event_type))
        return list(rows.scalars().all())
