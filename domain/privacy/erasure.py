"""Erasure of a person (API §15.3): by themselves with their password, or by an admin. The account
stays as an inactive `Erased user` so that grades, aggregates, audit lines, orders and
certificates keep their id; everything else that names the person goes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from domain.identity.administration import USER_NOT_FOUND
from domain.identity.lockout import Lockout
from domain.identity.model import Role, User
from domain.integrations.audit import audit_entry
from domain.integrations.model import USER_ERASED, DomainEvent
from domain.privacy.model import erased_email
from domain.privacy.ports import PrivacyUnitOfWorkFactory
from domain.shared.clock import Clock, iso
from domain.shared.errors import Conflict, Forbidden, NotFound
from domain.shared.ports import JobQueue, ObjectStorage

DELETE_STORED_OBJECTS = "delete_stored_objects"
LAST_ADMIN = "Cannot erase the last admin"
ONLY_ADMINS_ERASE = "Only admins can erase another user"
USER = "user"  # the audit log's subject type


@dataclass(slots=True)
class Erasure:
    uow: PrivacyUnitOfWorkFactory
    lockout: Lockout
    storage: ObjectStorage
    queue: JobQueue
    clock: Clock
    end_live: Callable[[UUID], Any] = lambda _user_id: None

    async def erase_me(self, user: User, password: str) -> None:
        """`DELETE /users/me`: the caller's password first (counted like any password check)."""
        await self.lockout.check_password(user, password)
        await self._erase(user, user.id)

    async def erase_user(self, actor: User, user_id: UUID) -> None:
        """`POST /users/{id}/erase` (admins)."""
        if actor.role is not Role.ADMIN:
            raise Forbidden(ONLY_ADMINS_ERASE)
        await self._erase(actor, user_id)

    async def _erase(self, actor: User, user_id: UUID) -> None:
        now = self.clock.now()
        async with self.uow() as uow:
            # Every active admin's row is locked first: two admins erasing each other at once
            # cannot leave none.
            admins = await uow.users.lock_active_admins()
            user = await uow.users.get(user_id)
            if user is None:
                raise NotFound(USER_NOT_FOUND)
            if user.email == erased_email(user.id):
                return  # erased already: nothing is left to remove
            if user.role is Role.ADMIN and user.is_active and not [admin for admin in admins if admin != user.id]:
                raise Conflict(LAST_ADMIN)
            stored = await uow.personal_data.erase(user.id, now)
            await uow.outbox.add(
                DomainEvent(type=USER_ERASED, occurred_at=now, data={"user_id": str(user.id), "erased_at": iso(now)})
            )
            await uow.audit.add(audit_entry("user_erased", USER, user.id, actor, now))
            await uow.commit()
        self.end_live(user.id)
        if stored:
            # Once the rows are gone the objects are deleted by a job (retried while storage is down).
            await self.queue.enqueue(DELETE_STORED_OBJECTS, {"keys": [o.key for o in stored]})

    async def delete_stored(self, keys: list[str]) -> None:
        """The job: delete objects (a missing one is no error, so a rerun is harmless)."""
        for key in keys:
            await self.storage.delete(key)
