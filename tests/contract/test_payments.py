"""The payments port on a real Stripe-compatible server (localstripe): a payment opened for an
order, completed the way the buyer's browser completes it, known paid by asking the provider and
from the event it signs; forged, altered and replayed events refused; a refund; an unreachable
provider reported as unavailable."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from uuid import uuid4

import pytest

from adapters.payments.stripe_provider import StripePayments
from domain.commerce.ports import InvalidSignature, Outcome, PaymentRequest, PaymentsUnavailable
from tests.support.payments import API_KEY, buyer_pays, event_of_type, signed, stripe_events
from tests.support.servers import LocalStripeServer, free_port


@pytest.fixture
async def signed_events(localstripe: LocalStripeServer) -> AsyncIterator[tuple[str, asyncio.Queue[tuple[bytes, str]]]]:
    async with stripe_events(localstripe) as events:
        yield events


async def test_a_payment_is_known_paid_from_the_provider_and_its_signed_event(
    localstripe: LocalStripeServer, signed_events: tuple[str, asyncio.Queue[tuple[bytes, str]]]
) -> None:
    secret, received = signed_events
    payments = StripePayments(API_KEY, secret, api_base=localstripe.url)
    order = uuid4()
    payment = await payments.start(PaymentRequest(order, Decimal("12.34"), "USD", "Backend course"), f"order-{order}")
    assert payment.reference.startswith("pi_") and payment.client_secret
    assert not await payments.is_paid(payment.reference)

    await buyer_pays(localstripe.url, payment.reference)
    assert await payments.is_paid(payment.reference)
    body, signature = await event_of_type(received, payments, "payment_intent.succeeded")
    event = payments.verify(body, signature)
    assert (event.outcome, event.reference, event.order_id) == (Outcome.PAID, payment.reference, order)
    assert event.id.startswith("evt_")

    # Altered, unsigned, signed with another secret, or replayed after five minutes: refused.
    now = int(time.time())
    for forged_body, forged_signature in (
        (body.replace(b"succeeded", b"failed"), signature),
        (body, ""),
        (body, signed("whsec_other", body, now)),
        (body, signed(secret, body, now - 301)),
    ):
        with pytest.raises(InvalidSignature):
            payments.verify(forged_body, forged_signature)
    assert payments.verify(body, signed(secret, body, now)).id == event.id  # a fresh signature stands

    refund = await payments.refund(payment.reference, f"refund-{order}")
    assert refund.startswith("re_")


async def test_an_unreachable_provider_is_unavailable() -> None:
    payments = StripePayments(API_KEY, "whsec_x", api_base=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(PaymentsUnavailable):
        await payments.start(PaymentRequest(uuid4(), Decimal("10.00"), "EUR", "Course"), "order-x")
