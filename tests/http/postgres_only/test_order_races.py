"""Orders racing on PostgreSQL (two app instances on one database): two buyers for a coupon's last
redemption, two confirmations of one order, and one provider event delivered twice at once: one
wins each time, and the buyer is enrolled once."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select

from adapters.payments.stripe_provider import StripePayments
from adapters.sql.models import COUPONS, OutboxEventRow
from tests.http.conftest import MakeApiFn
from tests.http.test_orders import ORDERS_URL, _reference, order, paid_course
from tests.support.api import Api
from tests.support.catalog import cast_of
from tests.support.payments import API_KEY, buyer_pays, event_of_type, stripe_events
from tests.support.servers import LocalStripeServer


async def _count(api: Api, event_type: str) -> int:
    async with api.container.sessions() as session:
        query = select(func.count()).select_from(OutboxEventRow).where(OutboxEventRow.type == event_type)
        return int((await session.execute(query)).scalar_one())


async def _redemptions(api: Api, code: str) -> int:
    async with api.container.sessions() as session:
        return int((await session.execute(select(COUPONS.c.redemptions).where(COUPONS.c.code == code))).scalar_one())


async def test_two_buyers_racing_for_the_last_redemption_one_wins(make_api: MakeApiFn) -> None:
    one, two = await make_api(LMS_PAYMENTS_URL="manual://"), await make_api(LMS_PAYMENTS_URL="manual://")
    cast = await cast_of(one)
    course = await paid_course(one, cast.owner)
    for n, percent in enumerate(("100", "50", "100", "50")):
        code = f"LAST-{n}"
        r = await one.client.post(
            "/api/v1/coupons",
            json={"code": code, "percent_off": percent, "max_redemptions": 1},
            headers=cast.admin.headers,
        )
        assert r.status_code == 201, r.text
        buyers = [await one.register(), await one.register()]
        results = await asyncio.gather(
            *(
                api.client.post(ORDERS_URL, json={"course_id": course["id"], "coupon_code": code}, headers=b.headers)
                for api, b in zip((one, two), buyers, strict=True)
            )
        )
        assert sorted(r.status_code for r in results) == [201, 400], [r.text for r in results]
        lost = next(r for r in results if r.status_code == 400)
        assert lost.json()["detail"] == "Coupon has been used up"
        won = next(r for r in results if r.status_code == 201).json()
        # A free order is paid (and its redemption counted) at once; a half-price one holds it.
        assert won["status"] == ("paid" if percent == "100" else "pending")
        assert await _redemptions(one, code) == (1 if percent == "100" else 0)


async def test_two_confirmations_of_one_order_enroll_once(make_api: MakeApiFn) -> None:
    one, two = await make_api(LMS_PAYMENTS_URL="manual://"), await make_api(LMS_PAYMENTS_URL="manual://")
    cast = await cast_of(one)
    course = await paid_course(one, cast.owner)
    for _ in range(3):
        buyer = await one.register()
        placed = await order(one, buyer, course["id"])
        results = await asyncio.gather(
            *(
                api.client.post(f"{ORDERS_URL}/{placed['id']}/mark-paid", headers=cast.admin.headers)
                for api in (one, two)
            )
        )
        assert sorted(r.status_code for r in results) == [200, 409], [r.text for r in results]
        mine = (await one.client.get("/api/v1/enrollments/my-courses", headers=buyer.headers)).json()["items"]
        assert len(mine) == 1
    assert await _count(one, "order.paid") == 3
    assert await _count(one, "enrollment.created") == 3


async def test_one_provider_event_delivered_twice_at_once_enrolls_once(
    make_api: MakeApiFn, localstripe: LocalStripeServer
) -> None:
    async with stripe_events(localstripe) as (secret, received):
        env: dict[str, Any] = {
            "LMS_PAYMENTS_URL": "stripe://",
            "LMS_STRIPE_API_KEY": API_KEY,
            "LMS_STRIPE_WEBHOOK_SECRET": secret,
            "LMS_STRIPE_API_BASE": localstripe.url,
        }
        one, two = await make_api(**env), await make_api(**env)
        payments = StripePayments(API_KEY, secret, localstripe.url)
        cast = await cast_of(one)
        course = await paid_course(one, cast.owner)
        placed = await order(one, cast.student, course["id"])
        reference = await _reference(one, placed["id"])
        await buyer_pays(localstripe.url, reference)
        body, signature = await event_of_type(received, payments, "payment_intent.succeeded", reference)
        results = await asyncio.gather(
            *(
                api.client.post(
                    "/api/v1/payments/stripe/webhook", content=body, headers={"Stripe-Signature": signature}
                )
                for api in (one, two, one, two)
            )
        )
        assert [r.status_code for r in results] == [200] * 4, [r.text for r in results]
        mine = (await one.client.get("/api/v1/enrollments/my-courses", headers=cast.student.headers)).json()["items"]
        assert len(mine) == 1
        assert await _count(one, "order.paid") == 1
        assert await _count(one, "enrollment.created") == 1
