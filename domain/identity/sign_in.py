"""Sign-in and sessions (API §5.2 A2 to A7, §7.1 to §7.3): who a token speaks for, password sign-in
with its second factor, refresh rotation, and sign-out."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from domain.identity import emails
from domain.identity.blacklist import RevocationCheck
from domain.identity.lockout import Lockout, LockoutCheck, keys
from domain.identity.model import (
    AuthMethod,
    AuthResult,
    MfaChallenge,
    MfaMethod,
    Principal,
    TokenClaims,
    TokenPair,
    TokenType,
    User,
)
from domain.identity.parts import IdentityParts
from domain.identity.policy import (
    INVALID_EMAIL_OR_PASSWORD,
    MAX_MFA_FAILURES,
    RECOVERY_ALPHABET,
    new_numeric_code,
    normalize_email,
    normalize_recovery_code,
    same_secret,
)
from domain.identity.ports import IdentityUnitOfWork
from domain.identity.tokens import ACCESS_ERRORS, INVALID_CREDENTIALS, TokenErrors, issued_at_us
from domain.shared.errors import InvalidInput, Unauthenticated
from domain.shared.jobs import queue_email

log = logging.getLogger("lms.identity")

REFRESH_INVALID = "Refresh token is invalid or revoked"
REFRESH_ERRORS = TokenErrors(malformed="Malformed refresh token", expired=REFRESH_INVALID)
CHALLENGE_ERRORS = TokenErrors(
    malformed="Malformed MFA challenge token",
    expired="MFA challenge expired or invalid",
    invalid="MFA challenge expired or invalid",
)
CHALLENGE_DEAD = "MFA challenge expired or invalid"
INVALID_CODE = "Invalid MFA code"


@dataclass(slots=True)
class SignIn:
    parts: IdentityParts
    lockout: Lockout

    async def authenticate(
        self, access_token: str, precheck: RevocationCheck | None = None, *, via: AuthMethod = AuthMethod.BEARER
    ) -> Principal:
        """Resolve an access token to the current user, or raise Unauthenticated/Unavailable."""
        claims = self.parts.tokens.read(access_token, TokenType.ACCESS, ACCESS_ERRORS)
        return await self.recheck(claims, precheck, via=via)

    async def recheck(
        self, claims: TokenClaims, precheck: RevocationCheck | None = None, *, via: AuthMethod = AuthMethod.BEARER
    ) -> Principal:
        """Whether a token read before still stands (not revoked, its user active and past no
        cutoff): a request's token, or the one a live connection's ticket was issued for."""
        p = self.parts
        if await p.blacklist.is_revoked(claims, precheck):
            raise Unauthenticated("Token has been revoked", token_rejected=True)
        user = await p.users.get(claims.sub)
        if user is None or not user.is_active:
            raise Unauthenticated(INVALID_CREDENTIALS, token_rejected=True)
        # An API key (a ticket asked with one) outlives password changes; it stands while the key
        # does (revoked or expired since the ticket was issued: refused).
        if via is AuthMethod.API_KEY:
            if not await self._key_stands(claims):
                raise Unauthenticated("Token has been revoked", token_rejected=True)
        elif user.issued_before_cutoff(issued_at_us(claims)):
            raise Unauthenticated("Token has been revoked", token_rejected=True)
        if p.policy.require_email_verification and user.email_verified_at is None:
            raise Unauthenticated("Email is not verified", token_rejected=True)
        return Principal(user=user, claims=claims, via=via)

    async def _key_stands(self, claims: TokenClaims) -> bool:
        async with self.parts.uow() as uow:
            key = await uow.api_keys.get(claims.jti)
        return key is not None and key.owner_id == claims.sub and key.is_live(self.parts.clock.now())

    # ----------------------------------------------------------------- password sign-in

    async def login(self, email: str, password: str, precheck: LockoutCheck | None = None) -> AuthResult | MfaChallenge:
        """`precheck`: the email's lock state when the rate limiter read it in its round trip."""
        user = await self._check_credentials(email, password, precheck)
        if user.mfa_method is not None:
            return await self.challenge(user)
        return AuthResult(user=user, tokens=await self.parts.start_sign_in(user))

    async def token_login(self, email: str, password: str, precheck: LockoutCheck | None = None) -> TokenPair:
        """The OAuth2 password grant (A3): no MFA step is possible there."""
        user = await self._check_credentials(email, password, precheck)
        if user.mfa_method is not None:
            raise InvalidInput("MFA is enabled for this account. Use /api/v1/auth/login then /api/v1/auth/login/mfa.")
        return await self.parts.start_sign_in(user)

    async def _check_credentials(self, email: str, password: str, precheck: LockoutCheck | None) -> User:
        p = self.parts
        email = normalize_email(email)
        check = await self.lockout.check(email, precheck)
        self.lockout.refuse_if_locked(check)
        user = await p.users.get_by_email(email)
        if not await p.password_matches(user, password):
            await self.lockout.failed(email, user)
            raise Unauthenticated(INVALID_EMAIL_OR_PASSWORD)
        assert user is not None
        if user.mfa_method is None:  # with a second factor, the sign-in succeeds at its step
            await self.lockout.succeeded(check, user)
        if not user.is_active:
            raise Unauthenticated("User account is disabled")
        if p.policy.require_email_verification and user.email_verified_at is None:
            raise Unauthenticated("Email is not verified")
        return user

    # ----------------------------------------------------------------- the second factor

    async def challenge(self, user: User) -> MfaChallenge:
        """The second step of a sign-in: a challenge token, and the code by email when that is the method."""
        assert user.mfa_method is not None
        p = self.parts
        now = p.clock.now()
        token, claims = p.tokens.mint(user, TokenType.MFA_CHALLENGE, p.policy.challenge_ttl, now)
        if user.mfa_method is MfaMethod.EMAIL:
            code = new_numeric_code()
            await p.kv.set(f"mfa:login:{claims.jti}", code, p.policy.challenge_ttl.total_seconds())
            await queue_email(p.queue, emails.sign_in_code(user.email, code))
        return MfaChallenge(
            challenge_token=token,
            mfa_method=user.mfa_method,
            expires_in_seconds=int(p.policy.challenge_ttl.total_seconds()),
        )

    async def login_mfa(self, challenge_token: str, code: str) -> AuthResult:
        p = self.parts
        code = code.strip()
        claims = p.tokens.read(challenge_token, TokenType.MFA_CHALLENGE, CHALLENGE_ERRORS)
        ttl = max(1.0, claims.exp - p.clock.now().timestamp())
        done_key, fail_key, code_key = (f"mfa:{kind}:{claims.jti}" for kind in ("done", "fail", "login"))
        user = await p.users.get(claims.sub)
        if user is None:
            raise Unauthenticated("MFA challenge is invalid")
        # The challenge's state and the account's lock in one round trip: wrong codes count
        # toward the account's lockout across challenges, so new challenges do not reset them.
        done, failures, lock, account_failures = await p.kv.get_many(done_key, fail_key, *keys(user.email))
        if done is not None or int(failures or 0) >= MAX_MFA_FAILURES:
            raise Unauthenticated(CHALLENGE_DEAD)
        lockout = LockoutCheck(user.email, lock, account_failures)
        self.lockout.refuse_if_locked(lockout)
        if not user.is_active:
            raise Unauthenticated("User is inactive")
        if user.mfa_method is None:
            raise Unauthenticated("MFA is not enabled for this account")

        if user.mfa_method is MfaMethod.EMAIL:
            stored = await p.kv.get(code_key)
            if stored is None:
                raise Unauthenticated(CHALLENGE_DEAD)
            if not same_secret(stored, code):
                await self._count_failure(user, fail_key, code_key, ttl)
                raise Unauthenticated(INVALID_CODE)
            if await p.kv.pop(code_key) != stored:  # another request used it first
                raise Unauthenticated(CHALLENGE_DEAD)
        elif not await self._accept_totp_or_recovery(user, code):
            await self._count_failure(user, fail_key, code_key, ttl)
            raise Unauthenticated(INVALID_CODE)
        if not await p.kv.set_if_absent(done_key, "1", ttl):
            raise Unauthenticated(CHALLENGE_DEAD)
        await self.lockout.succeeded(lockout, user)
        return AuthResult(user=user, tokens=await p.start_sign_in(user))

    async def _count_failure(self, user: User, fail_key: str, code_key: str, ttl: float) -> None:
        hit = await self.parts.kv.hit(fail_key, ttl)
        if hit.count >= MAX_MFA_FAILURES:
            await self.parts.kv.delete(code_key)
        await self.lockout.failed(user.email, user)

    async def _accept_totp_or_recovery(self, user: User, code: str) -> bool:
        p = self.parts
        if user.totp_secret is not None:
            step = p.totp.matching_step(user.totp_secret, code, p.clock.now())
            if step is not None:
                async with p.uow() as uow:
                    accepted = await uow.users.claim_totp_step(user.id, step)
                    await uow.commit()
                if accepted:
                    return True
        wanted = normalize_recovery_code(code)
        if len(wanted) != 10 or any(c not in RECOVERY_ALPHABET for c in wanted):
            return False
        async with p.uow() as uow:
            for candidate in await uow.recovery_codes.unused(user.id):
                if await p.hasher.verify(candidate.code_hash, wanted):
                    used = await uow.recovery_codes.mark_used(candidate.id, p.clock.now())
                    await uow.commit()
                    return used
        return False

    # ----------------------------------------------------------------- refresh and sign-out

    async def refresh(self, refresh_token: str, bearer: str | None) -> AuthResult:
        p = self.parts
        claims = p.tokens.read(refresh_token, TokenType.REFRESH, REFRESH_ERRORS, require_sid=True)
        access: TokenClaims | None = None
        if bearer is not None:
            access = p.tokens.read(bearer, TokenType.ACCESS, ACCESS_ERRORS, verify_exp=False)
            if access.sub != claims.sub:
                raise Unauthenticated("Access token does not match refresh token")
        user = await p.token_user(claims)
        now = p.clock.now()
        assert claims.sid is not None
        # Revoking the old row and storing the new one is one transaction: a rotation either
        # happens whole or not at all.
        async with p.uow() as uow:
            rotated = await uow.refresh_sessions.revoke(claims.jti, now)
            if rotated:
                tokens, row = p.issue_pair(user, claims.sid, now, claims.via)  # an SSO sign-in stays one
                await uow.refresh_sessions.add(row)
            elif p.policy.refresh_reuse_revokes_session:
                await self._revoke_sign_in(uow, claims, now)
            await uow.commit()
        if not rotated:
            raise Unauthenticated(REFRESH_INVALID)
        if access is not None:
            await p.blacklist.revoke_token(access.jti, access.exp - now.timestamp())
        return AuthResult(user=user, tokens=tokens)

    async def _revoke_sign_in(self, uow: IdentityUnitOfWork, claims: TokenClaims, now: datetime) -> None:
        """Reuse of a rotated refresh token: end the whole sign-in (its refresh and access tokens)."""
        assert claims.sid is not None
        log.warning("refresh token reuse detected; revoking sign-in %s", claims.sid)
        await uow.refresh_sessions.revoke_sign_in(claims.sid, now)
        await self.parts.blacklist.revoke_sign_in(claims.sid, self.parts.policy.access_ttl.total_seconds())
        self.parts.end_live(claims.sub, sid=claims.sid)

    async def end_sign_in(self, principal: Principal) -> None:
        """The caller's whole sign-in ends: every refresh token of it, and the access token in hand."""
        p = self.parts
        now = p.clock.now()
        if principal.claims.sid is not None:
            async with p.uow() as uow:
                await uow.refresh_sessions.revoke_sign_in(principal.claims.sid, now)
                await uow.commit()
        await p.blacklist.revoke_token(principal.claims.jti, principal.claims.exp - now.timestamp())
        p.end_live(principal.user.id, sid=principal.claims.sid, jti=principal.claims.jti)

    async def logout(self, principal: Principal, refresh_token: str) -> None:
        p = self.parts
        claims = p.tokens.read(refresh_token, TokenType.REFRESH, REFRESH_ERRORS, verify_exp=False, require_sid=True)
        if claims.sub != principal.user.id:
            raise Unauthenticated("Access token does not match refresh token")
        now = p.clock.now()
        async with p.uow() as uow:
            await uow.refresh_sessions.revoke(claims.jti, now)
            await uow.commit()
        await p.blacklist.revoke_token(principal.claims.jti, principal.claims.exp - now.timestamp())
        p.end_live(principal.user.id, sid=claims.sid, jti=principal.claims.jti)
