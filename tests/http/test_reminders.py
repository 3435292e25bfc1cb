"""The `assignment.due_soon` reminder and the `account.locked` notice (API §13), on both backends."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from tests.support.api import Api, Session
from tests.support.assignments import assignment_room, submit
from tests.support.catalog import user_with_role
from tests.support.learning import enroll
from tests.support.live import drained


async def kinds(api: Api, who: Session, kind: str) -> list[dict[str, object]]:
    await drained(api)
    r = await api.client.get("/api/v1/notifications", headers=who.headers)
    assert r.status_code == 200, r.text
    return [n for n in r.json()["items"] if n["type"] == kind]


async def test_students_who_have_not_handed_in_are_reminded_once(api: Api) -> None:
    due = datetime.now(UTC) + timedelta(hours=20)
    room = await assignment_room(api, due_at=due.isoformat())
    handed_in, waiting, quiet = room.room.cast.student, *[await user_with_role(api, "student") for _ in range(2)]
    for student in (waiting, quiet):
        await enroll(api, student, room.room.course_id)
    await submit(api, handed_in, room)
    r = await api.client.put(
        "/api/v1/users/me/notification-preferences",
        json={"email": {"assignment.due_soon": False}},
        headers=quiet.headers,
    )
    assert r.status_code == 200, r.text

    # Two schedulers at the same moment (two workers' cron), then a third run later: once each.
    runs = await asyncio.gather(*(api.container.reminders.remind_once() for _ in range(2)))
    assert sorted(runs) == [0, 2]
    assert await api.container.reminders.remind_once() == 0

    for student in (waiting, quiet):
        [notice] = await kinds(api, student, "assignment.due_soon")
        assert notice["data"] == {
            "assignment_id": room.assignment["id"],
            "course_id": room.room.course_id,
            "student_id": student.user["id"],
            "title": room.assignment["title"],
            "due_at": notice["data"]["due_at"],  # type: ignore[index]
        }
        assert room.assignment["title"] in str(notice["body"])
    assert await kinds(api, handed_in, "assignment.due_soon") == []
    subject = f"Due soon: {room.assignment['title']}"
    await api.mailbox.wait_for(waiting.email, subject)
    drain = getattr(api.container.queue, "drain", None)
    if drain is not None:
        await drain()
    await asyncio.sleep(0.2)
    assert len(api.mailbox.find(waiting.email, subject)) == 1
    assert api.mailbox.find(quiet.email, subject) == []  # email switched off; the inbox still has it
    # A student who enrolls later, still before it is due, is reminded on the next run.
    late = await user_with_role(api, "student")
    await enroll(api, late, room.room.course_id)
    assert await api.container.reminders.remind_once() == 1


async def test_an_assignment_not_due_soon_reminds_nobody(api: Api) -> None:
    for due in (datetime.now(UTC) + timedelta(hours=30), datetime.now(UTC) - timedelta(hours=1)):
        room = await assignment_room(api, due_at=due.isoformat(), accept_late=True)
        assert await api.container.reminders.remind_once() == 0
        assert await kinds(api, room.room.cast.student, "assignment.due_soon") == []
    unpublished = await assignment_room(api, publish=False, due_at=(datetime.now(UTC) + timedelta(hours=2)).isoformat())
    assert await api.container.reminders.remind_once() == 0
    assert await kinds(api, unpublished.room.cast.student, "assignment.due_soon") == []


async def test_a_locked_account_is_told_in_its_inbox(api: Api) -> None:
    me = await api.register()
    limit = api.container.identity.parts.policy.login_max_failures
    for _ in range(limit):
        r = await api.client.post("/api/v1/auth/login", json={"email": me.email, "password": "wrong-password-1"})
        assert r.status_code in (401, 429), r.text
    [notice] = await kinds(api, me, "account.locked")
    assert notice["data"]["user_id"] == me.user["id"]  # type: ignore[index]
    assert notice["title"] == "Account locked"
