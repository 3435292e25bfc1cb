"""What xAPI delivery needs from outside: the statements' store (staged from the outbox), the
names of the activities, and the learning record store itself."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from domain.integrations.model import DomainEvent, SendResult

Statement = dict[str, Any]
Compose = Callable[[list[DomainEvent]], Awaitable[list[Statement]]]


@dataclass(frozen=True, slots=True)
class Activity:
    """A course, lesson, quiz or assignment as the statements name it; `course_id` is its course
    (itself for a course)."""

    name: str
    course_id: UUID


class ActivityNames(Protocol):
    async def activities(
        self, *, courses: set[UUID], lessons: set[UUID], quizzes: set[UUID], assignments: set[UUID]
    ) -> dict[UUID, Activity]:
        """Every found activity by id (ids are unique across kinds)."""
        ...


@dataclass(frozen=True, slots=True)
class ClaimedBatch:
    claim_id: UUID
    statements: list[Statement]
    attempts: int  # failed attempts so far (the batch's statements share one schedule)


class StatementStore(Protocol):
    async def stage(self, now: datetime, limit: int, compose: Compose) -> int:
        """Claim up to `limit` outbox events not staged yet, store their statements (`compose`),
        and mark them staged, in one transaction. Returns how many events were claimed."""
        ...

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> UUID | None:
        """Claim up to `limit` statements due for sending (pending, due, not claimed by another
        live claim): the claim's id, or None when nothing is due."""
        ...

    async def claimed(self, claim_id: UUID, now: datetime) -> ClaimedBatch | None:
        """The statements of a claim still held (None once recorded or taken over)."""
        ...

    async def sent(self, claim_id: UUID, now: datetime) -> None: ...
    async def failed(
        self, claim_id: UUID, now: datetime, *, attempts: int, next_attempt_at: datetime | None, error: str
    ) -> None:
        """Record a failed attempt: retried at `next_attempt_at`, or failed for good (None)."""
        ...

    async def purge(self, sent_before: datetime, limit: int) -> int: ...


class LearningRecordStore(Protocol):
    async def send(self, statements: Sequence[Statement]) -> SendResult:
        """POST the statements in one request; never raises for the LRS's behaviour."""
        ...

    async def put(self, statement: Statement) -> SendResult:
        """PUT one statement by its id (`409`: one with that id is stored already)."""
        ...
