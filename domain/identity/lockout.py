"""Account lockout (API §10.1): failed password checks counted per email in the key-value port,
a lock that doubles on repeat, the unlock email and its link, admin unlock.

Keys per (lower-cased) email: `lk:fail:<email>` counts failures in a window that opens with the
first; `lk:lock:<email>` is the lock, `<until>:<unlock jti>` (the jti is empty for an email
without an account); `lk:last:<email>` remembers the last lockout's level and time for 24 h, so
the next one within that time lasts twice as long. A lock ends when the clock passes `until`
(the stored entry expires then too), so tests move the clock instead of waiting.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from domain.identity import emails
from domain.identity.model import TokenType, User
from domain.identity.parts import IdentityParts
from domain.identity.policy import INVALID_PASSWORD
from domain.identity.ports import IdentityUnitOfWork
from domain.identity.tokens import TokenErrors
from domain.integrations.model import ACCOUNT_LOCKED, DomainEvent
from domain.shared.clock import iso
from domain.shared.errors import InvalidInput, Unauthenticated
from domain.shared.jobs import queue_email
from domain.shared.ports import KeyValueUnavailable

log = logging.getLogger("lms.identity")

LOCKED = "Account temporarily locked due to multiple failed login attempts. Please try again later."
UNLOCK_INVALID = "Unlock link is invalid or expired"
UNLOCK_ERRORS = TokenErrors(malformed=UNLOCK_INVALID, expired=UNLOCK_INVALID, invalid=UNLOCK_INVALID)
LONGEST = timedelta(hours=24)  # the longest lock, and how long a lockout makes the next one longer


def keys(email: str) -> tuple[str, str]:
    """The lock and failure-count keys of an email (normalised), in the order a check reads them."""
    return f"lk:lock:{email}", f"lk:fail:{email}"


@dataclass(frozen=True, slots=True)
class LockoutCheck:
    """What the shared store held for one email: its lock entry and whether failures are counted.
    Read on its own, or by the rate limiter in the round trip it makes anyway."""

    email: str
    lock: str | None
    failures: str | None


@dataclass(slots=True)
class Lockout:
    parts: IdentityParts

    async def check(self, email: str, precheck: LockoutCheck | None = None) -> LockoutCheck:
        """The email's lock state; `precheck` is used when it was read for this email already.
        With the shared store down, sign-in goes on unlocked (as rate limits do), with a warning."""
        if precheck is not None and precheck.email == email:
            return precheck
        try:
            lock, failures = await self.parts.kv.get_many(*keys(email))
        except KeyValueUnavailable:
            log.warning("lockout store unreachable; password sign-in goes on without lockout")
            return LockoutCheck(email, None, None)
        return LockoutCheck(email, lock, failures)

    def refuse_if_locked(self, check: LockoutCheck) -> None:
        if self._until(check.lock) is not None:
            raise Unauthenticated(LOCKED)

    async def failed(self, email: str, user: User | None) -> None:
        """Count a failed password check; the one that reaches the limit locks the email (and
        still answers as a wrong password)."""
        p = self.parts
        try:
            hit = await p.kv.hit(keys(email)[1], p.policy.login_lockout.total_seconds())
            if hit.count == p.policy.login_max_failures:
                await self._lock(email, user)
        except KeyValueUnavailable:
            log.warning("lockout store unreachable; a failed sign-in was not counted")

    async def succeeded(self, check: LockoutCheck, user: User) -> None:
        """A right password: the failure count starts again, and an ended lock leaves the user."""
        if check.failures is not None:
            try:
                await self.parts.kv.delete(keys(check.email)[1])
            except KeyValueUnavailable:
                log.warning("lockout store unreachable; failures not reset")
        if user.locked_until is not None:
            await self._clear(user.id)
            user.locked_until = None

    async def check_password(self, user: User, password: str) -> None:
        """The current-password step of U3, A12, A14 and A15: refused while locked, and counted."""
        check = await self.check(user.email)
        self.refuse_if_locked(check)
        if not await self.parts.password_matches(user, password):
            await self.failed(user.email, user)
            raise Unauthenticated(INVALID_PASSWORD)
        await self.succeeded(check, user)

    # ----------------------------------------------------------------- locking

    async def _lock(self, email: str, user: User | None) -> None:
        p = self.parts
        now = p.clock.now()
        last = await p.kv.get(f"lk:last:{email}")
        level = 0
        if last is not None:
            last_level, _, at = last.partition(":")
            if now.timestamp() - float(at) < LONGEST.total_seconds():
                level = min(int(last_level) + 1, 17)  # 2**17 seconds is past a day already
        duration = min(p.policy.login_lockout * 2**level, LONGEST)
        until = now + duration
        token = jti = ""
        if user is not None:
            token, claims = p.tokens.mint(user, TokenType.ACCOUNT_UNLOCK, duration, now)
            jti = str(claims.jti)
        lock_key, fail_key = keys(email)
        await p.kv.set(lock_key, f"{until.timestamp()}:{jti}", duration.total_seconds())
        await p.kv.set(f"lk:last:{email}", f"{level}:{now.timestamp()}", (duration + LONGEST).total_seconds())
        await p.kv.delete(fail_key)
        if user is None:
            return
        async with p.uow() as uow:
            await self.record(uow, user.id, until)
            # The user's notification (API §13); the email below is a security one, always sent.
            data = {"user_id": str(user.id), "locked_until": iso(until), "locked_at": iso(now)}
            await uow.outbox.add(DomainEvent(type=ACCOUNT_LOCKED, occurred_at=now, data=data))
            await uow.commit()
        if user.is_active:
            minutes = max(1, round(duration.total_seconds() / 60))
            message = emails.account_locked(user.email, user.full_name, p.policy.frontend_url, token, minutes)
            await queue_email(p.queue, message)

    def _until(self, lock: str | None) -> datetime | None:
        if lock is None:
            return None
        until = datetime.fromtimestamp(float(lock.partition(":")[0]), tz=self.parts.clock.now().tzinfo)
        return until if until > self.parts.clock.now() else None

    # ----------------------------------------------------------------- unlocking

    async def unlock(self, token: str) -> None:
        """`POST /auth/unlock`: the link of the lock email lifts that lock, once."""
        p = self.parts
        try:
            claims = p.tokens.read(token, TokenType.ACCOUNT_UNLOCK, UNLOCK_ERRORS)
        except Unauthenticated:
            raise InvalidInput(UNLOCK_INVALID) from None
        user = await p.users.get(claims.sub)
        if user is None:
            raise InvalidInput(UNLOCK_INVALID)
        lock_key, fail_key = keys(user.email)
        lock = await p.kv.get(lock_key)
        # The token opens the lock it was sent for, once: a compare-and-delete on that lock.
        if (
            lock is None
            or lock.partition(":")[2] != str(claims.jti)
            or not await p.kv.replace_if(lock_key, lock, None, 1)
        ):
            raise InvalidInput(UNLOCK_INVALID)
        await p.kv.delete(fail_key)
        await self._clear(user.id)

    async def lift(self, user: User) -> None:
        """End any lock of the user's email and forget its failures (a password reset does it)."""
        await self.forget(user.email)
        await self._clear(user.id)

    async def forget(self, email: str) -> None:
        """Drop the email's lock and failure count from the shared store."""
        await self.parts.kv.delete(*keys(email))

    async def record(self, uow: IdentityUnitOfWork, user_id: UUID, until: datetime | None) -> None:
        """Write when the user's lock ends (None: no lock) in the caller's unit of work."""
        row = await uow.users.get(user_id)
        if row is not None and row.locked_until != until:
            row.locked_until = until
            row.updated_at = self.parts.clock.now()
            await uow.users.save(row)

    async def _clear(self, user_id: UUID) -> None:
        async with self.parts.uow() as uow:
            await self.record(uow, user_id, None)
            await uow.commit()
