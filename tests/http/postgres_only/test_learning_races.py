"""Races of the learning journey on PostgreSQL, through two app instances on one database."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from adapters.sql.models import EnrollmentRow
from tests.http.conftest import MakeApiFn
from tests.support.catalog import create_course, create_lesson, publish, user_with_role
from tests.support.learning import classroom, enroll, enrollment, progress


async def test_the_same_enrollment_twice_at_once(make_api: MakeApiFn) -> None:
    one = await make_api()
    two = await make_api()
    owner = await user_with_role(one, "instructor")
    for _ in range(5):
        course = await publish(one, owner, (await create_course(one, owner))["id"])
        student = await user_with_role(one, "student")
        results = await asyncio.gather(
            *(
                api.client.post("/api/v1/enrollments", json={"course_id": course["id"]}, headers=student.headers)
                for api in (one, two)
            )
        )
        assert sorted(r.status_code for r in results) == [200, 201]
        assert results[0].json()["id"] == results[1].json()["id"]
        async with one.container.sessions() as session:
            rows = await session.scalar(
                select(func.count()).select_from(EnrollmentRow).where(EnrollmentRow.course_id == course["id"])
            )
        assert rows == 1


async def test_progress_on_different_lessons_at_once_counts_every_lesson(make_api: MakeApiFn) -> None:
    one = await make_api()
    two = await make_api()
    room = await classroom(one, lessons=6)
    student = room.cast.student
    eid = (await enroll(one, student, room.course_id))["id"]
    lessons = [lesson["id"] for lesson in room.lessons]
    results = await asyncio.gather(
        *(
            progress(api, student, eid, lesson, status="completed", time_spent_seconds=10 + n)
            for n, (api, lesson) in enumerate(zip([one, two] * 3, lessons, strict=True))
        )
    )
    assert [r.status_code for r in results] == [200] * 6
    state = await enrollment(two, student, eid)
    assert (state["completed_lessons_count"], state["total_lessons_count"], state["progress_percentage"]) == (
        6,
        6,
        "100.00",
    )
    assert state["status"] == "completed"
    assert state["total_time_spent_seconds"] == sum(10 + n for n in range(6))


async def test_progress_racing_a_lesson_change_ends_with_true_counts(make_api: MakeApiFn) -> None:
    one = await make_api()
    two = await make_api()
    room = await classroom(one, lessons=4)
    student = room.cast.student
    eid = (await enroll(one, student, room.course_id))["id"]
    first, *rest = (lesson["id"] for lesson in room.lessons)
    results = await asyncio.gather(
        *(progress(one, student, eid, lesson, status="completed") for lesson in rest),
        two.client.delete(f"/api/v1/lessons/{first}", headers=room.cast.owner.headers),
        create_lesson(two, room.cast.owner, room.course_id),
    )
    assert [r.status_code for r in results[:3]] == [200, 200, 200]
    assert results[3].status_code == 204
    state = await enrollment(one, student, eid)
    # Whatever the order, the figures are those of a fresh recomputation: 3 of the 4 lessons now there.
    assert (state["completed_lessons_count"], state["total_lessons_count"], state["progress_percentage"]) == (
        3,
        4,
        "75.00",
    )
    assert state["status"] == "active"


async def test_completing_a_course_while_a_lesson_is_added_never_deadlocks(make_api: MakeApiFn) -> None:
    """The completing transaction issues a certificate (which references the course) while holding
    the enrollment; the lesson write holds the course and wants the enrollments."""
    one = await make_api()
    two = await make_api()
    for _ in range(5):
        room = await classroom(one, lessons=2)
        student = room.cast.student
        eid = (await enroll(one, student, room.course_id))["id"]
        await progress(one, student, eid, room.lessons[0]["id"], status="completed")
        finished, added = await asyncio.gather(
            progress(one, student, eid, room.lessons[1]["id"], status="completed"),
            two.client.post(
                f"/api/v1/courses/{room.course_id}/lessons",
                json={"title": "Added meanwhile", "lesson_type": "text"},
                headers=room.cast.owner.headers,
            ),
        )
        assert (finished.status_code, added.status_code) == (200, 201)
        state = await enrollment(one, student, eid)
        assert (state["completed_lessons_count"], state["total_lessons_count"]) == (2, 3)
        assert state["status"] == "active"  # the new lesson reopened it, whichever came first
