"""Webhook delivery to a real HTTP receiver (API §9): signatures checked with the `standardwebhooks`
package, the retry schedule on a moved clock, 410, timeouts, redirects, and the operator routes."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from standardwebhooks import Webhook

from domain.integrations.webhooks import RETRY_DELAYS
from tests.http.conftest import MakeApiFn
from tests.http.test_auth import invalid, problem
from tests.support.api import Api
from tests.support.documented import assert_documented_event
from tests.support.learning import classroom, complete, enroll
from tests.support.live import drained
from tests.support.receiver import Received, Receiver
from tests.unit.fakes import FakeClock

KEY = b"0123456789abcdef0123456789abcdef"
SECRET = "whsec_" + base64.b64encode(KEY).decode()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def hooked(make_api: MakeApiFn, receiver: Receiver, clock: FakeClock) -> Api:
    return await make_api(clock=clock, LMS_WEBHOOK_URLS=receiver.url, LMS_WEBHOOK_SECRET=SECRET)


async def eventually(check: Callable[[], Awaitable[bool] | bool], api: Api, timeout: float = 20.0) -> None:
    """Run the relay and wait (real time) until `check` holds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        await api.container.webhooks.relay_once()
        result = check()
        if await result if not isinstance(result, bool) else result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting for the webhooks")
        await asyncio.sleep(0.1)


def signed_at(received: Received, at: datetime) -> str:
    """The signature a Standard Webhooks sender makes for this request at `at`."""
    return Webhook(SECRET).sign(received.headers["webhook-id"], at, received.body.decode())


async def deliveries(api: Api, admin: Any, **query: str) -> list[dict[str, Any]]:
    r = await api.client.get("/api/v1/webhooks/deliveries", params=query, headers=admin.headers)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def test_the_journey_delivers_signed_events(make_api: MakeApiFn, receiver: Receiver) -> None:
    api = await make_api(LMS_WEBHOOK_URLS=receiver.url, LMS_WEBHOOK_SECRET=SECRET)  # the real clock
    room = await classroom(api, lessons=2)
    eid = (await enroll(api, room.cast.student, room.course_id))["id"]
    for lesson in room.lessons:
        await complete(api, room.cast.student, eid, lesson["id"])
    await enroll(api, room.cast.student, room.course_id, status=200)  # re-enrolling emits nothing
    await eventually(lambda: len(receiver.received) >= 4, api)
    await asyncio.sleep(0.5)
    assert sorted(receiver.event_types()) == [
        "certificate.issued",
        "course.published",
        "enrollment.completed",
        "enrollment.created",
    ]
    verifier = Webhook(SECRET)
    for received in receiver.received:
        verifier.verify(received.body, received.headers)  # raises on a bad signature or stale timestamp
        body = json.loads(received.body)
        assert set(body) == {"id", "type", "timestamp", "data"}
        assert received.headers["webhook-id"] == body["id"]
        assert received.headers["user-agent"] == "lms-webhooks/1"
        assert received.headers["content-type"] == "application/json"
        assert body["timestamp"].endswith("Z")
        await assert_documented_event(api, body)  # as the document's `webhooks` declares it
    by_type = {json.loads(r.body)["type"]: json.loads(r.body)["data"] for r in receiver.received}
    assert by_type["course.published"]["course_id"] == room.course_id
    assert by_type["course.published"]["instructor_id"] == room.cast.owner.user["id"]
    assert by_type["enrollment.created"] == {
        "enrollment_id": eid,
        "student_id": room.cast.student.user["id"],
        "course_id": room.course_id,
        "status": "active",
        "enrolled_at": by_type["enrollment.created"]["enrolled_at"],
    }
    assert set(by_type["enrollment.completed"]) == {"enrollment_id", "student_id", "course_id", "completed_at"}
    issued = by_type["certificate.issued"]
    assert set(issued) == {
        "certificate_id",
        "certificate_number",
        "enrollment_id",
        "student_id",
        "course_id",
        "issued_at",
    }
    assert issued["enrollment_id"] == eid
    listed = await deliveries(api, room.cast.admin)
    assert {(d["status"], d["attempts"], d["target_url"]) for d in listed} == {("delivered", 1, receiver.url)}
    assert len(await deliveries(api, room.cast.admin, event_type="enrollment.created")) == 1
    assert await deliveries(api, room.cast.admin, status="failed") == []
    problem(
        await api.client.get("/api/v1/webhooks/deliveries", headers=room.cast.student.headers),
        403,
        "Not authorized to perform this action",
    )
    problem(await api.client.get("/api/v1/webhooks/deliveries"), 401, "Not authenticated")
    invalid(
        await api.client.get("/api/v1/webhooks/deliveries", params={"status": "lost"}, headers=room.cast.admin.headers),
        "query.status",
    )


async def test_without_webhooks_events_are_recorded_for_the_inbox_and_delivered_nowhere(api: Api) -> None:
    """Every event is recorded (the inbox makes notifications of them, API §13); without targets
    the relay makes no deliveries, and the events are consumed all the same."""
    room = await classroom(api, lessons=1)
    await enroll(api, room.cast.student, room.course_id)
    from sqlalchemy import select

    from adapters.sql.models import OutboxEventRow

    await drained(api)
    assert await deliveries(api, room.cast.admin) == []
    async with api.container.sessions() as session:
        recorded = (
            await session.execute(select(OutboxEventRow.type, OutboxEventRow.relayed_at, OutboxEventRow.notified_at))
        ).all()
    assert {t for t, _, _ in recorded} >= {"course.published", "enrollment.created"}
    assert all(relayed is not None and notified is not None for _, relayed, notified in recorded)


async def test_a_failed_attempt_is_retried_on_schedule_with_the_same_id(
    hooked: Api, receiver: Receiver, clock: FakeClock
) -> None:
    api = hooked
    receiver.script.extend([500])
    room = await classroom(api, lessons=1)  # publishing emits course.published
    await eventually(lambda: len(receiver.received) == 1, api)
    first_at = clock.now()
    await eventually(lambda: _recorded(api, room, attempts=1), api)
    (delivery,) = await deliveries(api, room.cast.admin)
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == ("pending", 1, 500)
    wait = datetime.fromisoformat(delivery["next_attempt_at"]) - datetime.fromisoformat(delivery["last_attempt_at"])
    assert RETRY_DELAYS[0] * 0.9 <= wait <= RETRY_DELAYS[0] * 1.1  # 5 s ± 10 %
    clock.advance(seconds=3)
    await api.container.webhooks.relay_once()
    await asyncio.sleep(0.3)
    assert len(receiver.received) == 1  # not due yet
    clock.advance(seconds=3)
    await eventually(lambda: len(receiver.received) == 2, api)
    await eventually(lambda: _recorded(api, room, attempts=2), api)
    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body
    # Re-signed on every attempt: a fresh timestamp and the signature made with it.
    assert int(second.headers["webhook-timestamp"]) == int(clock.now().timestamp())
    assert int(first.headers["webhook-timestamp"]) == int(first_at.timestamp())
    for received in (first, second):
        at = datetime.fromtimestamp(int(received.headers["webhook-timestamp"]), UTC)
        assert received.headers["webhook-signature"] == signed_at(received, at)
    (delivery,) = await deliveries(api, room.cast.admin)
    assert (delivery["status"], delivery["attempts"], delivery["last_error"]) == ("delivered", 2, None)


async def _recorded(api: Api, room: Any, *, attempts: int) -> bool:
    """Whether the (only) delivery has recorded `attempts` attempts."""
    items = await deliveries(api, room.cast.admin)
    return bool(items) and items[0]["attempts"] == attempts


async def test_gone_stops_at_once(hooked: Api, receiver: Receiver, clock: FakeClock) -> None:
    receiver.script.extend([410])
    room = await classroom(hooked, lessons=1)
    await eventually(lambda: _recorded(hooked, room, attempts=1), hooked)
    (delivery,) = await deliveries(hooked, room.cast.admin)
    assert (delivery["status"], delivery["last_status_code"], delivery["next_attempt_at"]) == ("failed", 410, None)
    clock.advance(days=2)
    await hooked.container.webhooks.relay_once()
    await asyncio.sleep(0.3)
    assert len(receiver.received) == 1


async def test_a_hang_past_five_seconds_is_a_failure(hooked: Api, receiver: Receiver) -> None:
    receiver.script.extend([("hang", 6)])
    room = await classroom(hooked, lessons=1)
    await eventually(lambda: _recorded(hooked, room, attempts=1), hooked, timeout=30)
    (delivery,) = await deliveries(hooked, room.cast.admin)
    assert (delivery["status"], delivery["last_status_code"]) == ("pending", None)
    assert delivery["last_error"] == "no answer within 5 s"


async def test_redirects_are_not_followed(make_api: MakeApiFn, receiver: Receiver, clock: FakeClock) -> None:
    elsewhere = Receiver().start()
    try:
        receiver.script.extend([("redirect", elsewhere.url)])
        api = await make_api(clock=clock, LMS_WEBHOOK_URLS=receiver.url, LMS_WEBHOOK_SECRET=SECRET)
        room = await classroom(api, lessons=1)
        await eventually(lambda: _recorded(api, room, attempts=1), api)
        (delivery,) = await deliveries(api, room.cast.admin)
        assert (delivery["status"], delivery["last_status_code"]) == ("pending", 307)
        assert elsewhere.received == []
    finally:
        elsewhere.stop()


async def test_targets_are_independent(make_api: MakeApiFn, receiver: Receiver, clock: FakeClock) -> None:
    healthy = Receiver().start()
    try:
        receiver.script.extend([503])
        api = await make_api(
            clock=clock, LMS_WEBHOOK_URLS=f"{receiver.url},{healthy.url}", LMS_WEBHOOK_SECRET="plain-secret"
        )
        room = await classroom(api, lessons=1)
        await eventually(lambda: len(healthy.received) == 1 and len(receiver.received) == 1, api)
        (received,) = healthy.received
        at = datetime.fromtimestamp(int(received.headers["webhook-timestamp"]), UTC)
        # A secret without the whsec_ prefix signs with its UTF-8 bytes.
        assert received.headers["webhook-signature"] == Webhook(b"plain-secret").sign(
            received.headers["webhook-id"], at, received.body.decode()
        )
        listed = {d["target_url"]: d for d in await deliveries(api, room.cast.admin)}
        assert listed[healthy.url]["status"] == "delivered"
        assert listed[receiver.url]["last_status_code"] == 503
    finally:
        healthy.stop()


async def test_after_the_eighth_failure_a_delivery_fails_and_an_admin_may_retry_it(
    hooked: Api, receiver: Receiver, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    api = hooked
    receiver.script.extend([500] * 8)
    room = await classroom(api, lessons=1)
    with caplog.at_level(logging.ERROR, logger="lms.webhooks"):
        for attempt in range(1, 9):
            await eventually(lambda n=attempt: len(receiver.received) == n, api)  # type: ignore[misc]
            await eventually(lambda n=attempt: _recorded(api, room, attempts=n), api)  # type: ignore[misc]
            clock.advance(hours=11)
    (delivery,) = await deliveries(api, room.cast.admin)
    assert (delivery["status"], delivery["attempts"], delivery["next_attempt_at"]) == ("failed", 8, None)
    assert any(
        r.levelno == logging.ERROR and "failed for good after 8 attempts" in r.getMessage() for r in caplog.records
    )
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1
    url = f"/api/v1/webhooks/deliveries/{delivery['id']}/retry"
    problem(await api.client.post(url, headers=room.cast.owner.headers), 403, "Not authorized to perform this action")
    r = await api.client.post(url, headers=room.cast.admin.headers)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["attempts"]) == ("pending", 0)
    await eventually(lambda: len(receiver.received) == 9, api)
    await eventually(lambda: _recorded(api, room, attempts=1), api)
    (delivery,) = await deliveries(api, room.cast.admin)
    assert delivery["status"] == "delivered"
    problem(await api.client.post(url, headers=room.cast.admin.headers), 409, "Only a failed delivery can be retried")
    problem(
        await api.client.post(
            "/api/v1/webhooks/deliveries/00000000-0000-0000-0000-000000000001/retry", headers=room.cast.admin.headers
        ),
        404,
        "Webhook delivery not found",
    )
    invalid(
        await api.client.post("/api/v1/webhooks/deliveries/nope/retry", headers=room.cast.admin.headers),
        "path.delivery_id",
    )


async def test_the_receiver_down_for_a_while_still_gets_every_event(
    hooked: Api, receiver: Receiver, clock: FakeClock
) -> None:
    api = hooked
    receiver.script.extend([500] * 4)  # down for the first four attempts of each event's schedule
    room = await classroom(api, lessons=1)
    eid = (await enroll(api, room.cast.student, room.course_id))["id"]
    await complete(api, room.cast.student, eid, room.lessons[0]["id"])
    for _ in range(12):
        clock.advance(minutes=40)
        await api.container.webhooks.relay_once()
        await asyncio.sleep(0.3)
    await eventually(lambda: len(receiver.answered(200)) == 4, api)
    delivered = {json.loads(r.body)["type"] for r in receiver.answered(200)}
    assert delivered == {"course.published", "enrollment.created", "enrollment.completed", "certificate.issued"}
    assert len({r.headers["webhook-id"] for r in receiver.answered(200)}) == 4
