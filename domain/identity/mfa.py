"""Setting up and turning off a second factor (API §5.2 A12 to A16): a code by email, or an
authenticator app (TOTP) with recovery codes. Signing in with one is in `sign_in`."""

from __future__ import annotations

from dataclasses import dataclass

from domain.identity import emails
from domain.identity.lockout import Lockout
from domain.identity.model import MfaMethod, Principal, RecoveryCode, TotpSetup, User
from domain.identity.parts import IdentityParts
from domain.identity.policy import (
    CODE_TTL,
    RECOVERY_CODE_COUNT,
    new_numeric_code,
    new_recovery_code,
    normalize_recovery_code,
    same_secret,
)
from domain.identity.sign_in import INVALID_CODE
from domain.shared.errors import Conflict, InvalidInput, Unauthenticated
from domain.shared.ids import new_id
from domain.shared.jobs import queue_email

NO_PENDING_TOTP = "No TOTP setup is pending"


@dataclass(slots=True)
class Mfa:
    parts: IdentityParts
    lockout: Lockout

    async def request_email_mfa(self, principal: Principal, password: str) -> None:
        p = self.parts
        user = principal.user
        await self.lockout.check_password(user, password)
        if user.mfa_method is not None:
            return
        code = new_numeric_code()
        await p.kv.set(f"mfa:setup:{user.id}", code, CODE_TTL.total_seconds())
        await queue_email(p.queue, emails.mfa_setup_code(user.email, code))

    async def confirm_email_mfa(self, principal: Principal, code: str) -> None:
        p = self.parts
        user = principal.user
        key = f"mfa:setup:{user.id}"
        stored = await p.kv.get(key)
        if stored is None or not same_secret(stored, code.strip()):
            raise Unauthenticated(INVALID_CODE)
        if await p.kv.pop(key) != stored:
            raise Unauthenticated(INVALID_CODE)
        await self._set_mfa(user, MfaMethod.EMAIL, secret=None, step=None, recovery=[])

    async def disable_mfa(self, principal: Principal, password: str) -> None:
        p = self.parts
        user = principal.user
        await self.lockout.check_password(user, password)
        await p.kv.delete(f"mfa:setup:{user.id}", f"mfa:totp:{user.id}")
        if user.mfa_method is None:
            return
        await self._set_mfa(user, None, secret=None, step=None, recovery=[])

    async def setup_totp(self, principal: Principal, password: str) -> TotpSetup:
        p = self.parts
        user = principal.user
        await self.lockout.check_password(user, password)
        if user.mfa_method is MfaMethod.TOTP:
            raise Conflict("TOTP is already enabled")
        secret = p.totp.new_secret()
        await p.kv.set(f"mfa:totp:{user.id}", secret, CODE_TTL.total_seconds())
        uri = p.totp.provisioning_uri(secret, user.email, p.policy.totp_issuer)
        return TotpSetup(secret=secret, otpauth_uri=uri)

    async def confirm_totp(self, principal: Principal, code: str) -> list[str]:
        p = self.parts
        user = principal.user
        key = f"mfa:totp:{user.id}"
        secret = await p.kv.get(key)
        if secret is None:
            raise InvalidInput(NO_PENDING_TOTP)
        step = p.totp.matching_step(secret, code.strip(), p.clock.now())
        if step is None:
            raise Unauthenticated(INVALID_CODE)
        if await p.kv.pop(key) != secret:
            raise InvalidInput(NO_PENDING_TOTP)
        codes = [new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
        hashes = [await p.hasher.hash(normalize_recovery_code(c)) for c in codes]
        recovery = [RecoveryCode(id=new_id(), user_id=user.id, code_hash=h) for h in hashes]
        await self._set_mfa(user, MfaMethod.TOTP, secret=secret, step=step, recovery=recovery)
        return codes

    async def _set_mfa(
        self,
        user: User,
        method: MfaMethod | None,
        *,
        secret: str | None,
        step: int | None,
        recovery: list[RecoveryCode],
    ) -> None:
        now = self.parts.clock.now()
        async with self.parts.uow() as uow:
            user.mfa_method = method
            user.totp_secret = secret
            user.totp_last_step = step
            user.updated_at = now
            await uow.users.save(user)
            await uow.recovery_codes.replace(user.id, recovery)
            await uow.commit()
