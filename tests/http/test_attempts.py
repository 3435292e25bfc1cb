"""Quiz attempts over HTTP (API §5.8, §7.8): who may attempt, limits, the time limit on a moved
clock, submit validation, grading, masking, and passing that completes the lesson."""

from __future__ import annotations

import json

from sqlalchemy import select

from adapters.sql.models import OutboxEventRow
from tests.http.conftest import MakeApiFn
from tests.http.test_auth import invalid, problem
from tests.support.api import Api
from tests.support.catalog import user_with_role
from tests.support.documented import assert_documented_event
from tests.support.learning import audit_actions, complete, enroll, enrollment, quiz_room
from tests.unit.fakes import FakeClock

NO_SUCH = "00000000-0000-0000-0000-00000000abcd"


async def test_a_student_passes_the_quiz_and_completes_the_course(api: Api) -> None:
    qr = await quiz_room(api, lessons=2)
    student = qr.room.cast.student
    eid = (await enroll(api, student, qr.room.course_id))["id"]
    await complete(api, student, eid, qr.room.lessons[0]["id"])
    r = await api.client.post(qr.attempts, headers=student.headers)
    assert r.status_code == 201, r.text
    started = r.json()
    assert (started["attempt_number"], started["status"], started["max_score"], started["expires_at"]) == (
        1,
        "in_progress",
        "4.00",
        None,
    )
    problem(await api.client.post(qr.attempts, headers=student.headers), 403, "You already have an in-progress attempt")
    r = await api.client.post(
        f"{qr.attempts}/{started['id']}/submit", json={"answers": qr.right_answers()}, headers=student.headers
    )
    assert r.status_code == 200, r.text
    result = r.json()
    assert (result["status"], result["score"], result["percentage"], result["is_passed"]) == (
        "graded",
        "4.00",
        "100.00",
        True,
    )
    assert [a["question_id"] for a in result["answers"]] == [q["id"] for q in qr.questions]
    assert all(a["is_correct"] for a in result["answers"])
    assert result["answers"][1]["answer_text"] == "True"  # trimmed
    state = await enrollment(api, student, eid)
    assert (state["status"], state["progress_percentage"]) == ("completed", "100.00")
    problem(
        await api.client.post(f"{qr.attempts}/{started['id']}/submit", json={}, headers=student.headers),
        403,
        "Attempt is already submitted",
    )
    listed = (await api.client.get(f"{qr.attempts}/my-attempts", headers=student.headers)).json()
    assert [(a["attempt_number"], a["status"]) for a in listed["items"]] == [(1, "graded")]
    assert "answers" not in listed["items"][0]
    shown = (await api.client.get(f"{qr.attempts}/{started['id']}", headers=student.headers)).json()
    assert shown == result
    actions = [a for a, _ in await audit_actions(api, started["id"])]
    assert actions == ["quiz_attempt_started", "quiz_attempt_submitted"]


async def test_failing_scores_and_leaves_the_lesson_open(api: Api) -> None:
    qr = await quiz_room(api)
    student = qr.room.cast.student
    eid = (await enroll(api, student, qr.room.course_id))["id"]
    attempt = (await api.client.post(qr.attempts, headers=student.headers)).json()
    mc, tf, _ = qr.questions
    wrong = next(o["option_id"] for o in mc["options"] if not o["is_correct"])
    answers = [{"question_id": mc["id"], "selected_option_id": wrong}, {"question_id": tf["id"], "answer_text": "TRUE"}]
    r = await api.client.post(
        f"{qr.attempts}/{attempt['id']}/submit", json={"answers": answers}, headers=student.headers
    )
    body = r.json()
    assert (body["score"], body["percentage"], body["is_passed"]) == ("1.00", "25.00", False)
    assert [a["points_earned"] for a in body["answers"]] == ["0.00", "1.00", "0.00"]  # unanswered scores 0
    assert (await enrollment(api, student, eid))["completed_lessons_count"] == 0
    second = (await api.client.post(qr.attempts, headers=student.headers)).json()
    assert second["attempt_number"] == 2


async def test_who_may_attempt(api: Api) -> None:
    qr = await quiz_room(api)
    cast = qr.room.cast
    for who in (cast.owner, cast.admin):
        problem(await api.client.post(qr.attempts, headers=who.headers), 403, "Only students can start quiz attempts")
        problem(
            await api.client.get(f"{qr.attempts}/my-attempts", headers=who.headers),
            403,
            "Only students can access own attempts",
        )
        problem(
            await api.client.post(f"{qr.attempts}/{NO_SUCH}/submit", json={}, headers=who.headers),
            403,
            "Only students can submit attempts",
        )
    problem(await api.client.post(qr.attempts), 401, "Not authenticated")
    outsider = await user_with_role(api, "student")
    problem(
        await api.client.post(qr.attempts, headers=outsider.headers),
        403,
        "You must enroll in course before attempting quiz",
    )
    problem(
        await api.client.get(f"{qr.attempts}/start", headers=outsider.headers),
        403,
        "You must enroll in course before attempting quiz",
    )
    problem(
        await api.client.post(f"/api/v1/quizzes/{NO_SUCH}/attempts", headers=outsider.headers), 404, "Quiz not found"
    )
    invalid(await api.client.post("/api/v1/quizzes/nope/attempts", headers=outsider.headers), "path.quiz_id")
    # Managers may look at the take view of their quiz; another instructor once it is published.
    assert (await api.client.get(f"{qr.attempts}/start", headers=cast.owner.headers)).status_code == 200
    await api.client.patch(qr.url, json={"is_published": False}, headers=cast.owner.headers)
    assert (await api.client.get(f"{qr.attempts}/start", headers=cast.owner.headers)).status_code == 200
    problem(await api.client.get(f"{qr.attempts}/start", headers=cast.other.headers), 403, "Quiz is not published")
    await enroll(api, cast.student, qr.room.course_id)
    problem(await api.client.post(qr.attempts, headers=cast.student.headers), 403, "Quiz is not published")


async def test_other_students_attempts_are_not_found(api: Api) -> None:
    qr = await quiz_room(api)
    mine = qr.room.cast.student
    await enroll(api, mine, qr.room.course_id)
    attempt = (await api.client.post(qr.attempts, headers=mine.headers)).json()
    other = await user_with_role(api, "student")
    await enroll(api, other, qr.room.course_id)
    problem(await api.client.get(f"{qr.attempts}/{attempt['id']}", headers=other.headers), 404, "Attempt not found")
    problem(
        await api.client.post(f"{qr.attempts}/{attempt['id']}/submit", json={}, headers=other.headers),
        404,
        "Attempt not found",
    )
    problem(await api.client.get(f"{qr.attempts}/{NO_SUCH}", headers=mine.headers), 404, "Attempt not found")


async def test_submit_validation_answers_400_and_changes_nothing(api: Api) -> None:
    qr = await quiz_room(api)
    student = qr.room.cast.student
    await enroll(api, student, qr.room.course_id)
    attempt = (await api.client.post(qr.attempts, headers=student.headers)).json()
    url = f"{qr.attempts}/{attempt['id']}/submit"
    mc, tf, sa = qr.questions
    foreign = (await quiz_room(api)).questions[1]["id"]
    for answers, message in (
        (
            [{"question_id": tf["id"], "answer_text": "true"}, {"question_id": tf["id"], "answer_text": "false"}],
            "Duplicate answer for the same question is not allowed",
        ),
        (
            [{"question_id": foreign, "answer_text": "true"}],
            "Answer contains a question that does not belong to this quiz",
        ),
        ([{"question_id": mc["id"], "answer_text": "409"}], "Multiple choice answers require selected_option_id"),
        (
            [{"question_id": mc["id"], "selected_option_id": "not-an-option"}],
            "Selected option does not belong to the question",
        ),
        (
            [{"question_id": sa["id"], "selected_option_id": mc["options"][0]["option_id"], "answer_text": "put"}],
            "selected_option_id is only valid for multiple choice questions",
        ),
        ([{"question_id": sa["id"], "answer_text": "   "}], "Answer text is required for this question type"),
        ([{"question_id": tf["id"], "answer_text": "yes"}], "True/false answers must be either 'true' or 'false'"),
    ):
        problem(await api.client.post(url, json={"answers": answers}, headers=student.headers), 400, message)
    invalid(
        await api.client.post(url, json={"answers": [{"question_id": "x"}]}, headers=student.headers),
        "body.answers.0.question_id",
    )
    invalid(await api.client.post(url, json={"answers": "all"}, headers=student.headers), "body.answers")
    state = (await api.client.get(f"{qr.attempts}/{attempt['id']}", headers=student.headers)).json()
    assert (state["status"], state["answers"]) == ("in_progress", None)


async def test_hidden_correct_answers_are_left_out(api: Api) -> None:
    qr = await quiz_room(api, show_correct_answers=False)
    student = qr.room.cast.student
    await enroll(api, student, qr.room.course_id)
    attempt = (await api.client.post(qr.attempts, headers=student.headers)).json()
    r = await api.client.post(
        f"{qr.attempts}/{attempt['id']}/submit", json={"answers": qr.right_answers()}, headers=student.headers
    )
    for body in (r.json(), (await api.client.get(f"{qr.attempts}/{attempt['id']}", headers=student.headers)).json()):
        assert body["score"] == "4.00"
        assert body["is_passed"] is True
        for answer in body["answers"]:
            assert "is_correct" not in answer
            assert "points_earned" not in answer


async def test_max_attempts_counts_every_attempt(api: Api) -> None:
    qr = await quiz_room(api, max_attempts=2)
    student = qr.room.cast.student
    await enroll(api, student, qr.room.course_id)
    for _ in range(2):
        attempt = (await api.client.post(qr.attempts, headers=student.headers)).json()
        await api.client.post(f"{qr.attempts}/{attempt['id']}/submit", json={}, headers=student.headers)
    problem(await api.client.post(qr.attempts, headers=student.headers), 403, "Maximum attempts reached")


async def test_the_time_limit_on_a_moved_clock(make_api: MakeApiFn) -> None:
    clock = FakeClock()
    api = await make_api(clock=clock)
    qr = await quiz_room(api, time_limit_minutes=10, max_attempts=3)
    student = qr.room.cast.student
    await enroll(api, student, qr.room.course_id)
    first = (await api.client.post(qr.attempts, headers=student.headers)).json()
    assert first["expires_at"] is not None
    clock.advance(minutes=11)
    url = f"{qr.attempts}/{first['id']}/submit"
    # Answers are validated before the time limit.
    problem(
        await api.client.post(url, json={"answers": [{"question_id": NO_SUCH}]}, headers=student.headers),
        400,
        "Answer contains a question that does not belong to this quiz",
    )
    problem(
        await api.client.post(url, json={"answers": qr.right_answers()}, headers=student.headers),
        403,
        "Time limit exceeded for this attempt",
    )
    shown = (await api.client.get(f"{qr.attempts}/{first['id']}", headers=student.headers)).json()
    assert (shown["status"], shown["score"], shown["percentage"], shown["is_passed"], shown["answers"]) == (
        "graded",
        "0.00",
        "0.00",
        False,
        [],
    )
    second = (await api.client.post(qr.attempts, headers=student.headers)).json()
    assert second["attempt_number"] == 2
    clock.advance(minutes=30)
    third = await api.client.post(qr.attempts, headers=student.headers)  # expires the second on the way
    assert third.json()["attempt_number"] == 3
    listed = (await api.client.get(f"{qr.attempts}/my-attempts", headers=student.headers)).json()["items"]
    assert [(a["attempt_number"], a["status"]) for a in listed] == [(1, "graded"), (2, "graded"), (3, "in_progress")]
    clock.advance(minutes=30)
    problem(await api.client.post(qr.attempts, headers=student.headers), 403, "Maximum attempts reached")
    expired = [a for a, _ in await audit_actions(api) if a == "quiz_attempt_expired"]
    assert len(expired) == 3


async def test_the_take_view_is_reshuffled(api: Api) -> None:
    qr = await quiz_room(api)
    student = qr.room.cast.student
    await enroll(api, student, qr.room.course_id)
    orders = set()
    option_orders = set()
    for _ in range(12):
        body = (await api.client.get(f"{qr.attempts}/start", headers=student.headers)).json()
        orders.add(tuple(q["id"] for q in body["questions"]))
        mc = next(q for q in body["questions"] if q["question_type"] == "multiple_choice")
        option_orders.add(tuple(o["option_id"] for o in mc["options"]))
        assert body["quiz"]["total_points"] == "4.00"
    assert len(orders) > 1
    assert len(option_orders) > 1


async def test_submitting_records_the_event(make_api: MakeApiFn) -> None:
    api = await make_api(LMS_WEBHOOK_URLS="http://127.0.0.1:9/hooks", LMS_WEBHOOK_SECRET="secret-for-the-outbox")
    qr = await quiz_room(api)
    student = qr.room.cast.student
    eid = (await enroll(api, student, qr.room.course_id))["id"]
    attempt = (await api.client.post(qr.attempts, headers=student.headers)).json()
    await api.client.post(
        f"{qr.attempts}/{attempt['id']}/submit", json={"answers": qr.right_answers()}, headers=student.headers
    )
    async with api.container.sessions() as session:
        payloads = (
            (await session.execute(select(OutboxEventRow.payload).where(OutboxEventRow.type == "quiz.submitted")))
            .scalars()
            .all()
        )
    (payload,) = payloads
    await assert_documented_event(api, json.loads(json.dumps(payload)))
    data = json.loads(json.dumps(payload))["data"]
    assert data == {
        "attempt_id": attempt["id"],
        "quiz_id": qr.quiz["id"],
        "enrollment_id": eid,
        "student_id": student.user["id"],
        "percentage": "100.00",
        "is_passed": True,
        "submitted_at": data["submitted_at"],
    }
