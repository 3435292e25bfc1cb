"""The payments port on a real Stripe-compatible server (localstripe): a payment opened for an
order, completed the way the buyer's browser completes it, known paid by asking the provider and
from the event it signs; forged, altered and replayed events refused; a refund; an unreachable
provider reported as unavailable."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from uuid import uuid4

import httpx
import pytest
from aiohttp import web

from adapters.payments.stripe_provider import StripePayments
from domain.commerce.ports import InvalidSignature, Outcome, PaymentRequest, PaymentsUnavailable
from tests.support.servers import LocalStripeServer, free_port

API_KEY = "sk_test_contract"


@pytest.fixture(scope="session")
def localstripe() -> Iterator[LocalStripeServer]:
    server = LocalStripeServer.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def signed_events(localstripe: LocalStripeServer) -> AsyncIterator[tuple[str, asyncio.Queue[tuple[bytes, str]]]]:
    """A receiver the provider posts its events to, signed with a secret of this test's own."""
    secret = "whsec_" + secrets.token_hex(16)
    received: asyncio.Queue[tuple[bytes, str]] = asyncio.Queue()

    async def hook(request: web.Request) -> web.Response:
        await received.put((await request.read(), request.headers.get("Stripe-Signature", "")))
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    async with httpx.AsyncClient(base_url=localstripe.url) as client:
        r = await client.post(
            f"/_config/webhooks/{secrets.token_hex(4)}", data={"url": f"http://127.0.0.1:{port}/hook", "secret": secret}
        )
        assert r.status_code == 200, r.text
    try:
        yield secret, received
    finally:
        await runner.cleanup()


async def _buyer_pays(base: str, reference: str) -> None:
    """What the provider's script does in the buyer's browser: a card, then the confirmation."""
    auth = {"Authorization": f"Bearer {API_KEY}"}
    async with httpx.AsyncClient(base_url=base, headers=auth) as client:
        card = {
            "type": "card",
            "card[number]": "4242424242424242",
            "card[exp_month]": "12",
            "card[exp_year]": "2040",
            "card[cvc]": "123",
        }
        method = (await client.post("/v1/payment_methods", data=card)).json()
        r = await client.post(f"/v1/payment_intents/{reference}", data={"payment_method": method["id"]})
        assert r.status_code == 200, r.text
        r = await client.post(f"/v1/payment_intents/{reference}/confirm")
        assert r.status_code == 200, r.text


async def _event_of_type(
    received: asyncio.Queue[tuple[bytes, str]], payments: StripePayments, kind: str
) -> tuple[bytes, str]:
    while True:
        body, signature = await asyncio.wait_for(received.get(), 10)
        if payments.verify(body, signature).type == kind:
            return body, signature


def _signed(secret: str, body: bytes, at: int) -> str:
    digest = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


async def test_a_payment_is_known_paid_from_the_provider_and_its_signed_event(
    localstripe: LocalStripeServer, signed_events: tuple[str, asyncio.Queue[tuple[bytes, str]]]
) -> None:
    secret, received = signed_events
    payments = StripePayments(API_KEY, secret, api_base=localstripe.url)
    order = uuid4()
    payment = await payments.start(PaymentRequest(order, Decimal("12.34"), "USD", "Backend course"), f"order-{order}")
    assert payment.reference.startswith("pi_") and payment.client_secret
    assert not await payments.is_paid(payment.reference)

    await _buyer_pays(localstripe.url, payment.reference)
    assert await payments.is_paid(payment.reference)
    body, signature = await _event_of_type(received, payments, "payment_intent.succeeded")
    event = payments.verify(body, signature)
    assert (event.outcome, event.reference, event.order_id) == (Outcome.PAID, payment.reference, order)
    assert event.id.startswith("evt_")

    # Altered, unsigned, signed with another secret, or replayed after five minutes: refused.
    now = int(time.time())
    for forged_body, forged_signature in (
        (body.replace(b"succeeded", b"failed"), signature),
        (body, ""),
        (body, _signed("whsec_other", body, now)),
        (body, _signed(secret, body, now - 301)),
    ):
        with pytest.raises(InvalidSignature):
            payments.verify(forged_body, forged_signature)
    assert payments.verify(body, _signed(secret, body, now)).id == event.id  # a fresh signature stands

    refund = await payments.refund(payment.reference, f"refund-{order}")
    assert refund.startswith("re_")


async def test_an_unreachable_provider_is_unavailable() -> None:
    payments = StripePayments(API_KEY, "whsec_x", api_base=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(PaymentsUnavailable):
        await payments.start(PaymentRequest(uuid4(), Decimal("10.00"), "EUR", "Course"), "order-x")
