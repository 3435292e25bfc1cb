"""`Idempotency-Key` on the unsafe routes, on both backends: replays, a changed request, bad keys,
callers kept apart, and one row (one object, one event) however often a client retries."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from sqlalchemy import func, select

from adapters.sql.models import (
    CourseRow,
    EnrollmentRow,
    FileRow,
    LessonProgressRow,
    LessonRow,
    QuestionRow,
    QuizAttemptRow,
    QuizRow,
)
from tests.http.test_auth import problem
from tests.support.api import Api, unique_email
from tests.support.learning import classroom, enroll, quiz_room

KEY = {"Idempotency-Key": "3c2f7a0e-enroll-1"}


async def count(api: Api, row: Any, **where: Any) -> int:
    query = select(func.count()).select_from(row)
    for name, value in where.items():
        query = query.where(getattr(row, name) == value)
    async with api.container.sessions() as session:
        return int(await session.scalar(query) or 0)


async def test_a_retried_enroll_is_replayed_not_repeated(api: Api) -> None:
    room = await classroom(api)
    student = room.cast.student
    body = {"course_id": room.course_id}
    headers = {**student.headers, **KEY}
    first = await api.client.post("/api/v1/enrollments", json=body, headers=headers)
    assert first.status_code == 201, first.text
    assert "idempotency-replayed" not in first.headers
    again = await api.client.post("/api/v1/enrollments", json=body, headers=headers)
    # Without the key a second enroll answers 200 with the existing row; with it, the first answer.
    assert (again.status_code, again.json()) == (201, first.json())
    assert again.headers["idempotency-replayed"] == "true"
    assert again.headers["content-type"] == first.headers["content-type"]
    assert again.headers["x-request-id"] != first.headers["x-request-id"]  # the retry's own
    assert await count(api, EnrollmentRow, student_id=first.json()["student_id"]) == 1
    plain = await api.client.post("/api/v1/enrollments", json=body, headers=student.headers)
    assert plain.status_code == 200


async def test_the_same_key_with_another_request_is_422(api: Api) -> None:
    room = await classroom(api)
    other = await classroom(api)
    headers = {**room.cast.student.headers, **KEY}
    assert (
        await api.client.post("/api/v1/enrollments", json={"course_id": room.course_id}, headers=headers)
    ).is_success
    for body, path in (
        ({"course_id": other.course_id}, "/api/v1/enrollments"),  # another body
        ({"course_id": room.course_id}, "/api/v1/enrollments?x=1"),  # another target
    ):
        r = await api.client.post(path, json=body, headers=headers)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        # Not a validation problem of the request's members: a misuse of the key.
        assert (r.json()["type"], r.json()["detail"]) == (
            "about:blank",
            "This Idempotency-Key was used with a different request",
        )
    assert await count(api, EnrollmentRow, course_id=other.course["id"]) == 0


@pytest.mark.parametrize("key", ["", " ", "x" * 256, "caf\u00e9", "two words", "tab\there"])
async def test_keys_that_are_not_1_to_255_visible_ascii_characters_are_400(api: Api, key: str) -> None:
    room = await classroom(api)
    headers = {**room.cast.student.headers, "Idempotency-Key": key.encode("latin-1")}
    r = await api.client.post("/api/v1/enrollments", json={"course_id": room.course_id}, headers=headers)
    problem(r, 400, "Idempotency-Key must be 1 to 255 visible ASCII characters")
    assert await count(api, EnrollmentRow, course_id=room.course["id"]) == 0


async def test_a_structured_field_string_key_is_accepted(api: Api) -> None:
    room = await classroom(api)
    headers = {**room.cast.student.headers, "Idempotency-Key": '"8e03978e-40d5-43e8-bc93-6894a57f9324"'}
    first = await api.client.post("/api/v1/enrollments", json={"course_id": room.course_id}, headers=headers)
    second = await api.client.post("/api/v1/enrollments", json={"course_id": room.course_id}, headers=headers)
    assert (first.status_code, second.headers.get("idempotency-replayed")) == (201, "true")


async def test_keys_are_scoped_per_caller(api: Api) -> None:
    room = await classroom(api)
    one, two = room.cast.student, await api.register()
    body = {"course_id": room.course_id}
    a = await api.client.post("/api/v1/enrollments", json=body, headers={**one.headers, **KEY})
    b = await api.client.post("/api/v1/enrollments", json=body, headers={**two.headers, **KEY})
    assert (a.status_code, b.status_code) == (201, 201)
    assert a.json()["student_id"] != b.json()["student_id"]
    assert "idempotency-replayed" not in b.headers


async def test_progress_time_is_not_counted_twice(api: Api) -> None:
    room = await classroom(api)
    student = room.cast.student
    eid = (await enroll(api, student, room.course_id))["id"]
    url = f"/api/v1/enrollments/{eid}/lessons/{room.lessons[0]['id']}/progress"
    headers = {**student.headers, "Idempotency-Key": "progress-1"}
    for _ in range(3):
        r = await api.client.put(url, json={"status": "in_progress", "time_spent_seconds": 40}, headers=headers)
        assert r.status_code == 200, r.text
        assert r.json()["time_spent_seconds"] == 40
    enrollment = (await api.client.get(f"/api/v1/enrollments/{eid}", headers=student.headers)).json()
    assert enrollment["total_time_spent_seconds"] == 40
    assert await count(api, LessonProgressRow, enrollment_id=enrollment["id"]) == 1


async def test_attempt_start_and_submit(api: Api) -> None:
    qr = await quiz_room(api)
    student = qr.room.cast.student
    await enroll(api, student, qr.room.course_id)
    start = {**student.headers, "Idempotency-Key": "start-1"}
    first = await api.client.post(qr.attempts, headers=start)
    again = await api.client.post(qr.attempts, headers=start)
    assert (first.status_code, again.status_code, again.json()["id"]) == (201, 201, first.json()["id"])
    submit = {**student.headers, "Idempotency-Key": "submit-1"}
    url = f"{qr.attempts}/{first.json()['id']}/submit"
    graded = await api.client.post(url, json={"answers": qr.right_answers()}, headers=submit)
    replay = await api.client.post(url, json={"answers": qr.right_answers()}, headers=submit)
    assert (graded.status_code, replay.status_code, replay.json()) == (200, 200, graded.json())
    assert await count(api, QuizAttemptRow, quiz_id=qr.quiz["id"]) == 1


async def test_an_upload_is_stored_once(api: Api) -> None:
    student = await api.register()
    headers = {**student.headers, "Idempotency-Key": "upload-1"}
    files = {"file": ("notes.pdf", b"%PDF-1.4 idempotent", "application/pdf")}
    first = await api.client.post("/api/v1/files/upload", files=files, headers=headers)
    again = await api.client.post("/api/v1/files/upload", files=files, headers=headers)
    assert first.status_code == 201, first.text
    assert (again.status_code, again.json()) == (201, first.json())
    assert await count(api, FileRow, uploader_id=student.user["id"]) == 1


async def test_an_upload_whose_answer_was_lost_is_found_again_by_its_retry(api: Api) -> None:
    """The process died after the upload committed and before its response was stored: the retry
    runs again, and the file's id (stable for the caller and key) leads it to the file already
    made, with no second row or object."""
    student = await api.register()
    headers = {**student.headers, "Idempotency-Key": "upload-lost"}
    files = {"file": ("notes.pdf", b"%PDF-1.4 lost answer", "application/pdf")}
    first = await api.client.post("/api/v1/files/upload", files=files, headers=headers)
    assert first.status_code == 201, first.text
    record = f"idem:user:{student.user['id']}:{hashlib.sha256(b'upload-lost').hexdigest()}"
    await api.container.kv.delete(record)  # as if it had never been stored
    again = await api.client.post("/api/v1/files/upload", files=files, headers=headers)
    assert (again.status_code, again.json()) == (201, first.json())
    assert "idempotency-replayed" not in again.headers  # it ran again, and met the first one's file
    assert await count(api, FileRow, uploader_id=student.user["id"]) == 1
    assert objects(api.container.settings.storage_url) == 1


def objects(storage_url: str) -> int:
    return sum(1 for f in Path(urlparse(storage_url).path).rglob("*") if f.is_file())


async def test_a_registration_is_never_replayed(api: Api) -> None:
    """Its answer carries tokens: another client behind the same address with the same key and
    body must not receive them. The retry runs again, as a fresh request would."""
    body = {"email": unique_email(), "full_name": "Retry Me", "password": "password-1"}
    headers = {"Idempotency-Key": "register-1"}
    first = await api.client.post("/api/v1/auth/register", json=body, headers=headers)
    again = await api.client.post("/api/v1/auth/register", json=body, headers=headers)
    assert first.status_code == 201, first.text
    assert "idempotency-replayed" not in again.headers
    problem(again, 409, "Email is already registered")


async def test_a_replay_checks_the_caller_again(api: Api) -> None:
    """A stored answer is not replayed once its caller signed out, or was deactivated."""
    room = await classroom(api)
    student = room.cast.student
    body = {"course_id": room.course_id}
    first = await api.client.post("/api/v1/enrollments", json=body, headers={**student.headers, **KEY})
    assert first.status_code == 201
    r = await api.client.post("/api/v1/auth/logout", json={"refresh_token": student.refresh}, headers=student.headers)
    assert r.status_code == 204
    replay = await api.client.post("/api/v1/enrollments", json=body, headers={**student.headers, **KEY})
    problem(replay, 401, "Token has been revoked")
    admin = await api.admin()
    other = await api.register()
    await api.client.post("/api/v1/files/upload", headers={**other.headers, "Idempotency-Key": "f-1"},
                          files={"file": ("a.pdf", b"%PDF-1.4", "application/pdf")})  # fmt: skip
    r = await api.client.patch(f"/api/v1/users/{other.user['id']}", json={"is_active": False}, headers=admin.headers)
    assert r.status_code == 200
    replay = await api.client.post(
        "/api/v1/files/upload",
        headers={**other.headers, "Idempotency-Key": "f-1"},
        files={"file": ("a.pdf", b"%PDF-1.4", "application/pdf")},
    )
    assert replay.status_code == 401 and "idempotency-replayed" not in replay.headers


async def test_an_anonymous_body_is_not_read_before_the_401(api: Api) -> None:
    """A body far past the JSON limit, sent with a key and no credentials, is refused at once and
    never read: on a JSON route, and on the upload route, whose own limit is 100 MiB."""
    for path, content_type in (
        ("/api/v1/enrollments", "application/json"),
        ("/api/v1/files/upload", "multipart/form-data; boundary=x"),
    ):
        received = 0

        async def huge() -> Any:
            nonlocal received
            for _ in range(60):
                received += 1
                yield b"x" * (1024 * 1024)

        r = await api.client.post(path, content=huge(), headers={**KEY, "Content-Type": content_type})
        assert r.status_code == 401, path
        assert received <= 2, path  # at most what the server had in hand before it answered


async def test_other_routes_ignore_the_header(api: Api) -> None:
    """Safe methods and the sign-in routes (which mint fresh credentials) run every time."""
    student = await api.register()
    headers = {**student.headers, "Idempotency-Key": "read-1"}
    one = await api.client.get("/api/v1/users/me", headers=headers)
    assert "idempotency-replayed" not in (await api.client.get("/api/v1/users/me", headers=headers)).headers
    login = {"email": student.email, "password": student.password}
    a = await api.client.post("/api/v1/auth/login", json=login, headers={"Idempotency-Key": "login-1"})
    b = await api.client.post("/api/v1/auth/login", json=login, headers={"Idempotency-Key": "login-1"})
    assert one.status_code == 200
    assert a.json()["tokens"]["access_token"] != b.json()["tokens"]["access_token"]


async def test_failures_without_valid_credentials_are_not_stored(api: Api) -> None:
    room = await classroom(api)
    body = {"course_id": room.course_id}
    r = await api.client.post("/api/v1/enrollments", json=body, headers={"Authorization": "Bearer nope", **KEY})
    assert r.status_code == 401
    ok = await api.client.post("/api/v1/enrollments", json=body, headers={**room.cast.student.headers, **KEY})
    assert (ok.status_code, ok.headers.get("idempotency-replayed")) == (201, None)


async def test_racing_retries_make_one_row(api: Api) -> None:
    room = await classroom(api)
    headers = {**room.cast.student.headers, "Idempotency-Key": "race-1"}
    body = {"course_id": room.course_id}
    results = await asyncio.gather(
        *(api.client.post("/api/v1/enrollments", json=body, headers=headers) for _ in range(4))
    )
    statuses = sorted(r.status_code for r in results)
    assert set(statuses) <= {201, 409}, [r.text for r in results]
    assert 201 in statuses
    for r in results:
        if r.status_code == 409:
            assert r.json()["detail"] == "A request with this Idempotency-Key is still being processed; retry later"
    assert await count(api, EnrollmentRow, course_id=room.course["id"]) == 1


async def test_the_document_declares_the_header(api: Api) -> None:
    spec = (await api.client.get("/schema/openapi.json")).json()
    enroll_op = spec["paths"]["/api/v1/enrollments"]["post"]
    names = [p["name"] for p in enroll_op["parameters"]]
    assert "Idempotency-Key" in names
    assert {"409", "422"} <= enroll_op["responses"].keys()
    assert "Idempotency-Replayed" in enroll_op["responses"]["201"]["headers"]
    login_op = spec["paths"]["/api/v1/auth/login"]["post"]
    assert "Idempotency-Key" not in [p["name"] for p in login_op.get("parameters", [])]
    register_op = spec["paths"]["/api/v1/auth/register"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in register_op["parameters"]]


@pytest.mark.parametrize("what", ["course", "lesson", "quiz", "question"])
async def test_a_create_whose_answer_was_lost_finds_what_it_made(api: Api, what: str) -> None:
    """The process died after the create committed and before its answer was stored: the retry
    runs again and answers with what the first run made (its id is stable for the caller and key)."""
    room = await quiz_room(api, lessons=2, publish_quiz=False)
    owner, course_id = room.room.cast.owner, room.room.course_id
    course = f"/api/v1/courses/{course_id}"
    path, body, row, where = {
        "course": ("/api/v1/courses", {"title": "Made once"}, CourseRow, {"instructor_id": owner.user["id"]}),
        "lesson": (f"{course}/lessons", {"title": "Once", "lesson_type": "text"}, LessonRow, {"course_id": course_id}),
        "quiz": (
            f"{course}/quizzes",
            {"lesson_id": room.room.lessons[0]["id"], "title": "Once"},
            QuizRow,
            {"course_id": course_id},
        ),
        "question": (
            f"{room.url}/questions",
            {"question_text": "Once?", "question_type": "true_false", "correct_answer": "true"},
            QuestionRow,
            {"quiz_id": room.quiz["id"]},
        ),
    }[what]
    before = await count(api, row, **where)
    headers = {**owner.headers, "Idempotency-Key": f"lost-{what}"}
    first = await api.client.post(path, json=body, headers=headers)
    assert first.status_code == 201, first.text
    record = f"idem:user:{owner.user['id']}:{hashlib.sha256(f'lost-{what}'.encode()).hexdigest()}"
    await api.container.kv.delete(record)  # as if it had never been stored
    again = await api.client.post(path, json=body, headers=headers)
    assert (again.status_code, again.json()) == (201, first.json())
    assert "idempotency-replayed" not in again.headers  # it ran again, and met what the first made
    assert await count(api, row, **where) == before + 1
    # Another key is another request.
    other = await api.client.post(path, json=body, headers={**owner.headers, "Idempotency-Key": f"new-{what}"})
    assert other.status_code == (409 if what == "quiz" else 201), other.text  # one quiz per lesson
    assert other.json().get("id") != first.json()["id"]
