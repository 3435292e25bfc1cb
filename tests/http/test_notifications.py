"""The inbox and the notification preferences (API §13) on both backends: each user reads, marks
and deletes only their own notifications, a notification is made once per (event, user), and the
preferences replace as a whole, refusing unknown types."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from domain.notifications.model import Notification, NotificationType
from domain.shared.ids import new_id
from tests.http.test_auth import problem
from tests.support.api import Api, Session
from tests.support.assignments import assignment_room, grade, submit
from tests.support.catalog import create_lesson
from tests.support.learning import classroom, enroll
from tests.support.live import drained

KINDS = {kind.value for kind in NotificationType}
PREFERENCES = "/api/v1/users/me/notification-preferences"


def notice(
    who: Session, event_id: UUID, at: datetime, kind: NotificationType = NotificationType.LESSON_PUBLISHED
) -> Notification:
    return Notification(
        id=new_id(),
        user_id=UUID(who.user["id"]),
        event_id=event_id,
        type=kind,
        title=f"Notice {event_id.hex[:6]}",
        body="A new lesson is waiting.",
        data={"event": str(event_id)},
        created_at=at,
    )


async def test_the_inbox_is_each_users_own(api: Api) -> None:
    me, other = await api.register(), await api.register()
    start = datetime.now(UTC).replace(microsecond=0)
    events = [uuid4() for _ in range(3)]
    mine = [notice(me, e, start + timedelta(minutes=n)) for n, e in enumerate(events)]
    theirs = notice(other, events[0], start)
    assert await api.container.inbox.deliver([*mine, theirs]) == 4
    assert await api.container.inbox.deliver([notice(me, events[0], start)]) == 0  # once per (event, user)

    r = await api.client.get("/api/v1/notifications", headers=me.headers)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [i["id"] for i in items] == [str(n.id) for n in reversed(mine)]  # newest first
    assert set(items[0]) == {"id", "type", "title", "body", "data", "created_at", "read_at"}
    assert (items[0]["type"], items[0]["read_at"], items[0]["data"]) == (
        "lesson.published",
        None,
        {"event": str(events[2])},
    )

    async def unread(who: Session) -> int:
        r = await api.client.get("/api/v1/notifications/unread-count", headers=who.headers)
        assert r.status_code == 200, r.text
        return int(r.json()["count"])

    assert await unread(me) == 3
    first = f"/api/v1/notifications/{mine[0].id}"
    assert (await api.client.post(f"{first}/read", headers=me.headers)).status_code == 204
    assert (await api.client.post(f"{first}/read", headers=me.headers)).status_code == 204  # stays read
    assert await unread(me) == 2
    listed = (await api.client.get("/api/v1/notifications?unread_only=true", headers=me.headers)).json()["items"]
    assert [i["id"] for i in listed] == [str(mine[2].id), str(mine[1].id)]
    # Someone else's notification is not found, whatever is asked of it.
    foreign = f"/api/v1/notifications/{theirs.id}"
    problem(await api.client.post(f"{foreign}/read", headers=me.headers), 404, "Notification not found")
    problem(await api.client.delete(foreign, headers=me.headers), 404, "Notification not found")
    assert await unread(other) == 1
    assert (await api.client.delete(first, headers=me.headers)).status_code == 204
    problem(await api.client.delete(first, headers=me.headers), 404, "Notification not found")
    assert (await api.client.post("/api/v1/notifications/read-all", headers=me.headers)).status_code == 204
    assert await unread(me) == 0 and await unread(other) == 1
    assert (await api.client.get("/api/v1/notifications/not-a-uuid", headers=me.headers)).status_code in (404, 405)
    assert (await api.client.post("/api/v1/notifications/not-a-uuid/read", headers=me.headers)).status_code == 422
    assert (await api.client.get("/api/v1/notifications")).status_code == 401


async def test_preferences_replace_as_a_whole(api: Api) -> None:
    me = await api.register()
    r = await api.client.get(PREFERENCES, headers=me.headers)
    assert r.status_code == 200, r.text
    assert r.json() == {"email": dict.fromkeys(KINDS, True), "in_app": dict.fromkeys(KINDS, True)}
    body = {"email": {"lesson.published": False, "attempt.graded": True}, "in_app": {"assignment.due_soon": False}}
    r = await api.client.put(PREFERENCES, json=body, headers=me.headers)
    assert r.status_code == 200, r.text
    expected = {
        "email": {**dict.fromkeys(KINDS, True), "lesson.published": False},
        "in_app": {**dict.fromkeys(KINDS, True), "assignment.due_soon": False},
    }
    assert r.json() == expected
    assert (await api.client.get(PREFERENCES, headers=me.headers)).json() == expected
    # Unknown types and wrong values change nothing.
    r = await api.client.put(PREFERENCES, json={"email": {"grade.posted": False}}, headers=me.headers)
    problem(r, 400, "Unknown notification type: grade.posted")
    assert (
        await api.client.put(PREFERENCES, json={"in_app": {"lesson.published": "no"}}, headers=me.headers)
    ).status_code == 422
    assert (await api.client.put(PREFERENCES, json={"email": []}, headers=me.headers)).status_code == 422
    assert (await api.client.get(PREFERENCES, headers=me.headers)).json() == expected
    # A type left out is on again; another user's preferences are their own.
    assert (await api.client.put(PREFERENCES, json={}, headers=me.headers)).json()["email"]["lesson.published"] is True
    other = await api.register()
    assert (await api.client.get(PREFERENCES, headers=other.headers)).json()["in_app"]["assignment.due_soon"] is True
    assert (await api.client.get(PREFERENCES)).status_code == 401


async def test_a_websocket_ticket_is_good_once_and_names_its_sign_in(api: Api) -> None:
    me = await api.register()
    r = await api.client.post("/api/v1/auth/ws-ticket", headers=me.headers)
    assert r.status_code == 200, r.text
    assert r.json()["expires_in"] == 30 and len(r.json()["ticket"]) >= 40
    tickets = api.container.tickets
    held = await tickets.redeem(r.json()["ticket"])
    assert held is not None and held.claims.sub == UUID(me.user["id"]) and held.claims.sid is not None
    assert await tickets.redeem(r.json()["ticket"]) is None  # never twice
    for forged in (None, "", "x" * 129, r.json()["ticket"][:-1] + "A"):
        assert await tickets.redeem(forged) is None
    # Each request gets its own ticket.
    one, two = [(await api.client.post("/api/v1/auth/ws-ticket", headers=me.headers)).json() for _ in range(2)]
    assert one["ticket"] != two["ticket"]
    assert (await api.client.post("/api/v1/auth/ws-ticket")).status_code == 401


async def test_events_become_notifications_once_for_the_users_concerned(api: Api) -> None:
    """A submission tells the course's owner; its passing grade tells the student (graded, course
    completed, certificate issued), unless the student switched that kind off in the app. Relaying
    again doubles nothing."""
    room = await assignment_room(api, lessons=1)
    owner, student = room.room.cast.owner, room.room.cast.student
    off = {"in_app": {"certificate.issued": False}, "email": {"submission.graded": False}}
    assert (await api.client.put(PREFERENCES, json=off, headers=student.headers)).status_code == 200
    made = await submit(api, student, room)
    await grade(api, owner, made["id"], points="9")
    for _ in range(2):
        await drained(api)

    async def inbox(who: Session) -> list[dict[str, object]]:
        r = await api.client.get("/api/v1/notifications?page_size=100", headers=who.headers)
        assert r.status_code == 200, r.text
        return list(r.json()["items"])

    to_owner = await inbox(owner)
    assert [n["type"] for n in to_owner] == ["assignment.submitted"]
    assert to_owner[0]["title"] == "New submission" and room.room.course["title"] in str(to_owner[0]["body"])
    assert to_owner[0]["data"]["submission_id"] == made["id"]  # type: ignore[index]
    to_student = {str(n["type"]): n for n in await inbox(student)}
    # The certificate's notice was switched off in the app; email preferences do not touch the inbox.
    assert set(to_student) == {"submission.graded", "enrollment.completed"}
    assert to_student["submission.graded"]["body"] == "Your submission was graded: 90.00 %."
    assert await inbox(room.room.cast.other) == []
    # The grading email was switched off (the mail job reads the switch); the completion's was not.
    await api.mailbox.wait_for(student.email, f"You completed {room.room.course['title']}")
    for _ in range(100):  # every queued job done, the grading email's included
        if not any((await api.container.queue.depth()).values()):
            break
        await asyncio.sleep(0.05)
    assert api.mailbox.find(student.email, "Your submission was graded") == []


async def test_a_new_lesson_tells_the_courses_students(api: Api) -> None:
    """`lesson.published` (API §13): a lesson made in a published course reaches its enrolled
    students, not others; its data names the course and the lesson."""
    room = await classroom(api, lessons=1)
    owner, student, outsider = room.cast.owner, room.cast.student, await api.register()
    await enroll(api, student, room.course_id)
    lesson = await create_lesson(api, owner, room.course_id, title="Fresh material")
    await drained(api)
    r = await api.client.get("/api/v1/notifications", headers=student.headers)
    (made,) = [n for n in r.json()["items"] if n["type"] == "lesson.published"]
    assert made["data"]["course_id"] == room.course_id and made["data"]["lesson_ids"] == [lesson["id"]]
    assert made["body"] == f"A new lesson is open in “{room.course['title']}”."
    assert (await api.client.get("/api/v1/notifications", headers=outsider.headers)).json()["items"] == []
    assert [
        n["type"] for n in (await api.client.get("/api/v1/notifications", headers=owner.headers)).json()["items"]
    ] == []
    # Published again, with students enrolled: every lesson is news to them.
    url = f"/api/v1/courses/{room.course_id}"
    for published in (False, True):
        r = await api.client.patch(url, json={"is_published": published}, headers=owner.headers)
        assert r.status_code == 200, r.text
    await drained(api)
    items = (await api.client.get("/api/v1/notifications", headers=student.headers)).json()["items"]
    again = [n for n in items if n["type"] == "lesson.published" and len(n["data"]["lesson_ids"]) == 2]
    assert len(again) == 1 and set(again[0]["data"]["lesson_ids"]) == {room.lessons[0]["id"], lesson["id"]}
