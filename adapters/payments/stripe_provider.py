"""Payments through Stripe's official library and its async client (API §14): a PaymentIntent per
order (the course as its metadata), confirmed by the buyer's client with Stripe's script, known
paid from the signed `payment_intent.succeeded` event or by asking Stripe; refunds of the whole
payment. `api_base` points the client at a Stripe-compatible server (tests use localstripe, which
serves PaymentIntents but not Checkout Sessions)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import stripe

from domain.commerce.ports import (
    InvalidSignature,
    Outcome,
    Payment,
    PaymentRequest,
    PaymentsUnavailable,
    ProviderEvent,
)
from domain.shared.money import to_minor_units

TOLERANCE_SECONDS = 300  # a signed event older than five minutes is refused (a replay)

_OUTCOMES = {
    "payment_intent.succeeded": Outcome.PAID,
    "payment_intent.payment_failed": Outcome.FAILED,
    "charge.refunded": Outcome.REFUNDED,
}
# Unreachable, or answering 5xx/429 after the client's own retries: try again later. A 4xx is ours.
_DOWN = (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)


@contextlib.contextmanager
def _reachable() -> Iterator[None]:
    """A call to Stripe: down or overloaded becomes PaymentsUnavailable (503, try again)."""
    try:
        yield
    except _DOWN as exc:
        raise PaymentsUnavailable() from exc


def _order_of(metadata: Any) -> UUID | None:
    try:
        return UUID(str(metadata["order_id"]))
    except (KeyError, TypeError, ValueError):
        return None


class StripePayments:
    def __init__(self, api_key: str, webhook_secret: str, api_base: str | None = None) -> None:
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            http_client=stripe.HTTPXClient(timeout=10),
            max_network_retries=2,
        )
        self._secret = webhook_secret

    async def start(self, request: PaymentRequest, idempotency_key: str) -> Payment:
        params: Any = {
            "amount": to_minor_units(request.amount, request.currency),
            "currency": request.currency.lower(),
            "payment_method_types": ["card"],
            "metadata": {"order_id": str(request.order_id), "description": request.description[:500]},
        }
        with _reachable():
            intent = await self._client.v1.payment_intents.create_async(
                params, options={"idempotency_key": idempotency_key}
            )
        return Payment(reference=intent.id, client_secret=intent.client_secret)

    async def is_paid(self, reference: str) -> bool:
        with _reachable():
            intent = await self._client.v1.payment_intents.retrieve_async(reference)
        return bool(intent.status == "succeeded")

    async def refund(self, reference: str, idempotency_key: str) -> str:
        with _reachable():
            refund = await self._client.v1.refunds.create_async(
                {"payment_intent": reference}, options={"idempotency_key": idempotency_key}
            )
        return str(refund.id)

    def verify(self, payload: bytes, signature: str | None) -> ProviderEvent:
        try:
            event = stripe.Webhook.construct_event(payload, signature, self._secret, tolerance=TOLERANCE_SECONDS)
        except (stripe.SignatureVerificationError, ValueError) as exc:
            raise InvalidSignature() from exc
        found: dict[str, Any] = event.data.object.to_dict()
        outcome = _OUTCOMES.get(event.type, Outcome.OTHER)
        reference = found.get("payment_intent") if event.type.startswith("charge.") else found.get("id")
        return ProviderEvent(
            id=event.id,
            type=event.type,
            outcome=outcome,
            reference=str(reference) if reference else None,
            order_id=_order_of(found.get("metadata")),
        )
