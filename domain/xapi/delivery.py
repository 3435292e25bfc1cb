"""Sending statements to the LRS (API §15.1) with the guarantees of §9.3: staged from the outbox
in the transaction that marks each event staged (never lost, never doubled), sent in batches of
up to 100 by jobs, retried on the webhook schedule, and idempotent at the LRS by statement id."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from uuid import UUID

from domain.integrations.model import SendResult
from domain.integrations.webhooks import LEASE, describe, next_delay
from domain.shared.clock import Clock
from domain.shared.ports import JobQueue
from domain.shared.telemetry import NULL_METER, Meter
from domain.xapi.ports import LearningRecordStore, StatementStore
from domain.xapi.statements import StatementMaker

SEND_STATEMENTS = "send_xapi_statements"
BATCH = 100
log = logging.getLogger("lms.xapi")


@dataclass(slots=True)
class XapiDelivery:
    store: StatementStore
    lrs: LearningRecordStore
    maker: StatementMaker
    queue: JobQueue
    clock: Clock
    jitter: Callable[[], float] = field(default=lambda: random.uniform(-1.0, 1.0))  # noqa: S311 (not a secret)
    retention: timedelta | None = timedelta(days=30)
    meter: Meter = NULL_METER

    async def relay_once(self) -> int:
        """Stage the events committed since, then hand each due batch to a job. Safe in several
        processes at once: events and statements are claimed, never shared."""
        now = self.clock.now()
        while await self.store.stage(now, BATCH, self.maker.statements) == BATCH:
            pass
        handed = 0
        while (claim_id := await self.store.claim_due(now, now + LEASE, BATCH)) is not None:
            await self.queue.enqueue(SEND_STATEMENTS, {"claim_id": str(claim_id)})
            handed += 1
        return handed

    async def send(self, claim_id: UUID) -> None:
        """The job: POST the claimed batch and record the outcome. A claim no longer held (recorded,
        or taken over after its lease) does nothing."""
        batch = await self.store.claimed(claim_id, self.clock.now())
        if batch is None or not batch.statements:
            return
        result = await self.lrs.send(batch.statements)
        if result.status_code == 409:
            # Some statement of the batch is stored already (an earlier attempt that got through,
            # with names since renamed): each one alone, where 409 means it is there.
            result = await self._one_by_one(batch.statements)
        now = self.clock.now()
        if result.ok:
            await self.store.sent(claim_id, now)
            self.meter.counter("lms_xapi_statements", outcome="sent").inc(len(batch.statements))
            return
        attempts = batch.attempts + 1
        delay = next_delay(attempts, self.jitter)
        error = describe(result)[:500]
        await self.store.failed(
            claim_id, now, attempts=attempts, next_attempt_at=now + delay if delay else None, error=error
        )
        if delay is None:
            log.error(
                "xAPI: %d statements failed for good after %d attempts: %s", len(batch.statements), attempts, error
            )
            self.meter.counter("lms_xapi_statements", outcome="failed").inc(len(batch.statements))
        else:
            log.warning("xAPI: sending %d statements failed (%s); retrying in %s", len(batch.statements), error, delay)

    async def _one_by_one(self, statements: list[dict[str, object]]) -> SendResult:
        for statement in statements:
            result = await self.lrs.put(statement)
            if not result.ok and result.status_code != 409:
                return result
        return SendResult(status_code=204)

    async def purge_once(self) -> int:
        if self.retention is None:
            return 0
        before = self.clock.now() - self.retention
        purged = 0
        while (done := await self.store.purge(before, BATCH)) > 0:
            purged += done
            if done < BATCH:
                break
        return purged
