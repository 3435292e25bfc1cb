"""What notifications need from outside: the inbox and preference tables."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from domain.notifications.model import Notification, Preferences
from domain.shared.pagination import Page, PageParams
from domain.shared.unit_of_work import UnitOfWork


class NotificationRepository(Protocol):
    async def add_all(self, notifications: Sequence[Notification]) -> int:
        """Insert those not made yet: a (event, user) pair that exists, racing inserts included,
        is skipped. Returns how many were inserted."""
        ...

    async def page(self, user_id: UUID, *, unread_only: bool, params: PageParams) -> Page[Notification]:
        """The user's notifications, newest first."""
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
