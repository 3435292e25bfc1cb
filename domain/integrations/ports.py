"""What integrations need from outside: the outbox and audit tables, delivery state, an HTTP sender."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from domain.integrations.model import AuditEntry, ClaimedDelivery, Delivery, DeliveryFilter, DomainEvent, SendResult
from domain.shared.pagination import Page, PageParams


class Actor(Protocol):
    """Who acts: any user (integrations know nothing else about users)."""

    @property
    def id(self) -> UUID: ...
    @property
    def is_admin(self) -> bool: ...


class Outbox(Protocol):
    """Events of the unit of work, written in its transaction (nothing is written when webhooks
    are off: no one would receive them)."""

    async def add(self, event: DomainEvent) -> None: ...
    async def add_all(self, events: Sequence[DomainEvent]) -> None:
        """`add` of each, sent to the database as one batch."""
        ...


class AuditLog(Protocol):
    """Append-only; written in the transaction of the change it records."""

    async def add(self, entry: AuditEntry) -> None: ...
    async def add_all(self, entries: Sequence[AuditEntry]) -> None:
        """`add` of each, sent to the database as one batch."""
        ...


class DeliveryStore(Protocol):
    """Webhook delivery state. Each method is its own transaction."""

    async def relay(self, targets: Sequence[str], now: datetime, limit: int) -> int:
        """Claim up to `limit` unrelayed outbox events and create one pending delivery per target,
        due now, in one transaction; an event claimed by another relay is skipped. Returns how many
        events were relayed."""
        ...

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[tuple[UUID, UUID]]:
        """Claim pending deliveries that are due and not claimed by a live lease: (delivery id, claim id)."""
        ...

    async def start_attempt(self, delivery_id: UUID, claim_id: UUID, lease_until: datetime) -> ClaimedDelivery | None:
        """The claimed delivery if the claim is still current (the lease is extended), else None."""
        ...

    async def finish_attempt(
        self, delivery_id: UUID, claim_id: UUID, values: Mapping[str, object], now: datetime
    ) -> bool:
        """Record an attempt's outcome (`attempts`, `status`, `next_attempt_at`, `last_*`, `delivered_at`)
        and release the claim; False when the claim was no longer current."""
        ...

    async def page(self, where: DeliveryFilter, params: PageParams) -> Page[Delivery]:
        """Deliveries, newest first."""
        ...

    async def get(self, delivery_id: UUID) -> Delivery | None: ...
    async def purge(self, relayed_before: datetime, limit: int) -> int:
        """Delete up to `limit` events relayed before `relayed_before` whose deliveries have all
        finished (delivered or failed), with those deliveries; events still being delivered stay.
        Returns how many events were deleted."""
        ...

    async def backlog(self) -> tuple[int, datetime | None]:
        """How many committed events wait for the relay, and when the oldest of them happened."""
        ...

    async def retry(self, delivery_id: UUID, now: datetime) -> Delivery | None:
        """Atomically move a failed delivery back to pending, due now; None when it was not failed."""
        ...


class WebhookSender(Protocol):
    async def send(self, url: str, headers: Mapping[str, str], body: bytes) -> SendResult:
        """POST without following redirects, within the sender's timeout; never raises for the
        target's behaviour (timeouts and refused connections are results)."""
        ...
