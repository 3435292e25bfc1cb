"""Webhook delivery (API §9): Standard Webhooks signatures, the retry schedule, the relay and the
delivery use cases."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from uuid import UUID

from domain.integrations.model import (
    ClaimedDelivery,
    Delivery,
    DeliveryFilter,
    DeliveryStatus,
    DomainEvent,
    SendResult,
)
from domain.integrations.ports import Actor, DeliveryStore, WebhookSender
from domain.shared.clock import Clock, iso
from domain.shared.errors import Conflict, Forbidden, NotFound
from domain.shared.pagination import Page, PageParams
from domain.shared.ports import JobQueue
from domain.shared.telemetry import NULL_METER, Meter

log = logging.getLogger("lms.webhooks")

DELIVER_WEBHOOK = "deliver_webhook"
USER_AGENT = "lms-webhooks/1"
NOT_AUTHORIZED = "Not authorized to perform this action"
DELIVERY_NOT_FOUND = "Webhook delivery not found"
NOT_FAILED = "Only a failed delivery can be retried"

# Delays before attempts 2..8 (API §9.3); the first attempt is immediate.
RETRY_DELAYS = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
JITTER = 0.10
# How long one claimed attempt may take before another sender may claim the delivery again: well
# above the 5 s send timeout, so a live attempt is never doubled.
LEASE = timedelta(seconds=60)


def signing_key(secret: str) -> bytes:
    """`whsec_<base64>` is a Standard Webhooks key; any other secret is used as its UTF-8 bytes."""
    if secret.startswith("whsec_"):
        return base64.b64decode(secret.removeprefix("whsec_"))
    return secret.encode()


def signature(key: bytes, event_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` (API §9.2)."""
    signed = f"{event_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def event_body(event: DomainEvent) -> dict[str, Any]:
    """The delivery body's members (API §9.2), as stored in the outbox."""
    return {"id": str(event.id), "type": event.type, "timestamp": iso(event.occurred_at), "data": event.data}


def encode_body(members: dict[str, Any]) -> bytes:
    return json.dumps(members, separators=(",", ":"), ensure_ascii=False).encode()


def next_delay(attempts: int, jitter: Callable[[], float]) -> timedelta | None:
    """The wait after `attempts` failed attempts, with ±10 % jitter; None once they are all spent.

    `jitter` returns a number in [-1, 1].
    """
    if attempts >= MAX_ATTEMPTS:
        return None
    base = RETRY_DELAYS[attempts - 1]
    return base * (1 + JITTER * jitter())


def describe(result: SendResult) -> str:
    """A failed attempt in a few words: its status, or the error."""
    return f"HTTP {result.status_code}" if result.status_code is not None else (result.error or "error")


@dataclass(slots=True)
class WebhookService:
    store: DeliveryStore
    sender: WebhookSender
    queue: JobQueue
    clock: Clock
    targets: tuple[str, ...]
    secret: str
    jitter: Callable[[], float] = field(default=lambda: random.uniform(-1.0, 1.0))  # noqa: S311 (not a secret)
    batch: int = 100
    retention: timedelta | None = timedelta(days=30)  # None: events and deliveries are kept forever
    meter: Meter = NULL_METER

    @property
    def enabled(self) -> bool:
        return bool(self.targets)

    # ----- the relay -----

    async def relay_once(self) -> int:
        """Turn committed events into deliveries, then hand every due delivery to a job.

        Safe to run in several processes at once: events and deliveries are claimed, never shared.
        Returns how many deliveries were handed to jobs.
        """
        now = self.clock.now()
        while await self.store.relay(self.targets, now, self.batch) == self.batch:
            pass
        handed = 0
        while True:
            claimed = await self.store.claim_due(now, now + LEASE, self.batch)
            for delivery_id, claim_id in claimed:
                await self.queue.enqueue(DELIVER_WEBHOOK, {"delivery_id": str(delivery_id), "claim_id": str(claim_id)})
            handed += len(claimed)
            if len(claimed) < self.batch:
                return handed

    async def purge_once(self) -> int:
        """Delete what is past `retention`: events relayed before it whose deliveries have all
        finished, with those deliveries (a delivery still pending keeps its event). Safe in
        several processes at once. Returns how many events were deleted."""
        if self.retention is None:
            return 0
        before = self.clock.now() - self.retention
        purged = 0
        while True:
            done = await self.store.purge(before, self.batch)
            purged += done
            if done < self.batch:
                return purged

    # ----- one attempt (the job) -----

    async def deliver(self, delivery_id: UUID, claim_id: UUID) -> None:
        """Make the claimed attempt and record it. Idempotent: a claim that is no longer current
        (already recorded, or taken over after its lease ran out) does nothing."""
        claimed = await self.store.start_attempt(delivery_id, claim_id, self.clock.now() + LEASE)
        if claimed is None:
            return
        result = await self._send(claimed)
        now = self.clock.now()
        attempts = claimed.attempts + 1
        values: dict[str, object] = {
            "attempts": attempts,
            "last_attempt_at": now,
            "last_status_code": result.status_code,
            "last_error": None if result.ok else describe(result)[:500],
        }
        if result.ok:
            values.update(status=DeliveryStatus.DELIVERED, delivered_at=now, next_attempt_at=None)
            self.meter.counter("lms_webhook_deliveries", outcome="delivered").inc()
        else:
            delay = None if result.status_code == 410 else next_delay(attempts, self.jitter)
            self.meter.counter("lms_webhook_deliveries", outcome="failed" if delay is None else "retry").inc()
            if delay is None:
                values.update(status=DeliveryStatus.FAILED, next_attempt_at=None)
                log.error(
                    "webhook delivery %s of event %s to %s failed for good after %d attempts: %s",
                    delivery_id,
                    claimed.event.get("id"),
                    claimed.target_url,
                    attempts,
                    describe(result),
                )
            else:
                values.update(status=DeliveryStatus.PENDING, next_attempt_at=now + delay)
                log.warning(
                    "webhook delivery %s to %s failed (attempt %d: %s); next attempt in %.0f s",
                    delivery_id,
                    claimed.target_url,
                    attempts,
                    describe(result),
                    delay.total_seconds(),
                )
        await self.store.finish_attempt(delivery_id, claim_id, values, now)

    async def _send(self, claimed: ClaimedDelivery) -> SendResult:
        body = encode_body(claimed.event)
        timestamp = int(self.clock.now().timestamp())  # fresh on every attempt, and so is the signature
        event_id = str(claimed.event["id"])
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": event_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature(signing_key(self.secret), event_id, timestamp, body),
        }
        return await self.sender.send(claimed.target_url, headers, body)

    # ----- operators -----

    async def list_deliveries(self, actor: Actor, where: DeliveryFilter, params: PageParams) -> Page[Delivery]:
        _require_admin(actor)
        return await self.store.page(where, params)

    async def retry_delivery(self, actor: Actor, delivery_id: UUID) -> Delivery:
        """A failed delivery goes back to pending, due now (the relay picks it up)."""
        _require_admin(actor)
        delivery = await self.store.retry(delivery_id, self.clock.now())
        if delivery is not None:
            return delivery
        if await self.store.get(delivery_id) is None:
            raise NotFound(DELIVERY_NOT_FOUND)
        raise Conflict(NOT_FAILED)


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden(NOT_AUTHORIZED)
