"""Enrollments, progress, reviews and course stats over HTTP, for every role (API §5.6, §7.6)."""

from __future__ import annotations

import pytest

from tests.http.test_auth import invalid, problem
from tests.support.api import Api
from tests.support.catalog import create_course, create_lesson, publish, user_with_role
from tests.support.learning import (
    audit_actions,
    classroom,
    complete,
    enroll,
    enrollment,
    progress,
)

NO_SUCH = "00000000-0000-0000-0000-00000000abcd"


async def test_enroll_creates_once_and_returns_the_same_enrollment_after(api: Api) -> None:
    room = await classroom(api, lessons=3)
    student = room.cast.student
    r = await api.client.post("/api/v1/enrollments", json={"course_id": room.course_id}, headers=student.headers)
    assert r.status_code == 201, r.text
    created = r.json()
    assert r.headers["location"] == f"/api/v1/enrollments/{created['id']}"
    assert created["status"] == "active"
    assert created["progress_percentage"] == "0.00"
    assert created["total_lessons_count"] == 3
    assert created["completed_lessons_count"] == 0
    assert created["started_at"] == created["enrolled_at"]
    assert created["student_id"] == student.user["id"]
    for member in ("completed_at", "last_accessed_at", "certificate_issued_at", "rating", "review"):
        assert created[member] is None
    again = await enroll(api, student, room.course_id, status=200)
    assert again == created
    mail = await api.mailbox.wait_for(student.email, f"You are enrolled in {room.course['title']}")
    assert room.course_id in mail.body
    assert [a for a, _ in await audit_actions(api, created["id"])] == ["enrollment_created"]


async def test_who_may_enroll_and_where(api: Api) -> None:
    room = await classroom(api, lessons=1)
    for who in (room.cast.owner, room.cast.other):
        problem(
            await api.client.post("/api/v1/enrollments", json={"course_id": room.course_id}, headers=who.headers),
            403,
            "Only students can enroll",
        )
    problem(await api.client.post("/api/v1/enrollments", json={"course_id": room.course_id}), 401, "Not authenticated")
    admin_enrollment = await enroll(api, room.cast.admin, room.course_id)
    assert admin_enrollment["student_id"] == room.cast.admin.user["id"]  # an admin enrolls themselves
    problem(
        await api.client.post("/api/v1/enrollments", json={"course_id": NO_SUCH}, headers=room.cast.student.headers),
        404,
        "Course not found",
    )
    draft = await create_course(api, room.cast.owner)
    problem(
        await api.client.post(
            "/api/v1/enrollments", json={"course_id": draft["id"]}, headers=room.cast.student.headers
        ),
        403,
        "Cannot enroll in unpublished course",
    )


async def test_enroll_rejects_bad_bodies_and_changes_nothing(api: Api) -> None:
    room = await classroom(api, lessons=1)
    headers = room.cast.student.headers
    for body in ({}, {"course_id": "not-a-uuid"}, {"course_id": 5}, {"course_id": None}, [room.course_id]):
        invalid(
            await api.client.post("/api/v1/enrollments", json=body, headers=headers),
            "body" if isinstance(body, list) else "body.course_id",
        )
    # The role check comes before validation (API §1.6).
    problem(
        await api.client.post("/api/v1/enrollments", json={}, headers=room.cast.owner.headers),
        403,
        "Only students can enroll",
    )
    mine = await api.client.get("/api/v1/enrollments/my-courses", headers=headers)
    assert mine.json()["total"] == 0


async def test_my_courses_newest_first_and_paged(api: Api) -> None:
    room = await classroom(api, lessons=1)
    owner, student = room.cast.owner, room.cast.student
    ids = []
    for _ in range(3):
        course = await publish(api, owner, (await create_course(api, owner))["id"])
        ids.append((await enroll(api, student, course["id"]))["id"])
    r = await api.client.get("/api/v1/enrollments/my-courses", params={"page_size": 2}, headers=student.headers)
    assert r.status_code == 200
    page = r.json()
    assert [e["id"] for e in page["items"]] == ids[::-1][:2]
    assert (page["total"], page["total_pages"]) == (3, 2)
    assert 'rel="next"' in r.headers["link"]
    other = await user_with_role(api, "student")
    assert (await api.client.get("/api/v1/enrollments/my-courses", headers=other.headers)).json()["total"] == 0
    invalid(
        await api.client.get("/api/v1/enrollments/my-courses", params={"page_size": 101}, headers=student.headers),
        "query.page_size",
    )


async def test_one_enrollment_is_visible_to_its_student_the_owner_and_admins(api: Api) -> None:
    room = await classroom(api, lessons=1)
    mine = await enroll(api, room.cast.student, room.course_id)
    for who in (room.cast.student, room.cast.owner, room.cast.admin):
        assert (await enrollment(api, who, mine["id"]))["id"] == mine["id"]
    stranger = await user_with_role(api, "student")
    for who in (stranger, room.cast.other):
        problem(
            await api.client.get(f"/api/v1/enrollments/{mine['id']}", headers=who.headers),
            403,
            "Not authorized to access this enrollment",
        )
    problem(
        await api.client.get(f"/api/v1/enrollments/{NO_SUCH}", headers=room.cast.student.headers),
        404,
        "Enrollment not found",
    )
    invalid(await api.client.get("/api/v1/enrollments/nope", headers=room.cast.student.headers), "path.enrollment_id")
    problem(await api.client.get(f"/api/v1/enrollments/{mine['id']}"), 401, "Not authenticated")


async def test_progress_merges_recomputes_and_completes_the_enrollment(api: Api) -> None:
    room = await classroom(api, lessons=2)
    student = room.cast.student
    eid = (await enroll(api, student, room.course_id))["id"]
    first, second = (lesson["id"] for lesson in room.lessons)

    r = await progress(
        api,
        student,
        eid,
        first,
        time_spent_seconds=30,
        last_position_seconds=12,
        completion_percentage="50.555",
        notes="n",
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {
        "id", "enrollment_id", "lesson_id", "status", "started_at", "completed_at",
        "time_spent_seconds", "last_position_seconds", "completion_percentage",
    }  # fmt: skip
    assert (body["status"], body["completion_percentage"], body["completed_at"]) == ("in_progress", "50.56", None)
    state = await enrollment(api, student, eid)
    assert (state["completed_lessons_count"], state["progress_percentage"], state["total_time_spent_seconds"]) == (
        0,
        "0.00",
        30,
    )
    assert state["last_accessed_at"] is not None

    r = await complete(api, student, eid, first)
    assert (r.status_code, r.json()["status"], r.json()["completion_percentage"]) == (200, "completed", "100.00")
    state = await enrollment(api, student, eid)
    assert (state["completed_lessons_count"], state["progress_percentage"], state["status"]) == (1, "50.00", "active")

    problem(
        await progress(api, student, eid, first, status="in_progress"),
        400,
        "Completed lesson progress cannot be downgraded",
    )
    r = await progress(api, student, eid, first, time_spent_seconds=45)  # time updates stay allowed
    assert (r.status_code, r.json()["status"], r.json()["time_spent_seconds"]) == (200, "completed", 45)

    r = await progress(api, student, eid, second, completion_percentage=100)
    assert r.json()["status"] == "completed"
    state = await enrollment(api, student, eid)
    assert (state["status"], state["progress_percentage"], state["completed_lessons_count"]) == (
        "completed",
        "100.00",
        2,
    )
    assert state["completed_at"] is not None
    assert state["total_time_spent_seconds"] == 45
    await api.mailbox.wait_for(student.email, f"You completed {room.course['title']}")
    actions = [a for a, _ in await audit_actions(api, eid)]
    assert actions == ["enrollment_created", "enrollment_completed"]


async def test_who_may_report_progress(api: Api) -> None:
    room = await classroom(api, lessons=1)
    eid = (await enroll(api, room.cast.student, room.course_id))["id"]
    lesson = room.lessons[0]["id"]
    problem(
        await progress(api, room.cast.owner, eid, lesson, time_spent_seconds=1),
        403,
        "Not authorized to update this enrollment progress",
    )
    stranger = await user_with_role(api, "student")
    for who in (stranger, room.cast.other):
        problem(
            await progress(api, who, eid, lesson, time_spent_seconds=1), 403, "Not authorized to access this enrollment"
        )
        problem(await complete(api, who, eid, lesson), 403, "Not authorized to access this enrollment")
    assert (await progress(api, room.cast.admin, eid, lesson, time_spent_seconds=7)).status_code == 200
    assert (await enrollment(api, room.cast.student, eid))["total_time_spent_seconds"] == 7


async def test_progress_rejects_bad_input_and_changes_nothing(api: Api) -> None:
    room = await classroom(api, lessons=1)
    student = room.cast.student
    eid = (await enroll(api, student, room.course_id))["id"]
    lesson = room.lessons[0]["id"]
    for body, field in (
        ({"completion_percentage": 100.01}, "body.completion_percentage"),
        ({"completion_percentage": -1}, "body.completion_percentage"),
        ({"completion_percentage": "lots"}, "body.completion_percentage"),
        ({"completion_percentage": "NaN"}, "body.completion_percentage"),
        ({"time_spent_seconds": -5}, "body.time_spent_seconds"),
        ({"last_position_seconds": -1}, "body.last_position_seconds"),
        ({"time_spent_seconds": "ten"}, "body.time_spent_seconds"),
        ({"status": "finished"}, "body.status"),
        ({"notes": "x" * 10_001}, "body.notes"),
    ):
        invalid(await progress(api, student, eid, lesson, **body), field)
    invalid(
        await api.client.put(
            f"/api/v1/enrollments/{eid}/lessons/{lesson}/progress",
            content=b"{",
            headers={**student.headers, "content-type": "application/json"},
        ),
        "body",
    )
    invalid(await progress(api, student, "bad", lesson), "path.enrollment_id")
    invalid(await progress(api, student, eid, "bad"), "path.lesson_id")
    problem(await progress(api, student, NO_SUCH, lesson), 404, "Enrollment not found")
    problem(await progress(api, student, eid, NO_SUCH), 404, "Lesson not found in this enrollment's course")
    elsewhere = await create_lesson(api, room.cast.owner, (await create_course(api, room.cast.owner))["id"])
    problem(await progress(api, student, eid, elsewhere["id"]), 404, "Lesson not found in this enrollment's course")
    problem(await complete(api, student, eid, elsewhere["id"]), 404, "Lesson not found in this enrollment's course")
    state = await enrollment(api, student, eid)
    assert (state["last_accessed_at"], state["total_time_spent_seconds"]) == (None, 0)


async def test_lesson_changes_recompute_the_courses_enrollments(api: Api) -> None:
    room = await classroom(api, lessons=2)
    student, owner = room.cast.student, room.cast.owner
    eid = (await enroll(api, student, room.course_id))["id"]
    for lesson in room.lessons:
        await complete(api, student, eid, lesson["id"])
    assert (await enrollment(api, student, eid))["status"] == "completed"

    added = await create_lesson(api, owner, room.course_id)
    state = await enrollment(api, student, eid)
    assert (state["status"], state["total_lessons_count"], state["progress_percentage"], state["completed_at"]) == (
        "active", 3, "66.67", None,
    )  # fmt: skip

    await progress(api, student, eid, added["id"], time_spent_seconds=10)
    r = await api.client.delete(f"/api/v1/lessons/{room.lessons[0]['id']}", headers=owner.headers)
    assert r.status_code == 204
    state = await enrollment(api, student, eid)
    assert (state["completed_lessons_count"], state["total_lessons_count"], state["progress_percentage"]) == (
        1,
        2,
        "50.00",
    )

    r = await api.client.delete(f"/api/v1/lessons/{added['id']}", headers=owner.headers)
    state = await enrollment(api, student, eid)
    figures = ("status", "completed_lessons_count", "total_lessons_count", "progress_percentage")
    assert tuple(state[name] for name in figures) == ("completed", 1, 1, "100.00")
    assert state["completed_at"] is not None
    assert [a for a, _ in await audit_actions(api, eid)].count("enrollment_completed") == 2


@pytest.mark.parametrize("path", ["", "/stats"])
async def test_a_courses_enrollments_and_stats_are_for_its_managers(api: Api, path: str) -> None:
    room = await classroom(api, lessons=4)
    first = (await enroll(api, room.cast.student, room.course_id))["id"]
    second_student = await user_with_role(api, "student")
    second = (await enroll(api, second_student, room.course_id))["id"]
    for lesson in room.lessons:
        await complete(api, second_student, second, lesson["id"])
    await complete(api, room.cast.student, first, room.lessons[0]["id"])
    url = f"/api/v1/enrollments/courses/{room.course_id}{path}"
    forbidden = "Not authorized to view course stats" if path else "Not authorized to view course enrollments"
    for who in (room.cast.other, room.cast.student):
        problem(await api.client.get(url, headers=who.headers), 403, forbidden)
    problem(
        await api.client.get(f"/api/v1/enrollments/courses/{NO_SUCH}{path}", headers=room.cast.owner.headers),
        404,
        "Course not found",
    )
    invalid(
        await api.client.get(f"/api/v1/enrollments/courses/nope{path}", headers=room.cast.owner.headers),
        "path.course_id",
    )
    for who in (room.cast.owner, room.cast.admin):
        r = await api.client.get(url, headers=who.headers)
        assert r.status_code == 200, r.text
        if path:
            assert r.json() == {
                "course_id": room.course_id,
                "total_enrollments": 2,
                "active_enrollments": 1,
                "completed_enrollments": 1,
                "average_progress": "62.50",
            }
        else:
            assert [e["id"] for e in r.json()["items"]] == [second, first]


async def test_stats_of_a_course_without_enrollments(api: Api) -> None:
    room = await classroom(api, lessons=1)
    r = await api.client.get(f"/api/v1/enrollments/courses/{room.course_id}/stats", headers=room.cast.owner.headers)
    assert r.json()["average_progress"] == "0.00"
    assert r.json()["total_enrollments"] == 0


async def test_reviews_need_a_fifth_and_only_the_student_or_an_admin(api: Api) -> None:
    room = await classroom(api, lessons=5)
    student = room.cast.student
    eid = (await enroll(api, student, room.course_id))["id"]
    url = f"/api/v1/enrollments/{eid}/review"
    body = {"rating": 4, "review": "Clear and practical."}
    problem(
        await api.client.post(url, json=body, headers=student.headers), 403, "Complete at least 20% before reviewing"
    )
    await complete(api, student, eid, room.lessons[0]["id"])
    problem(
        await api.client.post(url, json=body, headers=room.cast.owner.headers),
        403,
        "You can only review your own enrollments",
    )
    problem(
        await api.client.post(url, json=body, headers=room.cast.other.headers),
        403,
        "Not authorized to access this enrollment",
    )
    for bad, field in (
        ({"rating": 0, "review": "long enough text"}, "body.rating"),
        ({"rating": 6, "review": "long enough text"}, "body.rating"),
        ({"rating": 3, "review": "too short"}, "body.review"),
        ({"rating": 3, "review": "x" * 2001}, "body.review"),
        ({"review": "long enough text"}, "body.rating"),
    ):
        invalid(await api.client.post(url, json=bad, headers=student.headers), field)
    r = await api.client.post(url, json=body, headers=student.headers)
    assert (r.status_code, r.json()["rating"], r.json()["review"]) == (200, 4, "Clear and practical.")
    r = await api.client.post(url, json={"rating": 5, "review": "Even better now."}, headers=room.cast.admin.headers)
    assert (r.json()["rating"], r.json()["review"]) == (5, "Even better now.")
    problem(
        await api.client.post(f"/api/v1/enrollments/{NO_SUCH}/review", json=body, headers=student.headers),
        404,
        "Enrollment not found",
    )
    assert [a for a, _ in await audit_actions(api, eid)].count("enrollment_reviewed") == 2


async def test_a_course_with_enrollments_is_deleted_only_by_force(api: Api) -> None:
    room = await classroom(api, lessons=1)
    await enroll(api, room.cast.student, room.course_id)
    url = f"/api/v1/courses/{room.course_id}"
    assert (await api.client.delete(url, headers=room.cast.owner.headers)).status_code == 409
    assert (await api.client.delete(url, params={"force": "true"}, headers=room.cast.admin.headers)).status_code == 204
    mine = await api.client.get("/api/v1/enrollments/my-courses", headers=room.cast.student.headers)
    assert mine.json()["total"] == 0
    actions = await audit_actions(api, room.course_id)
    assert actions[-1] == ("course_deleted", room.cast.admin.user["id"])


async def test_the_audit_log_records_publication_and_admin_changes(api: Api) -> None:
    room = await classroom(api, lessons=1)
    owner = room.cast.owner
    r = await api.client.patch(f"/api/v1/courses/{room.course_id}", json={"is_published": False}, headers=owner.headers)
    assert r.status_code == 200
    assert [a for a, _ in await audit_actions(api, room.course_id)] == ["course_published", "course_unpublished"]
    target = room.cast.student.user["id"]
    admin = room.cast.admin
    await api.client.patch(
        f"/api/v1/users/{target}", json={"role": "instructor", "is_active": False}, headers=admin.headers
    )
    await api.client.patch(f"/api/v1/users/{target}", json={"full_name": "Renamed"}, headers=admin.headers)
    assert await audit_actions(api, target) == [
        ("user_role_changed", admin.user["id"]),
        ("user_deactivated", admin.user["id"]),
    ]
