"""Accounts and passwords (API §5.2 A1, A8 to A11, §5.3 U2 and U3): registration, operator-made
accounts, password reset and change, email verification, the profile."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.identity import emails
from domain.identity.lockout import Lockout
from domain.identity.model import AuthResult, Principal, Role, TokenType, User
from domain.identity.parts import IdentityParts
from domain.identity.policy import NewUser, normalize_email
from domain.identity.tokens import TokenErrors
from domain.shared.errors import Forbidden, InvalidInput, Unauthenticated
from domain.shared.jobs import queue_email
from domain.shared.unset import UNSET, Unset

RESET_ERRORS = TokenErrors(malformed="Malformed password reset token")
VERIFY_ERRORS = TokenErrors(malformed="Malformed email verification token")


@dataclass(slots=True)
class Accounts:
    parts: IdentityParts
    lockout: Lockout

    # ----------------------------------------------------------------- registration

    async def register(self, data: NewUser) -> AuthResult:
        p = self.parts
        if data.role is not Role.STUDENT and not p.policy.allow_public_role_registration:
            raise Forbidden("Public registration is limited to student accounts")
        user = await p.add_user(data, verified=False)
        tokens = await p.start_sign_in(user)
        await queue_email(p.queue, emails.welcome(user.email, user.full_name))
        await self._send_verification(user)
        return AuthResult(user=user, tokens=tokens)

    async def create_admin(self, email: str, full_name: str, password: str) -> User:
        """Operator path (CLI): an active admin whose email counts as verified."""
        return await self.provision(NewUser(email=email, full_name=full_name, password=password, role=Role.ADMIN))

    async def provision(self, data: NewUser) -> User:
        """Operator path (CLI: admins, demo data): an active user of any role whose email counts as
        verified, created without emails."""
        return await self.parts.add_user(data, verified=True)

    # ----------------------------------------------------------------- passwords

    async def forgot_password(self, email: str) -> None:
        p = self.parts
        user = await p.users.get_by_email(normalize_email(email))
        if user is None or not user.is_active:
            return
        token, _ = p.tokens.mint(user, TokenType.PASSWORD_RESET, p.policy.reset_ttl, p.clock.now())
        await queue_email(p.queue, emails.reset_password(user.email, user.full_name, p.policy.frontend_url, token))

    async def reset_password(self, token: str, new_password: str) -> None:
        p = self.parts
        claims = p.tokens.read(token, TokenType.PASSWORD_RESET, RESET_ERRORS)
        password_hash = await p.new_password_hash(new_password, "body.new_password")
        user = await p.token_user(claims)
        now = p.clock.now()
        async with p.uow() as uow:
            expires = datetime.fromtimestamp(claims.exp, tz=now.tzinfo)
            if not await uow.consumed_tokens.consume(claims.jti, expires, now):
                raise Unauthenticated("Token has been revoked")
            user = await uow.users.get(user.id) or user
            user.password_hash = password_hash
            user.tokens_valid_after = now
            user.updated_at = now
            await uow.users.save(user)
            await uow.refresh_sessions.revoke_all(user.id, now)
            await uow.commit()
        p.end_live(user.id)
        await self.lockout.lift(user)  # a reset opens a locked account (API §10.1)

    async def change_password(self, principal: Principal, current_password: str, new_password: str) -> None:
        p = self.parts
        user = principal.user
        p.refuse_common(new_password, "body.new_password")
        await self.lockout.check_password(user, current_password)
        password_hash = await p.hasher.hash(new_password)
        now = p.clock.now()
        async with p.uow() as uow:
            user.password_hash = password_hash
            user.updated_at = now
            await uow.users.save(user)
            await uow.refresh_sessions.revoke_all(user.id, now, except_sid=principal.claims.sid)
            await uow.commit()
        p.end_live(user.id, keep_sid=principal.claims.sid)

    # ----------------------------------------------------------------- email verification

    async def request_verification(self, email: str) -> None:
        user = await self.parts.users.get_by_email(normalize_email(email))
        if user is not None and user.is_active and user.email_verified_at is None:
            await self._send_verification(user)

    async def _send_verification(self, user: User) -> None:
        p = self.parts
        token, _ = p.tokens.mint(user, TokenType.EMAIL_VERIFICATION, p.policy.verification_ttl, p.clock.now())
        await queue_email(p.queue, emails.verify_email(user.email, user.full_name, p.policy.frontend_url, token))

    async def confirm_verification(self, token: str) -> None:
        p = self.parts
        claims = p.tokens.read(token, TokenType.EMAIL_VERIFICATION, VERIFY_ERRORS)
        user = await p.token_user(claims)
        if user.email_verified_at is not None:
            return
        now = p.clock.now()
        async with p.uow() as uow:
            user.email_verified_at = now
            user.updated_at = now
            await uow.users.save(user)
            await uow.commit()

    # ----------------------------------------------------------------- the profile

    async def update_profile(self, principal: Principal, *, full_name: str | Unset | None = UNSET) -> User:
        user = principal.user
        if full_name is None:
            raise InvalidInput("'full_name' cannot be null")
        if full_name is UNSET:
            return user
        async with self.parts.uow() as uow:
            user.full_name = full_name
            user.updated_at = self.parts.clock.now()
            await uow.users.save(user)
            await uow.commit()
        return user
