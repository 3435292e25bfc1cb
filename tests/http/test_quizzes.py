"""Quizzes and questions over HTTP for every role (API §5.7, §7.7)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from adapters.sql.models import QuestionRow
from tests.http.conftest import MakeApiFn
from tests.http.test_auth import invalid, problem
from tests.support.api import Api
from tests.support.catalog import create_course, create_lesson, user_with_role
from tests.support.learning import MC_QUESTION, SA_QUESTION, TF_QUESTION, classroom, complete, enroll, quiz_room

NO_SUCH = "00000000-0000-0000-0000-00000000abcd"
SECRET_MEMBERS = {"is_correct", "correct_answer", "explanation"}


def members(value: Any) -> set[str]:
    """Every member name anywhere in a JSON value."""
    if isinstance(value, dict):
        return set(value) | {name for item in value.values() for name in members(item)}
    if isinstance(value, list):
        return {name for item in value for name in members(item)}
    return set()


async def test_create_publish_and_read_a_quiz(api: Api) -> None:
    qr = await quiz_room(api, publish_quiz=False, passing_score="60", max_attempts=2, time_limit_minutes=15)
    quiz, owner = qr.quiz, qr.room.cast.owner
    assert (quiz["is_published"], quiz["passing_score"], quiz["max_attempts"], quiz["quiz_type"]) == (
        False,
        "60.00",
        2,
        "graded",
    )
    assert [q["order_index"] for q in qr.questions] == [1, 2, 3]
    mc = qr.questions[0]
    assert len({o["option_id"] for o in mc["options"]}) == 3  # generated ids
    assert [o["option_text"] for o in mc["options"]] == ["404", "409", "500"]  # order kept
    student = qr.room.cast.student
    problem(await api.client.get(qr.url, headers=student.headers), 403, "Not authorized to access this quiz")
    listed = await api.client.get(f"/api/v1/courses/{qr.room.course_id}/quizzes", headers=student.headers)
    assert listed.json()["total"] == 0  # non-managers see published quizzes only
    r = await api.client.post(f"{qr.url}/publish", headers=owner.headers)
    assert r.status_code == 200
    assert (await api.client.post(f"{qr.url}/publish", headers=owner.headers)).json()["is_published"]  # idempotent
    for who in ({}, student.headers, qr.room.cast.other.headers):
        r = await api.client.get(qr.url, headers=who)
        assert r.status_code == 200, r.text
        items = (await api.client.get(f"/api/v1/courses/{qr.room.course_id}/quizzes", headers=who)).json()["items"]
        assert [(i["id"], i["total_questions"], i["total_points"]) for i in items] == [(quiz["id"], 3, "4.00")]


async def test_public_question_views_never_hold_answers(api: Api) -> None:
    qr = await quiz_room(api)
    student = qr.room.cast.student
    await enroll(api, student, qr.room.course_id)
    public = [
        await api.client.get(f"{qr.url}/questions", headers=student.headers),
        await api.client.get(f"{qr.url}/questions"),
        await api.client.get(f"{qr.attempts}/start", headers=student.headers),
        await api.client.get(qr.url, headers=student.headers),
        await api.client.get(f"/api/v1/courses/{qr.room.course_id}/quizzes"),
    ]
    for r in public:
        assert r.status_code == 200, r.text
        assert not members(r.json()) & SECRET_MEMBERS, r.json()
    managed = await api.client.get(f"{qr.url}/questions/manage", headers=qr.room.cast.owner.headers)
    assert members(managed.json()) >= SECRET_MEMBERS
    problem(
        await api.client.get(f"{qr.url}/questions/manage", headers=student.headers),
        403,
        "Not authorized to manage quizzes for this course",
    )


async def test_who_manages_quizzes_and_the_lookup_order(api: Api) -> None:
    qr = await quiz_room(api, publish_quiz=False)
    owner, other, admin = qr.room.cast.owner, qr.room.cast.other, qr.room.cast.admin
    cid = qr.room.course_id
    for method, url, body in (
        ("PATCH", qr.url, {"title": "Renamed quiz"}),
        ("POST", f"{qr.url}/publish", None),
        ("POST", f"{qr.url}/questions", TF_QUESTION),
        ("DELETE", qr.url, None),
    ):
        r = await api.client.request(method, url, json=body, headers=other.headers)
        problem(r, 403, "Not authorized to manage quizzes for this course")
        problem(await api.client.request(method, url, json=body), 401, "Not authenticated")
    problem(
        await api.client.get(f"/api/v1/courses/{cid}/quizzes/{NO_SUCH}", headers=owner.headers), 404, "Quiz not found"
    )
    elsewhere = await create_course(api, owner)
    problem(
        await api.client.get(f"/api/v1/courses/{elsewhere['id']}/quizzes/{qr.quiz['id']}", headers=owner.headers),
        404,
        "Quiz not found in this course",
    )
    invalid(await api.client.get(f"/api/v1/courses/{cid}/quizzes/nope", headers=owner.headers), "path.quiz_id")
    invalid(
        await api.client.get(f"/api/v1/courses/nope/quizzes/{qr.quiz['id']}", headers=owner.headers), "path.course_id"
    )
    problem(await api.client.get(f"/api/v1/courses/{NO_SUCH}/quizzes"), 404, "Course not found")
    draft = await create_course(api, owner)
    problem(
        await api.client.get(f"/api/v1/courses/{draft['id']}/quizzes", headers=other.headers),
        403,
        "Not authorized to view quizzes for this course",
    )
    r = await api.client.patch(qr.url, json={"title": "By the admin"}, headers=admin.headers)
    assert (r.status_code, r.json()["title"]) == (200, "By the admin")


async def test_quiz_creation_rules(api: Api) -> None:
    room = await classroom(api, lessons=1)
    owner, cid = room.cast.owner, room.course_id
    url = f"/api/v1/courses/{cid}/quizzes"
    lesson = room.lessons[0]["id"]
    other_lesson = (await create_lesson(api, owner, (await create_course(api, owner))["id"]))["id"]
    problem(
        await api.client.post(url, json={"lesson_id": other_lesson, "title": "Quiz"}, headers=owner.headers),
        404,
        "Lesson not found in this course",
    )
    problem(
        await api.client.post(
            f"/api/v1/courses/{NO_SUCH}/quizzes", json={"lesson_id": lesson, "title": "Quiz"}, headers=owner.headers
        ),
        404,
        "Course not found",
    )
    for body, field in (
        ({"lesson_id": lesson, "title": "ab"}, "body.title"),
        ({"lesson_id": "x", "title": "Quiz"}, "body.lesson_id"),
        ({"lesson_id": lesson, "title": "Quiz", "passing_score": 101}, "body.passing_score"),
        ({"lesson_id": lesson, "title": "Quiz", "passing_score": "-1"}, "body.passing_score"),
        ({"lesson_id": lesson, "title": "Quiz", "max_attempts": 0}, "body.max_attempts"),
        ({"lesson_id": lesson, "title": "Quiz", "time_limit_minutes": 0}, "body.time_limit_minutes"),
        ({"lesson_id": lesson, "title": "Quiz", "quiz_type": "exam"}, "body.quiz_type"),
        ({"title": "Quiz"}, "body.lesson_id"),
    ):
        invalid(await api.client.post(url, json=body, headers=owner.headers), field)
    r = await api.client.post(url, json={"lesson_id": lesson, "title": "Quiz"}, headers=owner.headers)
    assert r.status_code == 201
    problem(
        await api.client.post(url, json={"lesson_id": lesson, "title": "Again"}, headers=owner.headers),
        409,
        "Lesson already has a quiz",
    )
    quiz_url = f"{url}/{r.json()['id']}"
    problem(
        await api.client.patch(quiz_url, json={"passing_score": None}, headers=owner.headers),
        400,
        "'passing_score' cannot be null",
    )
    r = await api.client.patch(
        quiz_url, json={"max_attempts": None, "description": None, "passing_score": 55.555}, headers=owner.headers
    )
    assert (r.status_code, r.json()["passing_score"]) == (200, "55.56")
    problem(
        await api.client.post(f"{quiz_url}/publish", headers=owner.headers),
        400,
        "Cannot publish quiz without questions",
    )
    problem(
        await api.client.patch(quiz_url, json={"is_published": True}, headers=owner.headers),
        400,
        "Cannot publish quiz without questions",
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {**MC_QUESTION, "options": [{"option_text": "only", "is_correct": True}]},
            "Multiple choice questions must have at least 2 options",
        ),
        (
            {**MC_QUESTION, "options": [{"option_text": "a", "is_correct": True}, {"option_text": " A "}]},
            "Multiple choice options must have unique option_text values",
        ),
        (
            {
                **MC_QUESTION,
                "options": [
                    {"option_text": "a", "option_id": "x"},
                    {"option_text": "b", "option_id": "x", "is_correct": True},
                ],
            },
            "Multiple choice options must have unique option_id values",
        ),
        (
            {**MC_QUESTION, "options": [{"option_text": "a"}, {"option_text": "b"}]},
            "Multiple choice questions must have exactly 1 correct option",
        ),
        ({**MC_QUESTION, "correct_answer": "409"}, "Multiple choice questions must not set correct_answer directly"),
        (
            {**TF_QUESTION, "correct_answer": "yes"},
            "True/false questions require correct_answer to be 'true' or 'false'",
        ),
        ({**TF_QUESTION, "options": [{"option_text": "a"}]}, "True/false questions must not include options"),
        ({**SA_QUESTION, "correct_answer": " "}, "Short answer questions require a non-empty correct_answer"),
        (
            {"question_text": "Discuss", "question_type": "essay", "correct_answer": "x"},
            "Essay questions must not include correct_answer",
        ),
    ],
)
async def test_question_rules_answer_400_and_change_nothing(api: Api, body: dict[str, Any], message: str) -> None:
    qr = await quiz_room(api, publish_quiz=False)
    owner = qr.room.cast.owner
    problem(await api.client.post(f"{qr.url}/questions", json=body, headers=owner.headers), 400, message)
    count = (await api.client.get(f"{qr.url}/questions/manage", headers=owner.headers)).json()["total"]
    assert count == 3


async def test_question_bodies_are_validated(api: Api) -> None:
    qr = await quiz_room(api, publish_quiz=False)
    owner = qr.room.cast.owner
    for body, field in (
        ({**TF_QUESTION, "question_text": "ab"}, "body.question_text"),
        ({**TF_QUESTION, "points": -1}, "body.points"),
        ({**TF_QUESTION, "points": "lots"}, "body.points"),
        ({**TF_QUESTION, "question_type": "poll"}, "body.question_type"),
        ({**MC_QUESTION, "options": [{"option_text": ""}, {"option_text": "b"}]}, "body.options.0.option_text"),
    ):
        invalid(await api.client.post(f"{qr.url}/questions", json=body, headers=owner.headers), field)


async def test_question_updates_merge_and_validate_again(api: Api) -> None:
    qr = await quiz_room(api, publish_quiz=False)
    owner = qr.room.cast.owner
    tf = qr.questions[1]
    url = f"{qr.url}/questions/{tf['id']}"
    problem(
        await api.client.patch(
            url, json={"question_type": "short_answer", "correct_answer": " "}, headers=owner.headers
        ),
        400,
        "Short answer questions require a non-empty correct_answer",
    )
    problem(
        await api.client.patch(url, json={"question_type": "multiple_choice"}, headers=owner.headers),
        400,
        "Multiple choice questions must have at least 2 options",
    )
    problem(await api.client.patch(url, json={"points": None}, headers=owner.headers), 400, "'points' cannot be null")
    r = await api.client.patch(
        url, json={"question_type": "short_answer", "correct_answer": "yes", "points": "2.5"}, headers=owner.headers
    )
    assert (r.status_code, r.json()["question_type"], r.json()["points"], r.json()["order_index"]) == (
        200,
        "short_answer",
        "2.50",
        2,
    )
    problem(
        await api.client.patch(f"{qr.url}/questions/{NO_SUCH}", json={"points": 1}, headers=owner.headers),
        404,
        "Question not found",
    )


async def test_question_order_and_deletion(api: Api) -> None:
    qr = await quiz_room(api, publish_quiz=True)
    owner = qr.room.cast.owner
    first = qr.questions[0]["id"]
    problem(
        await api.client.delete(f"{qr.url}/questions/{first}", headers=owner.headers),
        409,
        "Cannot delete a question from a published quiz",
    )
    r = await api.client.post(f"{qr.url}/questions", json=TF_QUESTION, headers=owner.headers)  # allowed while published
    assert r.json()["order_index"] == 4
    await api.client.patch(qr.url, json={"is_published": False}, headers=owner.headers)
    assert (await api.client.delete(f"{qr.url}/questions/{first}", headers=owner.headers)).status_code == 204
    r = await api.client.post(f"{qr.url}/questions", json=SA_QUESTION, headers=owner.headers)
    assert r.json()["order_index"] == 5  # max + 1; deleting leaves gaps
    positions = [
        q["order_index"]
        for q in (await api.client.get(f"{qr.url}/questions/manage", headers=owner.headers)).json()["items"]
    ]
    assert positions == [2, 3, 4, 5]


async def test_the_quiz_gate_and_deleting_a_quiz(api: Api) -> None:
    qr = await quiz_room(api)
    student, owner, admin = qr.room.cast.student, qr.room.cast.owner, qr.room.cast.admin
    eid = (await enroll(api, student, qr.room.course_id))["id"]
    gated = qr.room.lessons[-1]["id"]
    problem(await complete(api, student, eid, gated), 409, "Lesson is completed by passing its quiz")
    problem(await complete(api, admin, eid, gated), 409, "Lesson is completed by passing its quiz")
    r = await api.client.put(
        f"/api/v1/enrollments/{eid}/lessons/{gated}/progress",
        json={"completion_percentage": 100},
        headers=student.headers,
    )
    problem(r, 409, "Lesson is completed by passing its quiz")
    r = await api.client.put(
        f"/api/v1/enrollments/{eid}/lessons/{gated}/progress",
        json={"time_spent_seconds": 50, "last_position_seconds": 3},
        headers=student.headers,
    )
    assert (r.status_code, r.json()["status"]) == (200, "in_progress")  # time and position stay allowed
    await api.client.patch(qr.url, json={"is_published": False}, headers=owner.headers)  # lifts the gate
    assert (await complete(api, student, eid, gated)).status_code == 200
    assert (await api.client.delete(qr.url, headers=owner.headers)).status_code == 204
    problem(await api.client.get(qr.url, headers=owner.headers), 404, "Quiz not found")


async def test_a_quiz_with_attempts_cannot_be_deleted(api: Api) -> None:
    qr = await quiz_room(api)
    student = qr.room.cast.student
    await enroll(api, student, qr.room.course_id)
    assert (await api.client.post(qr.attempts, headers=student.headers)).status_code == 201
    problem(
        await api.client.delete(qr.url, headers=qr.room.cast.owner.headers),
        409,
        "Quiz has attempts and cannot be deleted",
    )
    other = await user_with_role(api, "student")
    assert other.user["role"] == "student"


async def test_a_lesson_whose_quiz_has_attempts_cannot_be_deleted(api: Api) -> None:
    """Deleting the lesson would delete the quiz and the students' attempts with it: refused as
    deleting the quiz is, while a lesson whose quiz has none still goes (and takes the quiz)."""
    qr = await quiz_room(api)
    owner, student = qr.room.cast.owner, qr.room.cast.student
    lesson = f"/api/v1/lessons/{qr.quiz['lesson_id']}"
    await enroll(api, student, qr.room.course_id)
    assert (await api.client.post(qr.attempts, headers=student.headers)).status_code == 201
    for who in (owner, qr.room.cast.admin):
        problem(
            await api.client.delete(lesson, headers=who.headers),
            409,
            "Lesson has a quiz with attempts and cannot be deleted",
        )
    assert (await api.client.get(qr.url, headers=owner.headers)).status_code == 200  # nothing went
    untried = await quiz_room(api)
    r = await api.client.delete(f"/api/v1/lessons/{untried.quiz['lesson_id']}", headers=untried.room.cast.owner.headers)
    assert r.status_code == 204
    problem(await api.client.get(untried.url, headers=untried.room.cast.owner.headers), 404, "Quiz not found")


async def test_public_questions_are_cached_and_never_stale_after_a_write(make_api: MakeApiFn) -> None:
    one = await make_api()
    # On PostgreSQL a second app shares Redis: the cache of one is the other's. In-process caches
    # are not shared (which is why more than one process requires Redis).
    two = await make_api() if one.backend == "postgres" else one
    qr = await quiz_room(one, publish_quiz=False)
    owner, student = qr.room.cast.owner, qr.room.cast.student
    await enroll(one, student, qr.room.course_id)

    async def views(api: Api) -> tuple[list[str], list[str]]:
        listed = (await api.client.get(f"{qr.url}/questions", headers=student.headers)).json()["items"]
        take = (await api.client.get(f"{qr.attempts}/start", headers=student.headers)).json()["questions"]
        return [q["question_text"] for q in listed], sorted(q["question_text"] for q in take)

    problem(
        await one.client.get(f"{qr.url}/questions", headers=student.headers), 403, "Not authorized to access this quiz"
    )
    await one.client.post(f"{qr.url}/publish", headers=owner.headers)
    texts = [q["question_text"] for q in qr.questions]
    assert await views(one) == (texts, sorted(texts))
    # The cache serves reads: a row changed behind the API's back is not seen...
    async with one.container.sessions() as session:
        await session.execute(
            update(QuestionRow).where(QuestionRow.id == qr.questions[0]["id"]).values(question_text="Behind the API")
        )
        await session.commit()
    assert (await views(one))[0] == texts
    # ...but every write through the API is, at once and in every process.
    r = await one.client.patch(
        f"{qr.url}/questions/{qr.questions[1]['id']}",
        json={"question_text": "Edited through the API"},
        headers=owner.headers,
    )
    assert r.status_code == 200
    expected = ["Behind the API", "Edited through the API", texts[2]]
    for api in (one, two):
        assert await views(api) == (expected, sorted(expected))
    await two.client.post(f"{qr.url}/questions", json=TF_QUESTION, headers=owner.headers)
    for api in (one, two):
        assert len((await views(api))[0]) == 4
    # Authorization comes before the cache: an unenrolled student and a visitor of an unpublished
    # quiz are refused although the entry is warm.
    outsider = await user_with_role(one, "student")
    problem(
        await one.client.get(f"{qr.attempts}/start", headers=outsider.headers),
        403,
        "You must enroll in course before attempting quiz",
    )
    await one.client.patch(qr.url, json={"is_published": False}, headers=owner.headers)
    problem(
        await two.client.get(f"{qr.url}/questions", headers=student.headers), 403, "Not authorized to access this quiz"
    )
    problem(await two.client.get(f"{qr.attempts}/start", headers=student.headers), 403, "Quiz is not published")
