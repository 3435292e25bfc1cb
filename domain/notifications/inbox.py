"""The inbox and the preferences (API §13): each user reads, marks and deletes their own
notifications, and chooses which kinds reach them by email and in the app."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from domain.identity.model import User
from domain.notifications.model import UNKNOWN_TYPE, Channel, Notification, Preferences, kind_of
from domain.notifications.ports import NotificationsUnitOfWorkFactory
from domain.shared.clock import Clock
from domain.shared.errors import InvalidInput, NotFound
from domain.shared.pagination import Page, PageParams

NOTIFICATION_NOT_FOUND = "Notification not found"
REPLAY_LIMIT = 100
REPLAY_WINDOW = timedelta(hours=24)


@dataclass(slots=True)
class InboxService:
    uow: NotificationsUnitOfWorkFactory
    clock: Clock

    # ----- the inbox -----

    async def notifications(self, actor: User, *, unread_only: bool, params: PageParams) -> Page[Notification]:
        async with self.uow() as uow:
            return await uow.notifications.page(actor.id, unread_only=unread_only, params=params)

    async def missed(self, user_id: UUID, last_seen: UUID) -> list[Notification]:
        """What a reconnecting live client missed after the notification it saw last (API §13): at
        most the newest 100, of the last 24 hours, oldest first."""
        async with self.uow() as uow:
            return await uow.notifications.since(user_id, last_seen, self.clock.now() - REPLAY_WINDOW, REPLAY_LIMIT)

    async def unread_count(self, actor: User) -> int:
        async with self.uow() as uow:
            return await uow.notifications.unread_count(actor.id)

    async def mark_read(self, actor: User, notification_id: UUID) -> None:
        """Another user's notification is `404`, as one that does not exist."""
        async with self.uow() as uow:
            if not await uow.notifications.mark_read(actor.id, notification_id, self.clock.now()):
                raise NotFound(NOTIFICATION_NOT_FOUND)
            await uow.commit()

    async def mark_all_read(self, actor: User) -> None:
        async with self.uow() as uow:
            await uow.notifications.mark_all_read(actor.id, self.clock.now())
            await uow.commit()

    async def delete(self, actor: User, notification_id: UUID) -> None:
        async with self.uow() as uow:
            if not await uow.notifications.delete(actor.id, notification_id):
                raise NotFound(NOTIFICATION_NOT_FOUND)
            await uow.commit()

    async def deliver(self, notifications: Sequence[Notification]) -> int:
        """Put notifications in their users' inboxes, once per (event, user) however often it is
        asked (an event relayed again). Returns how many are new."""
        async with self.uow() as uow:
            added = await uow.notifications.add_all(notifications)
            await uow.commit()
        return len(added)

    # ----- preferences -----

    async def preferences(self, actor: User) -> Preferences:
        async with self.uow() as uow:
            return await uow.preferences.get(actor.id)

    async def set_preferences(self, actor: User, maps: dict[Channel, dict[str, bool]]) -> Preferences:
        """Replace the preferences: a kind left out is on again. An unknown kind is `400`."""
        for kinds in maps.values():
            for name in kinds:
                if kind_of(name) is None:
                    raise InvalidInput(UNKNOWN_TYPE.format(name))
        preferences = Preferences.of_maps(maps)
        async with self.uow() as uow:
            await uow.preferences.put(actor.id, preferences, self.clock.now())
            await uow.commit()
        return preferences
