"""Payments as the buyer's browser and Stripe make them, against a local Stripe-compatible server:
a card confirmed with the provider, and the provider's signed events caught by a receiver."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from aiohttp import web

from adapters.payments.stripe_provider import StripePayments
from tests.support.servers import LocalStripeServer, free_port

API_KEY = "sk_test_contract"


@asynccontextmanager
async def stripe_events(localstripe: LocalStripeServer) -> AsyncIterator[tuple[str, asyncio.Queue[tuple[bytes, str]]]]:
    """A receiver the provider posts its events to, signed with a secret of its own."""
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


async def buyer_pays(base: str, reference: str, card_number: str = "4242424242424242") -> None:
    """What the provider's script does in the buyer's browser: a card, then the confirmation."""
    auth = {"Authorization": f"Bearer {API_KEY}"}
    async with httpx.AsyncClient(base_url=base, headers=auth) as client:
        card = {
            "type": "card",
            "card[number]": card_number,
            "card[exp_month]": "12",
            "card[exp_year]": "2040",
            "card[cvc]": "123",
        }
        method = (await client.post("/v1/payment_methods", data=card)).json()
        r = await client.post(f"/v1/payment_intents/{reference}", data={"payment_method": method["id"]})
        assert r.status_code == 200, r.text
        r = await client.post(f"/v1/payment_intents/{reference}/confirm")
        assert r.status_code == 200, r.text


async def event_of_type(
    received: asyncio.Queue[tuple[bytes, str]], payments: StripePayments, kind: str, reference: str | None = None
) -> tuple[bytes, str]:
    """The next event of `kind` (about the payment `reference`, when given); others are skipped."""
    while True:
        body, signature = await asyncio.wait_for(received.get(), 10)
        event = payments.verify(body, signature)
        if event.type == kind and reference in (None, event.reference):
            return body, signature


def signed(secret: str, body: bytes, at: int) -> str:
    """A `Stripe-Signature` header as Stripe makes it."""
    digest = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def made_event(kind: str, data_object: dict[str, object]) -> bytes:
    """An event body as Stripe sends it, for the types the local server never sends itself
    (`charge.refunded`), or types we do not act on."""
    event = {
        "id": "evt_" + secrets.token_hex(12),
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "type": kind,
        "data": {"object": data_object},
    }
    return json.dumps(event).encode()
