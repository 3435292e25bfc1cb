"""Live updates (API §13) on both backends: the WebSocket with its single-use tickets, a user's own
notifications and the course feeds only managers may follow; Server-Sent Events with heartbeats and
`Last-Event-ID` replay; and connections that end when their sign-in is revoked."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from uuid import UUID

from tests.support.api import Api, Session
from tests.support.catalog import create_lesson, user_with_role
from tests.support.learning import classroom, enroll, progress
from tests.support.live import drained, event_stream, websocket

MESSAGE_KEYS = {"id", "type", "created_at", "data"}


async def ticket(api: Api, who: Session) -> str:
    r = await api.client.post("/api/v1/auth/ws-ticket", headers=who.headers)
    assert r.status_code == 200, r.text
    return str(r.json()["ticket"])


async def test_a_socket_needs_a_ticket_good_once(api: Api) -> None:
    me = await api.register()
    for query in ({}, {"ticket": "unknown"}, {"ticket": "x" * 500}):
        async with websocket(api.app, **query) as socket:
            assert await socket.wait_closed() == 4401
            assert socket.accepted  # accepted, then closed with the code that says why
    good = await ticket(api, me)
    async with websocket(api.app, ticket=good) as socket:
        await socket.nothing()
        assert socket.close_code is None
    async with websocket(api.app, ticket=good) as replayed:
        assert await replayed.wait_closed() == 4401
    async with websocket(api.app, ticket=await ticket(api, me), last_event_id="nope") as bad:
        assert await bad.wait_closed() == 4400


async def test_a_socket_hears_its_users_notifications_only(api: Api) -> None:
    room = await classroom(api, lessons=1)
    student, owner = room.cast.student, room.cast.owner
    await enroll(api, student, room.course["id"])
    async with (
        websocket(api.app, ticket=await ticket(api, student)) as mine,
        websocket(api.app, ticket=await ticket(api, room.cast.other)) as theirs,
    ):
        lesson = await create_lesson(api, owner, room.course["id"])  # lesson.published, to the enrolled
        said = await mine.receive_json()
        assert set(said) == MESSAGE_KEYS and said["type"] == "lesson.published"
        assert said["data"]["lesson_ids"] == [lesson["id"]]
        listed = (await api.client.get("/api/v1/notifications", headers=student.headers)).json()["items"]
        assert said["id"] == listed[0]["id"]  # the inbox's notification, by id
        await theirs.nothing()


async def test_course_feeds_are_for_managers(api: Api) -> None:
    room = await classroom(api, lessons=2)
    cast, course = room.cast, room.course["id"]
    channel = f"course:{course}"
    async with (
        websocket(api.app, ticket=await ticket(api, cast.owner)) as owner,
        websocket(api.app, ticket=await ticket(api, cast.student)) as student,
        websocket(api.app, ticket=await ticket(api, cast.admin)) as admin,
    ):
        await student.send_json({"subscribe": channel})
        assert await student.receive_json() == {"error": "forbidden", "channel": channel}
        await student.send_json({"subscribe": "course:00000000-0000-0000-0000-000000000000"})
        assert (await student.receive_json())["error"] == "forbidden"
        for manager in (owner, admin):
            await manager.send_json({"subscribe": channel})
            assert await manager.receive_json() == {"subscribed": channel}
        await owner.send_json({"subscribe": channel})  # again: still one subscription
        assert await owner.receive_json() == {"subscribed": channel}
        await owner.send_text("not json")
        assert (await owner.receive_json())["error"] == "bad_request"

        enrollment = await enroll(api, cast.student, course)
        for manager in (owner, admin):
            created = await manager.receive_json()
            assert created["type"] == "enrollment.created" and created["data"]["enrollment_id"] == enrollment["id"]
        r = await progress(api, cast.student, enrollment["id"], room.lessons[0]["id"], completion_percentage=40)
        assert r.status_code == 200, r.text
        moved = await owner.receive_json()
        assert moved["type"] == "progress.updated" and set(moved) == MESSAGE_KEYS
        assert moved["data"] == {
            "enrollment_id": enrollment["id"],
            "lesson_id": room.lessons[0]["id"],
            "student_id": cast.student.user["id"],
            "status": "in_progress",
            "completion_percentage": "40.00",
        }
        assert (await admin.receive_json())["id"] == moved["id"]
        await owner.nothing()  # each message once
        await student.nothing()  # a student hears nothing of the feed


async def test_a_revoked_sign_in_closes_its_connections(api: Api) -> None:
    me = await api.register()
    other_sign_in = await api.login(me.email)
    async with (
        websocket(api.app, ticket=await ticket(api, me)) as this,
        websocket(api.app, ticket=await ticket(api, other_sign_in)) as that,
        event_stream(api.app, me.headers) as stream,
    ):
        await stream.next_event()  # connected
        r = await api.client.post("/api/v1/auth/logout", json={"refresh_token": me.refresh}, headers=me.headers)
        assert r.status_code in (200, 204), r.text
        assert await this.wait_closed() == 4401
        await stream.ended()
        await that.nothing()
        assert that.close_code is None  # another sign-in of the same user stays
    admin = await api.admin()
    async with websocket(api.app, ticket=await ticket(api, other_sign_in)) as socket:
        await socket.nothing(0.05)
        r = await api.client.patch(f"/api/v1/users/{me.user['id']}", json={"is_active": False}, headers=admin.headers)
        assert r.status_code == 200, r.text
        assert await socket.wait_closed() == 4401


async def test_server_sent_events_carry_notifications_and_replay_what_was_missed(api: Api) -> None:
    room = await classroom(api, lessons=1)
    student, owner = room.cast.student, room.cast.owner
    await enroll(api, student, room.course["id"])
    async with event_stream(api.app, student.headers) as stream:
        assert stream.status == 200 and stream.headers["content-type"].startswith("text/event-stream")
        assert stream.headers["cache-control"] == "no-store"
        assert (await stream.next_event()).get(":") == "connected"
        await create_lesson(api, owner, room.course["id"])
        first_id, first = await stream.next_message()
        assert first_id == first["id"] and first["type"] == "lesson.published" and set(first) == MESSAGE_KEYS
    # Two more while away; reconnecting with the last id seen replays them, oldest first.
    for _ in range(2):
        await create_lesson(api, owner, room.course["id"])
    await drained(api)
    missed = [i["id"] for i in (await api.client.get("/api/v1/notifications", headers=student.headers)).json()["items"]]
    async with event_stream(api.app, {**student.headers, "Last-Event-ID": first_id}) as again:
        replayed = [await again.next_message() for _ in range(2)]
        # In the order they were made (two relays may make two notifications out of their events'
        # order, which the inbox shows by event time).
        assert [i for i, _ in replayed] == sorted(missed[:2], key=UUID)
        await create_lesson(api, owner, room.course["id"])
        live_id, _ = await again.next_message()
        assert live_id not in {first_id, *missed[:2]}
    async with event_stream(api.app, {**student.headers, "Last-Event-ID": "nope"}) as bad:
        assert bad.status == 422
    async with event_stream(api.app, {}) as anonymous:
        assert anonymous.status == 401


async def test_the_stream_sends_heartbeats(api: Api, monkeypatch: Any) -> None:
    from adapters.http.notifications import live_controller

    monkeypatch.setattr(live_controller, "HEARTBEAT_SECONDS", 0.05)
    me = await api.register()
    async with event_stream(api.app, me.headers) as stream:
        assert (await stream.next_event()).get(":") == "connected"
        assert (await stream.next_event()).get(":") == "heartbeat"
        assert (await stream.next_event()).get(":") == "heartbeat"


async def test_the_stream_route_is_documented(api: Api) -> None:
    doc = (await api.client.get("/schema/openapi.json")).json()
    operation = doc["paths"]["/api/v1/notifications/stream"]["get"]
    assert operation["operationId"] == "stream_notifications"
    assert "text/event-stream" in operation["responses"]["200"]["content"]
    problem_codes = {code for code in operation["responses"] if code != "200"}
    assert {"401", "422", "503"} <= problem_codes


async def test_a_client_leaving_lets_go_of_its_connection(api: Api) -> None:
    me = await api.register()
    hub = api.container.live
    async with event_stream(api.app, me.headers) as stream:
        assert (await stream.next_event()).get(":") == "connected"
        assert hub.open_connections == 1
        leaving = time.monotonic()
    assert time.monotonic() - leaving < 1  # the stream ended when the client went, not at a timeout
    async with websocket(api.app, ticket=await ticket(api, me)) as socket:
        await socket.nothing(0.05)
        assert hub.open_connections == 1
    for _ in range(50):  # the transports notice the client went, and unsubscribe
        if hub.open_connections == 0:
            break
        await asyncio.sleep(0.02)
    assert hub.open_connections == 0


async def test_a_ticket_asked_with_an_api_key_stands_only_while_the_key_does(api: Api) -> None:
    me = await user_with_role(api, "instructor")
    r = await api.client.post("/api/v1/api-keys", json={"name": "Live", "scopes": ["courses:read"]}, headers=me.headers)
    assert r.status_code == 201, r.text
    key = r.json()
    with_key = {"Authorization": f"Bearer {key['key']}"}

    async def key_ticket() -> str:
        asked = await api.client.post("/api/v1/auth/ws-ticket", headers=with_key)
        assert asked.status_code == 200, asked.text
        return str(asked.json()["ticket"])

    async with websocket(api.app, ticket=await key_ticket()) as socket:
        await socket.nothing(0.05)
        assert socket.close_code is None
    issued = await key_ticket()
    assert (await api.client.delete(f"/api/v1/api-keys/{key['id']}", headers=me.headers)).status_code == 204
    async with websocket(api.app, ticket=issued) as refused:  # issued before the key was revoked
        assert await refused.wait_closed() == 4401


def _held_after_first_recheck(monkeypatch: Any) -> tuple[asyncio.Event, asyncio.Event]:
    """The next sign-in recheck passes, then waits to return until `proceed` is set (`rechecked`
    says it got there): a revocation can then land between the check and the listening."""
    from domain.identity.sign_in import SignIn

    rechecked, proceed = asyncio.Event(), asyncio.Event()
    real = SignIn.recheck

    async def held(self: SignIn, *args: Any, **kwargs: Any) -> Any:
        principal = await real(self, *args, **kwargs)
        if not rechecked.is_set():
            rechecked.set()
            await proceed.wait()
        return principal

    monkeypatch.setattr(SignIn, "recheck", held)
    return rechecked, proceed


async def test_a_sign_in_revoked_while_a_socket_opens_closes_it(api: Api, monkeypatch: Any) -> None:
    me = await api.register()
    issued = await ticket(api, me)
    rechecked, proceed = _held_after_first_recheck(monkeypatch)
    async with websocket(api.app, ticket=issued) as socket:
        await asyncio.wait_for(rechecked.wait(), 5)  # the ticket's sign-in was good when checked
        r = await api.client.post("/api/v1/auth/logout", json={"refresh_token": me.refresh}, headers=me.headers)
        assert r.status_code in (200, 204), r.text
        proceed.set()
        assert await socket.wait_closed() == 4401


async def test_a_sign_in_revoked_while_a_stream_opens_ends_it(api: Api, monkeypatch: Any) -> None:
    me = await api.register()
    rechecked, proceed = _held_after_first_recheck(monkeypatch)

    async def listen() -> None:
        async with event_stream(api.app, me.headers) as stream:
            await stream.ended()

    listening = asyncio.create_task(listen())
    await asyncio.wait_for(rechecked.wait(), 5)  # the request was authenticated
    r = await api.client.post("/api/v1/auth/logout", json={"refresh_token": me.refresh}, headers=me.headers)
    assert r.status_code in (200, 204), r.text
    proceed.set()
    await asyncio.wait_for(listening, 10)  # the stream ended by itself
