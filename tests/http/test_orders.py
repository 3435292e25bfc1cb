"""Paid courses (API §14) on both backends: prices, `402` on enrolling, orders paid by an admin
(`manual://`) or through Stripe (a real localstripe: the buyer pays with a card, the provider's own
signed event is delivered to the webhook, twice), refunds that drop the enrollment, coupons, and
every refusal changing nothing."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from adapters.payments.stripe_provider import StripePayments
from adapters.sql.models import ORDERS, OutboxEventRow
from tests.http.conftest import MakeApiFn
from tests.http.test_auth import invalid, problem
from tests.support.api import Api, Session
from tests.support.catalog import Cast, cast_of, create_course, create_lesson, publish, user_with_role
from tests.support.documented import assert_documented_event
from tests.support.learning import complete, enroll, enrollment
from tests.support.payments import API_KEY, buyer_pays, event_of_type, made_event, signed, stripe_events
from tests.support.servers import LocalStripeServer
from tests.unit.fakes import FakeClock

ORDERS_URL = "/api/v1/orders"


async def paid_course(api: Api, owner: Session, price: Any = "49.00", **body: Any) -> dict[str, Any]:
    course = await create_course(api, owner, price=price, **body)
    lesson = await create_lesson(api, owner, course["id"])
    course = await publish(api, owner, course["id"])
    course["lesson_id"] = lesson["id"]
    return course


async def order(api: Api, who: Session, course_id: str, status: int = 201, **body: Any) -> dict[str, Any]:
    r = await api.client.post(ORDERS_URL, json={"course_id": course_id, **body}, headers=who.headers)
    assert r.status_code == status, r.text
    return dict(r.json())


async def event_types(api: Api) -> list[str]:
    async with api.container.sessions() as session:
        return list((await session.execute(select(OutboxEventRow.type).order_by(OutboxEventRow.id))).scalars())


async def order_rows(api: Api) -> int:
    async with api.container.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(ORDERS))).scalar_one())


async def test_prices_are_exact_and_checked_against_their_currency(api: Api) -> None:
    cast = await cast_of(api)
    owner = cast.owner
    course = await create_course(api, owner, price="49.5")
    assert (course["price"], course["currency"]) == ("49.50", "USD")
    assert (await create_course(api, owner, price=20))["price"] == "20.00"  # a JSON number is taken exactly
    yen = await create_course(api, owner, price="500", currency="JPY")
    assert (yen["price"], yen["currency"]) == ("500", "JPY")
    assert (await create_course(api, owner, price="1.250", currency="BHD"))["price"] == "1.250"
    assert (await create_course(api, owner))["price"] is None
    for bad, field in (
        ({"price": "500.5", "currency": "JPY"}, "body.price"),
        ({"price": "10.001"}, "body.price"),
        ({"price": "-1.00"}, "body.price"),
        ({"price": "1000000.00"}, "body.price"),
        ({"price": "NaN"}, "body.price"),
        ({"currency": "usd"}, "body.currency"),
        ({"currency": "XAU"}, "body.currency"),  # gold: no minor unit, not sold in
        ({"currency": "ABC"}, "body.currency"),
        ({"price": True}, "body.price"),
    ):
        r = await api.client.post("/api/v1/courses", json={"title": "Priced", **bad}, headers=owner.headers)
        invalid(r, field)
    url = f"/api/v1/courses/{course['id']}"
    r = await api.client.patch(url, json={"currency": "JPY"}, headers=owner.headers)
    invalid(r, "body.price")  # 49.50 has decimals JPY does not
    r = await api.client.patch(url, json={"currency": None}, headers=owner.headers)
    assert r.status_code in (400, 422), r.text
    r = await api.client.patch(url, json={"price": "45", "currency": "EUR"}, headers=owner.headers)
    assert (r.json()["price"], r.json()["currency"]) == ("45.00", "EUR")
    r = await api.client.patch(url, json={"price": None}, headers=owner.headers)
    assert r.json()["price"] is None
    assert (await api.client.get(url, headers=owner.headers)).json()["currency"] == "EUR"


async def test_the_default_currency_is_the_operators(make_api: MakeApiFn) -> None:
    api = await make_api(LMS_DEFAULT_CURRENCY="eur")
    owner = await user_with_role(api, "instructor")
    assert (await create_course(api, owner, price="10"))["currency"] == "EUR"


async def test_a_paid_course_is_bought_paid_by_an_admin_refunded_and_bought_again(make_api: MakeApiFn) -> None:
    api = await make_api(LMS_PAYMENTS_URL="manual://")
    cast = await cast_of(api)
    student, admin = cast.student, cast.admin
    course = await paid_course(api, cast.owner)
    cid = course["id"]

    r = await api.client.post("/api/v1/enrollments", json={"course_id": cid}, headers=student.headers)
    problem(r, 402, "This course is paid: order it first")
    assert (r.json()["title"], r.json()["order_url"]) == ("Payment Required", "/api/v1/orders")
    admin_enrolled = await enroll(api, admin, cid)  # admins enroll without paying
    assert admin_enrolled["status"] == "active"

    placed = await order(api, student, cid)
    assert placed["status"] == "pending"
    assert (placed["amount"], placed["discount"], placed["total"], placed["currency"]) == (
        "49.00",
        "0.00",
        "49.00",
        "USD",
    )
    assert (placed["buyer_id"], placed["checkout_url"], placed["paid_at"]) == (student.user["id"], None, None)
    again = await order(api, student, cid, status=200)  # ordering twice: the same open order
    assert again["id"] == placed["id"]
    r = await api.client.post("/api/v1/enrollments", json={"course_id": cid}, headers=student.headers)
    assert r.status_code == 402  # a pending order is not a paid one

    # Another student cannot see it, nor can anyone but an admin mark it paid.
    other = await api.register()
    problem(await api.client.get(f"{ORDERS_URL}/{placed['id']}", headers=other.headers), 404, "Order not found")
    r = await api.client.post(f"{ORDERS_URL}/{placed['id']}/mark-paid", headers=student.headers)
    assert r.status_code == 403
    r = await api.client.post(f"{ORDERS_URL}/{placed['id']}/refund", headers=admin.headers)
    problem(r, 409, "Only a paid order can be refunded")

    r = await api.client.post(f"{ORDERS_URL}/{placed['id']}/mark-paid", headers=admin.headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "paid" and r.json()["paid_at"]
    problem(
        await api.client.post(f"{ORDERS_URL}/{placed['id']}/mark-paid", headers=admin.headers),
        409,
        "Order is not pending",
    )
    mine = (await api.client.get("/api/v1/enrollments/my-courses", headers=student.headers)).json()["items"]
    assert [(e["course_id"], e["status"]) for e in mine] == [(cid, "active")]
    eid = mine[0]["id"]
    assert (await enroll(api, student, cid, status=200))["id"] == eid
    problem(
        await api.client.post(ORDERS_URL, json={"course_id": cid}, headers=student.headers), 409, "Already enrolled"
    )
    assert (await complete(api, student, eid, course["lesson_id"])).status_code == 200
    receipt = await api.mailbox.wait_for(student.email, f"Your receipt for {course['title']}")
    assert placed["id"] in receipt.body and "49.00 USD" in receipt.body

    # Lists: the caller's own; an admin's `all=true` shows everyone's.
    listed = (await api.client.get(ORDERS_URL, headers=student.headers)).json()
    assert [o["id"] for o in listed["items"]] == [placed["id"]] and listed["total"] == 1
    assert (await api.client.get(ORDERS_URL, headers=other.headers)).json()["items"] == []
    everyone = (await api.client.get(f"{ORDERS_URL}?all=true", headers=admin.headers)).json()["items"]
    assert placed["id"] in [o["id"] for o in everyone]
    assert (await api.client.get(f"{ORDERS_URL}?all=true", headers=other.headers)).json()["items"] == []

    # A refund drops the enrollment, its progress kept; it can neither report progress nor take quizzes.
    r = await api.client.post(
        f"{ORDERS_URL}/{placed['id']}/refund", json={"reason": "changed mind"}, headers=admin.headers
    )
    assert (r.status_code, r.json()["status"]) == (200, "refunded"), r.text
    assert r.json()["refunded_at"]
    problem(
        await api.client.post(f"{ORDERS_URL}/{placed['id']}/refund", headers=admin.headers),
        409,
        "Only a paid order can be refunded",
    )
    dropped = await enrollment(api, student, eid)
    assert (dropped["status"], dropped["progress_percentage"]) == ("dropped", "100.00")
    problem(await complete(api, student, eid, course["lesson_id"]), 403, "Enrollment is not active")
    r = await api.client.post("/api/v1/enrollments", json={"course_id": cid}, headers=student.headers)
    assert r.status_code == 402
    await api.mailbox.wait_for(student.email, f"Refund for {course['title']}")

    # A new paid order makes the same enrollment active again, where the student left off.
    second = await order(api, student, cid)
    assert second["id"] != placed["id"]
    await api.client.post(f"{ORDERS_URL}/{second['id']}/mark-paid", headers=admin.headers)
    back = await enrollment(api, student, eid)
    assert (back["status"], back["progress_percentage"]) == ("completed", "100.00")
    # Refunded again, then the course becomes free: enrolling makes the dropped enrollment active
    # again (200, the same one), with nothing to buy.
    r = await api.client.post(f"{ORDERS_URL}/{second['id']}/refund", headers=admin.headers)
    assert r.json()["status"] == "refunded"
    r = await api.client.patch(f"/api/v1/courses/{cid}", json={"price": None}, headers=cast.owner.headers)
    assert r.status_code == 200, r.text
    r = await api.client.post("/api/v1/enrollments", json={"course_id": cid}, headers=student.headers)
    assert (r.status_code, r.json()["id"], r.json()["status"]) == (200, eid, "completed"), r.text
    types = await event_types(api)
    assert types.count("order.paid") == 2 and types.count("order.refunded") == 2
    assert types.count("enrollment.created") == 2  # the admin's and the student's first; not again
    async with api.container.sessions() as session:
        query = select(OutboxEventRow.payload).where(OutboxEventRow.type.in_(["order.paid", "order.refunded"]))
        payloads = (await session.execute(query)).scalars().all()
    for payload in payloads:  # as the document declares them to webhook receivers
        await assert_documented_event(api, json.loads(json.dumps(payload)))
    assert {p["data"]["total"] for p in payloads} == {"49.00"}


async def test_refusals_change_nothing(make_api: MakeApiFn) -> None:
    api = await make_api(LMS_PAYMENTS_URL="manual://")
    cast = await cast_of(api)
    student = cast.student
    free = await publish(api, cast.owner, (await create_course(api, cast.owner, price="0.00"))["id"])
    draft = await create_course(api, cast.owner, price="10.00")
    paid = await paid_course(api, cast.owner)
    problem(
        await api.client.post(ORDERS_URL, json={"course_id": free["id"]}, headers=student.headers),
        400,
        "Course is free",
    )
    problem(
        await api.client.post(ORDERS_URL, json={"course_id": draft["id"]}, headers=student.headers),
        404,
        "Course not found",
    )
    r = await api.client.post(
        ORDERS_URL, json={"course_id": "00000000-0000-0000-0000-00000000abcd"}, headers=student.headers
    )
    problem(r, 404, "Course not found")
    invalid(await api.client.post(ORDERS_URL, json={"course_id": "nope"}, headers=student.headers), "body.course_id")
    invalid(await api.client.post(ORDERS_URL, json={}, headers=student.headers), "body.course_id")
    r = await api.client.post(ORDERS_URL, json={"course_id": paid["id"], "coupon_code": "a b"}, headers=student.headers)
    invalid(r, "body.coupon_code")
    r = await api.client.post(
        ORDERS_URL, json={"course_id": paid["id"], "coupon_code": "NOPE"}, headers=student.headers
    )
    problem(r, 404, "Coupon not found")
    assert (
        await api.client.post(ORDERS_URL, json={"course_id": paid["id"]}, headers=cast.owner.headers)
    ).status_code == 403
    assert (await api.client.post(ORDERS_URL, json={"course_id": paid["id"]})).status_code == 401
    r = await api.client.get(f"{ORDERS_URL}/not-a-uuid", headers=student.headers)
    invalid(r, "path.order_id")
    assert await order_rows(api) == 0
    # A price of zero is free: enrolling needs no order.
    r = await api.client.post("/api/v1/enrollments", json={"course_id": free["id"]}, headers=student.headers)
    assert r.status_code == 201


async def test_without_payments_a_paid_course_cannot_be_bought(api: Api) -> None:
    cast = await cast_of(api)
    course = await paid_course(api, cast.owner)
    r = await api.client.post(ORDERS_URL, json={"course_id": course["id"]}, headers=cast.student.headers)
    problem(r, 503, "Payments are not configured")
    r = await api.client.post("/api/v1/payments/stripe/webhook", content=b"{}")
    problem(r, 404, "Payments through Stripe are not configured")
    assert await order_rows(api) == 0


async def test_coupons_take_off_a_percentage_or_an_amount_within_their_limits(make_api: MakeApiFn) -> None:
    clock = FakeClock(datetime.now(UTC))
    api = await make_api(clock, LMS_PAYMENTS_URL="manual://")
    cast = await cast_of(api)
    owner, admin = cast.owner, cast.admin
    course = await paid_course(api, owner, price="80.00")
    other_course = await paid_course(api, owner, price="30.00")

    async def coupon(who: Session, status: int = 201, **body: Any) -> dict[str, Any]:
        r = await api.client.post("/api/v1/coupons", json=body, headers=who.headers)
        assert r.status_code == status, r.text
        return dict(r.json())

    quarter = await coupon(admin, code="quarter-off", percent_off="25")
    assert (quarter["code"], quarter["percent_off"], quarter["amount_off"], quarter["redemptions"]) == (
        "QUARTER-OFF",
        "25.00",
        None,
        0,
    )
    ten = await coupon(owner, code="TEN", amount_off="10", course_id=course["id"], max_redemptions=1)
    assert ten["amount_off"] == "10.00"
    for body, detail in (
        ({"code": "BOTH", "percent_off": "10", "amount_off": "5"}, "Give either percent_off or amount_off"),
        ({"code": "NONE"}, "Give either percent_off or amount_off"),
        (
            {"code": "PAST", "percent_off": "5", "expires_at": "2001-01-01T00:00:00Z"},
            "expires_at must be in the future",
        ),
    ):
        problem(await api.client.post("/api/v1/coupons", json=body, headers=admin.headers), 400, detail)
    problem(
        await api.client.post("/api/v1/coupons", json={"code": "ten", "percent_off": "5"}, headers=admin.headers),
        409,
        "Coupon code already exists",
    )
    for body, field in (
        ({"code": "X", "percent_off": "5"}, "body.code"),
        ({"code": "BIG", "percent_off": "101"}, "body.percent_off"),
        ({"code": "SMALL", "percent_off": "0"}, "body.percent_off"),
        ({"code": "ZERO", "amount_off": "0"}, "body.amount_off"),
        ({"code": "CENTS", "amount_off": "0.001", "course_id": course["id"]}, "body.amount_off"),
    ):
        invalid(await api.client.post("/api/v1/coupons", json=body, headers=admin.headers), field)
    # An instructor: coupons of their own courses only.
    await coupon(owner, status=403, code="EVERYWHERE", percent_off="5")
    stranger = await user_with_role(api, "instructor")
    await coupon(stranger, status=403, code="NOTMINE", percent_off="5", course_id=course["id"])
    await coupon(cast.student, status=403, code="STUDENT", percent_off="5")
    assert [c["code"] for c in (await api.client.get("/api/v1/coupons", headers=owner.headers)).json()["items"]] == [
        "TEN"
    ]
    assert (await api.client.get("/api/v1/coupons", headers=stranger.headers)).json()["items"] == []
    codes = {c["code"] for c in (await api.client.get("/api/v1/coupons", headers=admin.headers)).json()["items"]}
    assert {"TEN", "QUARTER-OFF"} <= codes

    # Percentages round half-even to the currency's minor unit; amounts never exceed the price.
    student = cast.student
    placed = await order(api, student, course["id"], coupon_code="quarter-off")
    assert (placed["amount"], placed["discount"], placed["total"], placed["coupon_code"]) == (
        "80.00",
        "20.00",
        "60.00",
        "QUARTER-OFF",
    )
    # The same buyer with another coupon: the earlier open order is let go.
    tenned = await order(api, student, course["id"], coupon_code="TEN")
    assert (tenned["discount"], tenned["total"]) == ("10.00", "70.00")
    assert (await api.client.get(f"{ORDERS_URL}/{placed['id']}", headers=student.headers)).json()["status"] == "expired"
    # Its one redemption is held by that pending order: another buyer is refused.
    second = await api.register()
    r = await api.client.post(
        ORDERS_URL, json={"course_id": course["id"], "coupon_code": "TEN"}, headers=second.headers
    )
    problem(r, 400, "Coupon has been used up")
    r = await api.client.post(
        ORDERS_URL, json={"course_id": other_course["id"], "coupon_code": "TEN"}, headers=second.headers
    )
    problem(r, 404, "Coupon not found")  # bound to another course
    await api.client.post(f"{ORDERS_URL}/{tenned['id']}/mark-paid", headers=admin.headers)
    listed = (await api.client.get("/api/v1/coupons", headers=owner.headers)).json()["items"]
    assert listed[0]["redemptions"] == 1
    r = await api.client.post(
        ORDERS_URL, json={"course_id": course["id"], "coupon_code": "TEN"}, headers=second.headers
    )
    problem(r, 400, "Coupon has been used up")

    # A coupon that takes everything off: paid at once, enrolled, with a receipt.
    await coupon(admin, code="GIFT", percent_off="100", expires_at=(clock.now() + timedelta(minutes=5)).isoformat())
    gift = await order(api, second, course["id"], coupon_code="GIFT")
    assert (gift["status"], gift["total"], gift["checkout_url"]) == ("paid", "0.00", None)
    mine = (await api.client.get("/api/v1/enrollments/my-courses", headers=second.headers)).json()["items"]
    assert [e["course_id"] for e in mine] == [course["id"]]
    # After its expiry, refused.
    third = await api.register()
    clock.advance(minutes=6)
    r = await api.client.post(
        ORDERS_URL, json={"course_id": course["id"], "coupon_code": "GIFT"}, headers=third.headers
    )
    problem(r, 400, "Coupon has expired")
    assert (await api.client.get(f"{ORDERS_URL}/{tenned['id']}", headers=student.headers)).json()["status"] == "paid"

    gift_id = next(
        c["id"]
        for c in (await api.client.get("/api/v1/coupons", headers=admin.headers)).json()["items"]
        if c["code"] == "GIFT"
    )
    r = await api.client.delete(f"/api/v1/coupons/{gift_id}", headers=owner.headers)
    problem(r, 404, "Coupon not found")  # not theirs
    assert (await api.client.delete(f"/api/v1/coupons/{gift_id}", headers=admin.headers)).status_code == 204
    problem(await api.client.delete(f"/api/v1/coupons/{gift_id}", headers=admin.headers), 404, "Coupon not found")
    assert (await api.client.get(f"{ORDERS_URL}/{gift['id']}", headers=second.headers)).json()["coupon_code"] == "GIFT"


# ----- Stripe (a real localstripe) -----


@pytest.fixture
async def stripe_api(make_api: MakeApiFn, localstripe: LocalStripeServer) -> Any:
    async with stripe_events(localstripe) as (secret, received):
        api = await make_api(
            LMS_PAYMENTS_URL="stripe://",
            LMS_STRIPE_API_KEY=API_KEY,
            LMS_STRIPE_WEBHOOK_SECRET=secret,
            LMS_STRIPE_API_BASE=localstripe.url,
        )
        yield api, StripePayments(API_KEY, secret, localstripe.url), received, localstripe, secret


async def _reference(api: Api, order_id: str) -> str:
    async with api.container.sessions() as session:
        return str((await session.execute(select(ORDERS.c.reference).where(ORDERS.c.id == order_id))).scalar_one())


async def test_stripe_confirms_the_payment_and_a_redelivered_event_enrolls_once(stripe_api: Any) -> None:
    api, payments, received, localstripe, secret = stripe_api
    cast: Cast = await cast_of(api)
    student = cast.student
    course = await paid_course(api, cast.owner, price="12.34", currency="EUR")
    placed = await order(api, student, course["id"])
    assert (placed["status"], placed["total"], placed["currency"]) == ("pending", "12.34", "EUR")
    assert placed["checkout_url"].endswith(f"/checkout/{placed['id']}") and placed["client_secret"]
    reference = await _reference(api, placed["id"])

    await buyer_pays(localstripe.url, reference)
    body, signature = await event_of_type(received, payments, "payment_intent.succeeded", reference)
    hook = "/api/v1/payments/stripe/webhook"
    # Forged, altered and replayed deliveries: refused, nothing changed.
    now = int(time.time())
    for forged_body, forged_signature in (
        (body.replace(b"succeeded", b"failed"), signature),
        (body, signed("whsec_other", body, now)),
        (body, signed(secret, body, now - 301)),
    ):
        r = await api.client.post(hook, content=forged_body, headers={"Stripe-Signature": forged_signature})
        problem(r, 400, "Invalid signature")
    problem(await api.client.post(hook, content=body), 400, "Invalid signature")
    assert (await api.client.get("/api/v1/enrollments/my-courses", headers=student.headers)).json()["items"] == []

    for _ in range(2):  # the provider retries: one enrollment, one order.paid
        r = await api.client.post(hook, content=body, headers={"Stripe-Signature": signature})
        assert r.status_code == 200, r.text
    shown = (await api.client.get(f"{ORDERS_URL}/{placed['id']}", headers=student.headers)).json()
    assert (shown["status"], shown["client_secret"]) == ("paid", None)
    mine = (await api.client.get("/api/v1/enrollments/my-courses", headers=student.headers)).json()["items"]
    assert [(e["course_id"], e["status"]) for e in mine] == [(course["id"], "active")]
    types = await event_types(api)
    assert types.count("order.paid") == 1 and types.count("enrollment.created") == 1

    # An admin's refund goes through Stripe; Stripe's own refund event then changes nothing more.
    r = await api.client.post(f"{ORDERS_URL}/{placed['id']}/refund", headers=cast.admin.headers)
    assert (r.status_code, r.json()["status"]) == (200, "refunded"), r.text
    refunded = made_event("charge.refunded", {"id": "ch_1", "object": "charge", "payment_intent": reference})
    for body in (refunded, refunded):
        r = await api.client.post(
            hook, content=body, headers={"Stripe-Signature": signed(secret, body, int(time.time()))}
        )
        assert r.status_code == 200, r.text
    assert (await event_types(api)).count("order.refunded") == 1
    mine = (await api.client.get("/api/v1/enrollments/my-courses", headers=student.headers)).json()["items"]
    assert mine[0]["status"] == "dropped"
    # An event of a type we do not act on is acknowledged.
    other = made_event("customer.created", {"id": "cus_1", "object": "customer"})
    r = await api.client.post(
        hook, content=other, headers={"Stripe-Signature": signed(secret, other, int(time.time()))}
    )
    assert r.status_code == 200, r.text


async def test_the_buyers_return_asks_stripe_before_the_event_arrives(stripe_api: Any) -> None:
    api, _, _, localstripe, _ = stripe_api
    cast = await cast_of(api)
    course = await paid_course(api, cast.owner)
    placed = await order(api, cast.student, course["id"])
    assert (await api.client.get(f"{ORDERS_URL}/{placed['id']}", headers=cast.student.headers)).json()[
        "status"
    ] == "pending"
    await buyer_pays(localstripe.url, await _reference(api, placed["id"]))
    shown = (await api.client.get(f"{ORDERS_URL}/{placed['id']}", headers=cast.student.headers)).json()
    assert shown["status"] == "paid"
    assert (
        len((await api.client.get("/api/v1/enrollments/my-courses", headers=cast.student.headers)).json()["items"]) == 1
    )


async def test_an_unreachable_provider_leaves_no_order(make_api: MakeApiFn) -> None:
    from tests.support.servers import free_port

    api = await make_api(
        LMS_PAYMENTS_URL="stripe://",
        LMS_STRIPE_API_KEY=API_KEY,
        LMS_STRIPE_WEBHOOK_SECRET="whsec_x",
        LMS_STRIPE_API_BASE=f"http://127.0.0.1:{free_port()}",
    )
    cast = await cast_of(api)
    course = await paid_course(api, cast.owner)
    r = await api.client.post(ORDERS_URL, json={"course_id": course["id"]}, headers=cast.student.headers)
    problem(r, 503, "The payment provider cannot be reached; try again shortly")
    assert await order_rows(api) == 0


async def test_bad_ids_and_bodies_on_the_admin_routes_change_nothing(make_api: MakeApiFn) -> None:
    api = await make_api(LMS_PAYMENTS_URL="manual://")
    cast = await cast_of(api)
    admin = cast.admin
    course = await paid_course(api, cast.owner)
    placed = await order(api, cast.student, course["id"])
    unknown = "00000000-0000-0000-0000-00000000abcd"
    for action in ("refund", "mark-paid"):
        invalid(await api.client.post(f"{ORDERS_URL}/nope/{action}", headers=admin.headers), "path.order_id")
        problem(
            await api.client.post(f"{ORDERS_URL}/{unknown}/{action}", headers=admin.headers), 404, "Order not found"
        )
        r = await api.client.post(f"{ORDERS_URL}/{placed['id']}/{action}", headers=cast.student.headers)
        problem(r, 403, "Not authorized to perform this action")
    r = await api.client.post(f"{ORDERS_URL}/{placed['id']}/refund", json={"reason": 5}, headers=admin.headers)
    invalid(r, "body.reason")
    r = await api.client.post(f"{ORDERS_URL}/{placed['id']}/refund", json={"reason": "x" * 1001}, headers=admin.headers)
    invalid(r, "body.reason")
    invalid(await api.client.delete("/api/v1/coupons/nope", headers=admin.headers), "path.coupon_id")
    problem(await api.client.delete(f"/api/v1/coupons/{unknown}", headers=admin.headers), 404, "Coupon not found")
    r = await api.client.post("/api/v1/coupons", json={"code": "TYPED", "percent_off": "ten"}, headers=admin.headers)
    invalid(r, "body.percent_off")
    r = await api.client.post(
        "/api/v1/coupons", json={"code": "LIMIT", "percent_off": "5", "max_redemptions": 0}, headers=admin.headers
    )
    invalid(r, "body.max_redemptions")
    shown = (await api.client.get(f"{ORDERS_URL}/{placed['id']}", headers=cast.student.headers)).json()
    assert (shown["status"], shown["paid_at"]) == ("pending", None)
    assert (await api.client.get("/api/v1/coupons", headers=admin.headers)).json()["items"] == []
    assert await order_rows(api) == 1
