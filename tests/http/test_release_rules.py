"""Release rules (API §12) on both backends: lessons that open on a date, some days after
enrolling, or in order; each viewer's own lock on lesson reads (through the shared cache too),
`403 Lesson is locked` where a student acts, and the enrollment's next lesson. Time moves by the
clock port, never by sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.http.conftest import MakeApiFn
from tests.http.test_auth import problem
from tests.support.api import Api, Session
from tests.support.assignments import assignment_room
from tests.support.catalog import cast_of, create_course, create_lesson, publish
from tests.support.learning import complete, enroll, enrollment, progress, quiz_room
from tests.unit.fakes import FakeClock

LOCKED = "Lesson is locked"


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def lessons_of(api: Api, course_id: str, who: Session | None = None) -> dict[str, dict[str, Any]]:
    r = await api.client.get(f"/api/v1/courses/{course_id}/lessons?page_size=100", headers=who.headers if who else None)
    assert r.status_code == 200, r.text
    return {lesson["title"]: lesson for lesson in r.json()["items"]}


def locks(listing: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {title: lesson["lock"] for title, lesson in listing.items()}


async def lesson_lock(api: Api, lesson_id: str, who: Session | None = None) -> Any:
    r = await api.client.get(f"/api/v1/lessons/{lesson_id}", headers=who.headers if who else None)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["content"] is None) == (body["lock"] is not None)  # a locked lesson withholds it
    return body["lock"]


def locked(r: Any, lock: dict[str, Any]) -> None:
    problem(r, 403, LOCKED)
    assert r.json()["lock"] == lock


async def test_scheduled_and_drip_lessons_open_with_the_clock(make_api: MakeApiFn) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    clock = FakeClock(now)
    api = await make_api(clock=clock, LMS_ACCESS_TOKEN_EXPIRE_MINUTES="20160")
    cast = await cast_of(api)
    owner, student, outsider = cast.owner, cast.student, await api.register()
    course = await create_course(api, owner, title="Released in steps")
    opens = now + timedelta(days=2)
    made = {
        "Open": await create_lesson(api, owner, course["id"], title="Open", content="open text"),
        "Dated": await create_lesson(
            api, owner, course["id"], title="Dated", content="dated text", available_from=iso(opens)
        ),
        "Dripped": await create_lesson(
            api, owner, course["id"], title="Dripped", content="drip text", available_after_days=7
        ),
        "Teaser": await create_lesson(
            api, owner, course["id"], title="Teaser", content="teaser", available_after_days=7, is_preview=True
        ),
    }
    assert made["Dated"]["available_from"] == iso(opens) and made["Dripped"]["available_after_days"] == 7
    await publish(api, owner, course["id"])
    scheduled = {"reason": "scheduled", "unlock_at": iso(opens), "blocking_lesson_id": None}
    for_outsiders = {
        "Open": None,
        "Dated": scheduled,
        "Dripped": {"reason": "enrollment", "unlock_at": None, "blocking_lesson_id": None},
        "Teaser": None,  # previews never lock
    }
    anonymous = await lessons_of(api, course["id"])
    assert locks(anonymous) == for_outsiders
    assert anonymous["Dripped"]["content"] is None and anonymous["Teaser"]["content"] == "teaser"
    assert locks(await lessons_of(api, course["id"], outsider)) == for_outsiders
    assert await lesson_lock(api, made["Dripped"]["id"]) == for_outsiders["Dripped"]

    eid = (await enroll(api, student, course["id"]))["id"]
    enrolled_at = datetime.fromisoformat((await enrollment(api, student, eid))["enrolled_at"])
    drip = {"reason": "drip", "unlock_at": iso(enrolled_at + timedelta(days=7)), "blocking_lesson_id": None}
    for_student = {**for_outsiders, "Dripped": drip}
    # The anonymous view was cached above; the student's own locks are still theirs.
    assert locks(await lessons_of(api, course["id"], student)) == for_student
    assert locks(await lessons_of(api, course["id"])) == for_outsiders
    assert await lesson_lock(api, made["Dripped"]["id"], student) == drip
    managed = await lessons_of(api, course["id"], owner)
    assert set(locks(managed).values()) == {None} and managed["Dripped"]["content"] == "drip text"

    # Acting on a locked lesson: progress (time alone too) and completion are refused, unchanged.
    locked(await progress(api, student, eid, made["Dripped"]["id"], time_spent_seconds=30), drip)
    locked(await complete(api, student, eid, made["Dated"]["id"]), scheduled)
    assert (await enrollment(api, student, eid))["total_time_spent_seconds"] == 0
    assert (await enrollment(api, student, eid))["next_lesson_id"] == made["Open"]["id"]
    assert (await complete(api, student, eid, made["Open"]["id"])).status_code == 200
    assert (await enrollment(api, student, eid))["next_lesson_id"] == made["Teaser"]["id"]
    assert (await complete(api, student, eid, made["Teaser"]["id"])).status_code == 200
    assert (await enrollment(api, student, eid))["next_lesson_id"] is None  # the rest wait for their day

    clock.advance(days=2, seconds=1)  # the date passes: open to everyone, cached or not
    assert locks(await lessons_of(api, course["id"]))["Dated"] is None
    assert (await lessons_of(api, course["id"], student))["Dated"]["content"] == "dated text"
    assert (await enrollment(api, student, eid))["next_lesson_id"] == made["Dated"]["id"]
    clock.advance(days=5)  # seven days after enrolling
    assert locks(await lessons_of(api, course["id"], student))["Dripped"] is None
    assert (await complete(api, student, eid, made["Dripped"]["id"])).status_code == 200
    assert locks(await lessons_of(api, course["id"], outsider))["Dripped"] == for_outsiders["Dripped"]


async def test_a_sequential_course_opens_lesson_by_lesson(api: Api) -> None:
    cast = await cast_of(api)
    owner, student = cast.owner, cast.student
    course = await create_course(api, owner, title="One after another", sequential=True)
    assert course["sequential"] is True
    one, two, three = [
        await create_lesson(api, owner, course["id"], title=t, content=t) for t in ("One", "Two", "Three")
    ]
    await publish(api, owner, course["id"])
    enrollment_lock = {"reason": "enrollment", "unlock_at": None, "blocking_lesson_id": None}
    assert locks(await lessons_of(api, course["id"])) == {"One": None, "Two": enrollment_lock, "Three": enrollment_lock}
    # Past the first page, no lesson is the first one.
    r = await api.client.get(f"/api/v1/courses/{course['id']}/lessons?page=2&page_size=2")
    assert [item["lock"] for item in r.json()["items"]] == [enrollment_lock]

    eid = (await enroll(api, student, course["id"]))["id"]
    by_one = {"reason": "sequence", "unlock_at": None, "blocking_lesson_id": one["id"]}
    assert locks(await lessons_of(api, course["id"], student)) == {"One": None, "Two": by_one, "Three": by_one}
    locked(await progress(api, student, eid, two["id"], time_spent_seconds=5), by_one)
    assert (await complete(api, student, eid, one["id"])).status_code == 200
    by_two = {**by_one, "blocking_lesson_id": two["id"]}
    assert locks(await lessons_of(api, course["id"], student)) == {"One": None, "Two": None, "Three": by_two}
    assert await lesson_lock(api, three["id"], student) == by_two
    assert (await enrollment(api, student, eid))["next_lesson_id"] == two["id"]
    assert await lesson_lock(api, three["id"], owner) is None  # managers are never locked out

    # Turning the rule off opens everything at once, in the shared cache too.
    r = await api.client.patch(f"/api/v1/courses/{course['id']}", json={"sequential": False}, headers=owner.headers)
    assert (r.status_code, r.json()["sequential"]) == (200, False)
    assert set(locks(await lessons_of(api, course["id"])).values()) == {None}
    assert set(locks(await lessons_of(api, course["id"], student)).values()) == {None}
    problem(
        await api.client.patch(f"/api/v1/courses/{course['id']}", json={"sequential": None}, headers=owner.headers),
        400,
        "'sequential' cannot be null",
    )


async def test_a_locked_lessons_quiz_and_assignment_wait(api: Api) -> None:
    qr = await quiz_room(api, lessons=2)
    owner, student = qr.room.cast.owner, qr.room.cast.student
    r = await api.client.patch(f"/api/v1/courses/{qr.room.course_id}", json={"sequential": True}, headers=owner.headers)
    assert r.status_code == 200, r.text
    # Enrolled in another course with a quiz too: the lock is read of this course's enrollment only.
    elsewhere = await create_course(api, owner, title="Another course")
    lesson = await create_lesson(api, owner, elsewhere["id"])
    r = await api.client.post(
        f"/api/v1/courses/{elsewhere['id']}/quizzes",
        json={"lesson_id": lesson["id"], "title": "Elsewhere"},
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    await publish(api, owner, elsewhere["id"])
    await enroll(api, student, elsewhere["id"])
    eid = (await enroll(api, student, qr.room.course_id))["id"]
    first = qr.room.lessons[0]["id"]
    by_first = {"reason": "sequence", "unlock_at": None, "blocking_lesson_id": first}
    locked(await api.client.post(qr.attempts, headers=student.headers), by_first)
    assert (await complete(api, student, eid, first)).status_code == 200
    assert (await api.client.post(qr.attempts, headers=student.headers)).status_code == 201

    room = await assignment_room(api, lessons=2, lesson_id=None)
    course_id = room.room.course_id
    second = room.room.lessons[1]["id"]
    r = await api.client.patch(room.url, json={"lesson_id": second}, headers=room.room.cast.owner.headers)
    assert r.status_code == 200, r.text
    await api.client.patch(
        f"/api/v1/courses/{course_id}", json={"sequential": True}, headers=room.room.cast.owner.headers
    )
    by_first = {"reason": "sequence", "unlock_at": None, "blocking_lesson_id": room.room.lessons[0]["id"]}
    r = await api.client.post(room.submissions, json={"text": "Too early"}, headers=room.room.cast.student.headers)
    locked(r, by_first)
    done = await complete(api, room.room.cast.student, room.enrollment_id, room.room.lessons[0]["id"])
    assert done.status_code == 200
    r = await api.client.post(room.submissions, json={"text": "Now"}, headers=room.room.cast.student.headers)
    assert r.status_code == 201, r.text


async def test_release_rules_are_validated(api: Api) -> None:
    cast = await cast_of(api)
    course = await create_course(api, cast.owner)
    url = f"/api/v1/courses/{course['id']}/lessons"
    for body in (
        {"available_after_days": 3651},
        {"available_after_days": -1},
        {"available_after_days": 1.5},
        {"available_from": "2030-01-01T00:00:00"},  # no offset
        {"available_from": "soon"},
    ):
        r = await api.client.post(
            url, json={"title": "Ruled", "lesson_type": "text", **body}, headers=cast.owner.headers
        )
        assert r.status_code == 422, (body, r.text)
    lesson = await create_lesson(api, cast.owner, course["id"], available_after_days=3650)
    r = await api.client.patch(
        f"/api/v1/lessons/{lesson['id']}", json={"available_after_days": None}, headers=cast.owner.headers
    )
    problem(r, 400, "'available_after_days' cannot be null")
    r = await api.client.patch(
        f"/api/v1/lessons/{lesson['id']}",
        json={"available_from": "2030-01-01T00:00:00+02:00", "available_after_days": 0},
        headers=cast.owner.headers,
    )
    assert (r.status_code, r.json()["available_from"], r.json()["available_after_days"]) == (
        200,
        "2029-12-31T22:00:00Z",
        0,
    )
    r = await api.client.post(
        "/api/v1/courses", json={"title": "Sequenced", "sequential": "yes"}, headers=cast.owner.headers
    )
    assert r.status_code == 422, r.text
