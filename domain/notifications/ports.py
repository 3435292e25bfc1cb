"""What notifications need from outside: the inbox and preference tables."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from domain.integrations.model import DomainEvent
from domain.integrations.ports import Outbox
from domain.notifications.model import Channel, Notification, NotificationType, Preferences
from domain.shared.pagination import Page, PageParams
from domain.shared.unit_of_work import UnitOfWork


class NotificationRepository(Protocol):
    async def add_all(self, notifications: Sequence[Notification]) -> list[Notification]:
        """Insert those not made yet: a (event, user) pair that exists, racing inserts included,
        is skipped. Returns those inserted."""
        ...

    async def page(self, user_id: UUID, *, unread_only: bool, params: PageParams) -> Page[Notification]:
        """The user's notifications, newest first."""
        ...

    async def since(self, user_id: UUID, after: UUID, not_before: datetime, limit: int) -> list[Notification]:
        """The user's notifications stored after `after` (ids are time-ordered) and made at
        `not_before` or later: the newest `limit` of them, oldest first."""
        ...

    async def unread_count(self, user_id: UUID) -> int: ...
    async def mark_read(self, user_id: UUID, notification_id: UUID, now: datetime) -> bool:
        """False when the user has no such notification (a read one stays read as it was)."""
        ...

    async def mark_all_read(self, user_id: UUID, now: datetime) -> None: ...
    async def delete(self, user_id: UUID, notification_id: UUID) -> bool:
        """False when the user has no such notification."""
        ...


class PreferenceRepository(Protocol):
    async def get(self, user_id: UUID) -> Preferences: ...
    async def put(self, user_id: UUID, preferences: Preferences, now: datetime) -> None: ...


class NotificationsUnitOfWork(UnitOfWork, Protocol):
    @property
    def notifications(self) -> NotificationRepository: ...
    @property
    def preferences(self) -> PreferenceRepository: ...


class NotificationsUnitOfWorkFactory(Protocol):
    def __call__(self) -> NotificationsUnitOfWork: ...


@dataclass(frozen=True, slots=True)
class DueAssignment:
    """A published assignment of a published course, due soon."""

    id: UUID
    course_id: UUID
    title: str
    course_title: str
    due_at: datetime


class ReminderRepository(Protocol):
    async def due_between(self, start: datetime, end: datetime) -> list[DueAssignment]:
        """Published assignments of published courses due after `start`, by `end`."""
        ...

    async def claim(self, assignment_id: UUID, course_id: UUID, now: datetime) -> list[UUID]:
        """Record a reminder for every student enrolled `active` in the course who has not handed
        the assignment in and was not reminded of it yet; returns those recorded now (of claims
        racing for a student, one records them)."""
        ...


class RemindersUnitOfWork(UnitOfWork, Protocol):
    @property
    def reminders(self) -> ReminderRepository: ...
    @property
    def outbox(self) -> Outbox: ...


class RemindersUnitOfWorkFactory(Protocol):
    def __call__(self) -> RemindersUnitOfWork: ...


Compose = Callable[[list[DomainEvent]], Awaitable[list[Notification]]]


@dataclass(frozen=True, slots=True)
class Fed:
    """One batch of the feed, committed: the events claimed and marked notified, and the
    notifications stored for them now (none made before)."""

    events: list[DomainEvent]
    stored: list[Notification]


class NotificationFeed(Protocol):
    async def feed(self, now: datetime, limit: int, compose: Compose) -> Fed:
        """In one transaction: claim up to `limit` events not notified yet (others' claims are
        skipped), store what `compose` makes of them (a notification made before is skipped), and
        mark them notified."""
        ...


@dataclass(frozen=True, slots=True)
class CourseFacts:
    title: str
    instructor_id: UUID


class RecipientReader(Protocol):
    """Reads outside the feed's transaction: who hears of an event."""

    async def courses(self, course_ids: set[UUID]) -> dict[UUID, CourseFacts]: ...
    async def enrolled(self, course_ids: set[UUID]) -> dict[UUID, list[tuple[UUID, datetime]]]:
        """Each course's students, enrolled `active` or `completed` (not those who dropped out),
        with when they enrolled."""
        ...

    async def courses_of(self, enrollment_ids: set[UUID], assignment_ids: set[UUID]) -> dict[UUID, UUID]:
        """The course of each enrollment and assignment named (by its id)."""
        ...

    async def switched_off(
        self, channel: Channel, wanted: set[tuple[UUID, NotificationType]]
    ) -> set[tuple[UUID, NotificationType]]:
        """Those of the (user, kind) pairs the user switched off on the channel."""
        ...
