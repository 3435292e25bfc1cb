"""User administration (API §5.3 U4 to U7): admins list, read, create and change accounts."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from domain.identity.lockout import Lockout
from domain.identity.model import Role, User
from domain.identity.parts import IdentityParts
from domain.identity.policy import USER, NewUser, require_admin
from domain.integrations.audit import audit_entry
from domain.shared.errors import Conflict, InvalidInput, NotFound
from domain.shared.pagination import Page, PageParams
from domain.shared.unset import UNSET, Unset

USER_NOT_FOUND = "User not found"
LAST_ADMIN = "Cannot remove the last admin"
CANNOT_REMOVE_YOURSELF = "Admins cannot deactivate or demote themselves"


@dataclass(slots=True)
class UserAdministration:
    parts: IdentityParts
    lockout: Lockout

    async def unlock_user(self, actor: User, user_id: UUID) -> None:
        """`POST /users/{user_id}/unlock` (API §10.1): password sign-in opens again at once."""
        user = await self.get_user(actor, user_id)
        await self.lockout.forget(user.email)
        async with self.parts.uow() as uow:
            await self.lockout.record(uow, user.id, None)
            await uow.audit.add(audit_entry("user_unlocked", USER, user.id, actor, self.parts.clock.now()))
            await uow.commit()

    async def create_user(self, actor: User, data: NewUser) -> User:
        require_admin(actor)
        return await self.parts.add_user(data, verified=False)

    async def list_users(self, actor: User, params: PageParams) -> Page[User]:
        require_admin(actor)
        async with self.parts.uow() as uow:
            return await uow.users.page(params)

    async def get_user(self, actor: User, user_id: UUID) -> User:
        require_admin(actor)
        user = await self.parts.users.get(user_id)
        if user is None:
            raise NotFound(USER_NOT_FOUND)
        return user

    async def update_user(
        self,
        actor: User,
        user_id: UUID,
        *,
        full_name: str | Unset | None = UNSET,
        role: Role | Unset | None = UNSET,
        password: str | Unset | None = UNSET,
        is_active: bool | Unset | None = UNSET,
    ) -> User:
        require_admin(actor)
        p = self.parts
        for name, value in (("full_name", full_name), ("role", role), ("password", password), ("is_active", is_active)):
            if value is None:
                raise InvalidInput(f"'{name}' cannot be null")
        password_hash = await p.new_password_hash(password, "body.password") if isinstance(password, str) else None
        now = p.clock.now()
        may_remove_admin = (isinstance(role, Role) and role is not Role.ADMIN) or is_active is False
        async with p.uow() as uow:
            # Every active admin's row is locked first: two admins demoting each other at once
            # cannot leave none.
            admins = await uow.users.lock_active_admins() if may_remove_admin else []
            user = await uow.users.get(user_id)
            if user is None:
                raise NotFound(USER_NOT_FOUND)
            if may_remove_admin and user.role is Role.ADMIN and user.is_active:
                if user.id == actor.id:
                    raise Conflict(CANNOT_REMOVE_YOURSELF)
                if not [admin for admin in admins if admin != user.id]:
                    raise Conflict(LAST_ADMIN)
            if isinstance(full_name, str):
                user.full_name = full_name
            if isinstance(role, Role) and role is not user.role:
                await uow.audit.add(
                    audit_entry(
                        "user_role_changed", USER, user.id, actor, now, previous=user.role.value, role=role.value
                    )
                )
                user.role = role
            signs_out = password_hash is not None
            if isinstance(is_active, bool) and is_active != user.is_active:
                action = "user_activated" if is_active else "user_deactivated"
                await uow.audit.add(audit_entry(action, USER, user.id, actor, now))
                user.is_active = is_active
                signs_out = signs_out or not is_active  # reactivating must not revive old tokens
            if password_hash is not None:
                user.password_hash = password_hash
            if signs_out:
                user.tokens_valid_after = now
                await uow.refresh_sessions.revoke_all(user.id, now)
            user.updated_at = now
            await uow.users.save(user)
            await uow.commit()
        if signs_out:
            p.end_live(user.id)
        return user
