"""Identity use cases: registration, sign-in, tokens, passwords, email verification, MFA, users."""

from __future__ import annotations

import hmac
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from domain.identity import emails
from domain.identity.model import (
    AuthResult,
    MfaChallenge,
    MfaMethod,
    Principal,
    RecoveryCode,
    RefreshSession,
    Role,
    TokenClaims,
    TokenPair,
    TokenType,
    TotpSetup,
    User,
)
from domain.identity.ports import (
    CommonPasswords,
    IdentityUnitOfWork,
    PasswordHasher,
    TotpProvider,
    UnitOfWorkFactory,
    UserLookup,
)
from domain.identity.tokens import (
    ACCESS_ERRORS,
    INVALID_CREDENTIALS,
    TokenErrors,
    Tokens,
    issued_at_us,
)
from domain.integrations.audit import audit_entry
from domain.shared.clock import Clock
from domain.shared.errors import (
    VALIDATION_FAILED,
    Conflict,
    FieldError,
    FieldsInvalid,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthenticated,
    Unavailable,
)
from domain.shared.ids import new_id
from domain.shared.jobs import queue_email
from domain.shared.pagination import Page, PageParams
from domain.shared.ports import JobQueue, KeyValueStore, KeyValueUnavailable
from domain.shared.unset import UNSET, Unset

log = logging.getLogger("lms.identity")

CODE_TTL = timedelta(minutes=10)
MAX_MFA_FAILURES = 5
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"

REFRESH_ERRORS = TokenErrors(malformed="Malformed refresh token", expired="Refresh token is invalid or revoked")
RESET_ERRORS = TokenErrors(malformed="Malformed password reset token")
VERIFY_ERRORS = TokenErrors(malformed="Malformed email verification token")
CHALLENGE_ERRORS = TokenErrors(
    malformed="Malformed MFA challenge token",
    expired="MFA challenge expired or invalid",
    invalid="MFA challenge expired or invalid",
)
CHALLENGE_DEAD = "MFA challenge expired or invalid"
INVALID_CODE = "Invalid MFA code"
INVALID_PASSWORD = "Invalid password"
ADMIN_ONLY = "Not authorized to perform this action"
EMAIL_TAKEN = "Email is already registered"
LAST_ADMIN = "Cannot remove the last admin"
TOO_COMMON = "This password is one of the most common ones; choose another"
CANNOT_REMOVE_YOURSELF = "Admins cannot deactivate or demote themselves"
USER = "user"  # the audit log's subject type


def normalize_email(email: str) -> str:
    return email.strip().lower()


def new_numeric_code() -> str:
    """Six decimal digits from a CSPRNG, leading zeros allowed."""
    return f"{secrets.randbelow(1_000_000):06d}"


def new_recovery_code() -> str:
    chars = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
    return f"{chars[:5]}-{chars[5:]}"


def normalize_recovery_code(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def same_secret(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


@dataclass(frozen=True, slots=True, kw_only=True)
class IdentityPolicy:
    """The operator's identity settings, as plain values."""

    access_ttl: timedelta = timedelta(minutes=15)
    refresh_ttl: timedelta = timedelta(days=30)
    reset_ttl: timedelta = timedelta(minutes=30)
    verification_ttl: timedelta = timedelta(hours=24)
    challenge_ttl: timedelta = CODE_TTL
    allow_public_role_registration: bool = False
    require_email_verification: bool = False
    refresh_reuse_revokes_session: bool = False
    frontend_url: str = "http://localhost:3000"
    totp_issuer: str = "LMS"


@dataclass(frozen=True, slots=True)
class RevocationCheck:
    """The blacklist entries found for one access token (`jti`), read with another request."""

    jti: str
    found: int


class TokenBlacklist:
    """Revoked access tokens (by `jti`) and revoked sign-ins (by `sid`), kept until expiry.

    When the shared store is down, `fallback` (process memory) keeps serving with a warning; with
    no fallback (production) the check fails closed.
    """

    UNAVAILABLE = "Token revocation service unavailable"

    def __init__(self, store: KeyValueStore, fallback: KeyValueStore | None) -> None:
        self._store = store
        self._fallback = fallback

    async def revoke_token(self, jti: UUID, ttl: float) -> None:
        await self._write(f"bl:jti:{jti}", ttl)

    async def revoke_sign_in(self, sid: UUID, ttl: float) -> None:
        await self._write(f"bl:sid:{sid}", ttl)

    @staticmethod
    def keys(jti: object, sid: object | None) -> list[str]:
        """The entries that revoke an access token: its own, and its sign-in's."""
        return [f"bl:jti:{jti}", *([f"bl:sid:{sid}"] if sid is not None else [])]

    async def is_revoked(self, claims: TokenClaims, precheck: RevocationCheck | None = None) -> bool:
        """Whether the token is revoked; `precheck` is the shared store's answer for these keys
        when the caller already fetched it (one round trip with the rate-limit count)."""
        if precheck is not None and precheck.jti == str(claims.jti):
            return precheck.found > 0
        keys = self.keys(claims.jti, claims.sid)
        try:
            return await self._store.exists(*keys) > 0
        except KeyValueUnavailable:
            if self._fallback is None:
                raise Unavailable(self.UNAVAILABLE) from None
            log.warning("token blacklist store unreachable; checking the in-process fallback")
            return await self._fallback.exists(*keys) > 0

    async def _write(self, key: str, ttl: float) -> None:
        if ttl <= 0:
            return
        try:
            await self._store.set(key, "1", ttl)
        except KeyValueUnavailable:
            if self._fallback is None:
                raise Unavailable(self.UNAVAILABLE) from None
            log.warning("token blacklist store unreachable; revoking in the in-process fallback")
            await self._fallback.set(key, "1", ttl)


@dataclass(frozen=True, slots=True, kw_only=True)
class NewUser:
    email: str
    full_name: str
    password: str
    role: Role = Role.STUDENT


@dataclass(slots=True, kw_only=True)
class IdentityService:
    uow: UnitOfWorkFactory
    users: UserLookup
    hasher: PasswordHasher
    tokens: Tokens
    totp: TotpProvider
    kv: KeyValueStore
    blacklist: TokenBlacklist
    queue: JobQueue
    clock: Clock
    common_passwords: CommonPasswords
    policy: IdentityPolicy = field(default_factory=IdentityPolicy)
    _dummy_hash: str | None = field(default=None, init=False, repr=False)

    # ----------------------------------------------------------------- authentication

    async def authenticate(self, access_token: str, precheck: RevocationCheck | None = None) -> Principal:
        """Resolve a Bearer token to the current user, or raise Unauthenticated/Unavailable."""
        claims = self.tokens.read(access_token, TokenType.ACCESS, ACCESS_ERRORS)
        if await self.blacklist.is_revoked(claims, precheck):
            raise Unauthenticated("Token has been revoked", token_rejected=True)
        user = await self.users.get(claims.sub)
        if user is None or not user.is_active:
            raise Unauthenticated(INVALID_CREDENTIALS, token_rejected=True)
        if user.issued_before_cutoff(issued_at_us(claims)):
            raise Unauthenticated("Token has been revoked", token_rejected=True)
        if self.policy.require_email_verification and user.email_verified_at is None:
            raise Unauthenticated("Email is not verified", token_rejected=True)
        return Principal(user=user, claims=claims)

    # ----------------------------------------------------------------- registration and login

    async def register(self, data: NewUser) -> AuthResult:
        if data.role is not Role.STUDENT and not self.policy.allow_public_role_registration:
            raise Forbidden("Public registration is limited to student accounts")
        user = await self._create(data, verified=False)
        tokens = await self._start_sign_in(user)
        await queue_email(self.queue, emails.welcome(user.email, user.full_name))
        await self._send_verification(user)
        return AuthResult(user=user, tokens=tokens)

    async def create_user(self, actor: User, data: NewUser) -> User:
        _require_admin(actor)
        return await self._create(data, verified=False)

    async def create_admin(self, email: str, full_name: str, password: str) -> User:
        """Operator path (CLI): an active admin whose email counts as verified."""
        return await self.provision(NewUser(email=email, full_name=full_name, password=password, role=Role.ADMIN))

    async def provision(self, data: NewUser) -> User:
        """Operator path (CLI: admins, demo data): an active user of any role whose email counts as
        verified, created without emails."""
        return await self._create(data, verified=True)

    def _refuse_common(self, password: str, field_name: str) -> None:
        """A password someone chooses may not be one of the most common ones: a 422 on
        `field_name`, as a validation failure."""
        if self.common_passwords.is_common(password):
            raise FieldsInvalid(VALIDATION_FAILED, [FieldError(field_name, TOO_COMMON)])

    async def _new_password_hash(self, password: str, field_name: str) -> str:
        self._refuse_common(password, field_name)
        return await self.hasher.hash(password)

    async def _create(self, data: NewUser, *, verified: bool) -> User:
        self._refuse_common(data.password, "body.password")
        email = normalize_email(data.email)
        if await self.users.get_by_email(email) is not None:  # fast path; the unique index decides races
            raise Conflict(EMAIL_TAKEN)
        password_hash = await self.hasher.hash(data.password)
        now = self.clock.now()
        user = User(
            id=new_id(),
            email=email,
            full_name=data.full_name,
            role=data.role,
            password_hash=password_hash,
            email_verified_at=now if verified else None,
            created_at=now,
            updated_at=now,
        )
        async with self.uow() as uow:
            await uow.users.add(user)
            await uow.commit()
        return user

    async def login(self, email: str, password: str) -> AuthResult | MfaChallenge:
        user = await self._check_credentials(email, password)
        if user.mfa_method is not None:
            return await self._challenge(user)
        return AuthResult(user=user, tokens=await self._start_sign_in(user))

    async def token_login(self, email: str, password: str) -> TokenPair:
        """The OAuth2 password grant (A3): no MFA step is possible there."""
        user = await self._check_credentials(email, password)
        if user.mfa_method is not None:
            raise InvalidInput("MFA is enabled for this account. Use /api/v1/auth/login then /api/v1/auth/login/mfa.")
        return await self._start_sign_in(user)

    async def _check_credentials(self, email: str, password: str) -> User:
        user = await self.users.get_by_email(normalize_email(email))
        if user is None:
            # Hash anyway so an unknown email takes as long as a wrong password.
            await self.hasher.verify(await self._dummy(), password)
            raise Unauthenticated("Invalid email or password")
        if not await self.hasher.verify(user.password_hash, password):
            raise Unauthenticated("Invalid email or password")
        if not user.is_active:
            raise Unauthenticated("User account is disabled")
        if self.policy.require_email_verification and user.email_verified_at is None:
            raise Unauthenticated("Email is not verified")
        return user

    async def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await self.hasher.hash(secrets.token_urlsafe(16))
        return self._dummy_hash

    def _issue_pair(self, user: User, sid: UUID, now: datetime) -> tuple[TokenPair, RefreshSession]:
        """An access/refresh pair of sign-in `sid`, and the refresh token's server-side row."""
        access, _ = self.tokens.mint(user, TokenType.ACCESS, self.policy.access_ttl, now, sid=sid)
        refresh, claims = self.tokens.mint(user, TokenType.REFRESH, self.policy.refresh_ttl, now, sid=sid)
        row = RefreshSession(
            jti=claims.jti, user_id=user.id, sid=sid, expires_at=now + self.policy.refresh_ttl, created_at=now
        )
        return TokenPair(access_token=access, refresh_token=refresh), row

    async def _start_sign_in(self, user: User) -> TokenPair:
        """A new sign-in: a fresh `sid` and its first token pair."""
        pair, row = self._issue_pair(user, new_id(), self.clock.now())
        async with self.uow() as uow:
            await uow.refresh_sessions.add(row)
            await uow.commit()
        return pair

    # ----------------------------------------------------------------- MFA sign-in

    async def _challenge(self, user: User) -> MfaChallenge:
        assert user.mfa_method is not None
        now = self.clock.now()
        token, claims = self.tokens.mint(user, TokenType.MFA_CHALLENGE, self.policy.challenge_ttl, now)
        if user.mfa_method is MfaMethod.EMAIL:
            code = new_numeric_code()
            await self.kv.set(f"mfa:login:{claims.jti}", code, self.policy.challenge_ttl.total_seconds())
            await queue_email(self.queue, emails.sign_in_code(user.email, code))
        return MfaChallenge(
            challenge_token=token,
            mfa_method=user.mfa_method,
            expires_in_seconds=int(self.policy.challenge_ttl.total_seconds()),
        )

    async def login_mfa(self, challenge_token: str, code: str) -> AuthResult:
        code = code.strip()
        claims = self.tokens.read(challenge_token, TokenType.MFA_CHALLENGE, CHALLENGE_ERRORS)
        ttl = max(1.0, claims.exp - self.clock.now().timestamp())
        done_key, fail_key, code_key = (f"mfa:{kind}:{claims.jti}" for kind in ("done", "fail", "login"))
        if await self.kv.exists(done_key) or int(await self.kv.get(fail_key) or 0) >= MAX_MFA_FAILURES:
            raise Unauthenticated(CHALLENGE_DEAD)
        user = await self.users.get(claims.sub)
        if user is None:
            raise Unauthenticated("MFA challenge is invalid")
        if not user.is_active:
            raise Unauthenticated("User is inactive")
        if user.mfa_method is None:
            raise Unauthenticated("MFA is not enabled for this account")

        if user.mfa_method is MfaMethod.EMAIL:
            stored = await self.kv.get(code_key)
            if stored is None:
                raise Unauthenticated(CHALLENGE_DEAD)
            if not same_secret(stored, code):
                await self._count_failure(fail_key, code_key, ttl)
                raise Unauthenticated(INVALID_CODE)
            if await self.kv.pop(code_key) != stored:  # another request used it first
                raise Unauthenticated(CHALLENGE_DEAD)
        elif not await self._accept_totp_or_recovery(user, code):
            await self._count_failure(fail_key, code_key, ttl)
            raise Unauthenticated(INVALID_CODE)
        if not await self.kv.set_if_absent(done_key, "1", ttl):
            raise Unauthenticated(CHALLENGE_DEAD)
        return AuthResult(user=user, tokens=await self._start_sign_in(user))

    async def _count_failure(self, fail_key: str, code_key: str, ttl: float) -> None:
        hit = await self.kv.hit(fail_key, ttl)
        if hit.count >= MAX_MFA_FAILURES:
            await self.kv.delete(code_key)

    async def _accept_totp_or_recovery(self, user: User, code: str) -> bool:
        if user.totp_secret is not None:
            step = self.totp.matching_step(user.totp_secret, code, self.clock.now())
            if step is not None:
                async with self.uow() as uow:
                    accepted = await uow.users.claim_totp_step(user.id, step)
                    await uow.commit()
                if accepted:
                    return True
        wanted = normalize_recovery_code(code)
        if len(wanted) != 10 or any(c not in _RECOVERY_ALPHABET for c in wanted):
            return False
        async with self.uow() as uow:
            for candidate in await uow.recovery_codes.unused(user.id):
                if await self.hasher.verify(candidate.code_hash, wanted):
                    used = await uow.recovery_codes.mark_used(candidate.id, self.clock.now())
                    await uow.commit()
                    return used
        return False

    # ----------------------------------------------------------------- refresh and logout

    async def refresh(self, refresh_token: str, bearer: str | None) -> AuthResult:
        claims = self.tokens.read(refresh_token, TokenType.REFRESH, REFRESH_ERRORS, require_sid=True)
        access: TokenClaims | None = None
        if bearer is not None:
            access = self.tokens.read(bearer, TokenType.ACCESS, ACCESS_ERRORS, verify_exp=False)
            if access.sub != claims.sub:
                raise Unauthenticated("Access token does not match refresh token")
        user = await self.users.get(claims.sub)
        if user is None:
            raise Unauthenticated(INVALID_CREDENTIALS)
        if not user.is_active:
            raise Unauthenticated("User is inactive")
        if user.issued_before_cutoff(issued_at_us(claims)):
            raise Unauthenticated("Token has been revoked")
        now = self.clock.now()
        assert claims.sid is not None
        # Revoking the old row and storing the new one is one transaction: a rotation either
        # happens whole or not at all.
        async with self.uow() as uow:
            rotated = await uow.refresh_sessions.revoke(claims.jti, now)
            if rotated:
                tokens, row = self._issue_pair(user, claims.sid, now)
                await uow.refresh_sessions.add(row)
            elif self.policy.refresh_reuse_revokes_session:
                await self._revoke_sign_in(uow, claims, now)
            await uow.commit()
        if not rotated:
            raise Unauthenticated("Refresh token is invalid or revoked")
        if access is not None:
            await self.blacklist.revoke_token(access.jti, access.exp - now.timestamp())
        return AuthResult(user=user, tokens=tokens)

    async def _revoke_sign_in(self, uow: IdentityUnitOfWork, claims: TokenClaims, now: datetime) -> None:
        """Reuse of a rotated refresh token: end the whole sign-in (its refresh and access tokens)."""
        assert claims.sid is not None
        log.warning("refresh token reuse detected; revoking sign-in %s", claims.sid)
        await uow.refresh_sessions.revoke_sign_in(claims.sid, now)
        await self.blacklist.revoke_sign_in(claims.sid, self.policy.access_ttl.total_seconds())

    async def logout(self, principal: Principal, refresh_token: str) -> None:
        claims = self.tokens.read(refresh_token, TokenType.REFRESH, REFRESH_ERRORS, verify_exp=False, require_sid=True)
        if claims.sub != principal.user.id:
            raise Unauthenticated("Access token does not match refresh token")
        now = self.clock.now()
        async with self.uow() as uow:
            await uow.refresh_sessions.revoke(claims.jti, now)
            await uow.commit()
        await self.blacklist.revoke_token(principal.claims.jti, principal.claims.exp - now.timestamp())

    # ----------------------------------------------------------------- passwords

    async def forgot_password(self, email: str) -> None:
        user = await self.users.get_by_email(normalize_email(email))
        if user is None or not user.is_active:
            return
        token, _ = self.tokens.mint(user, TokenType.PASSWORD_RESET, self.policy.reset_ttl, self.clock.now())
        await queue_email(
            self.queue, emails.reset_password(user.email, user.full_name, self.policy.frontend_url, token)
        )

    async def reset_password(self, token: str, new_password: str) -> None:
        claims = self.tokens.read(token, TokenType.PASSWORD_RESET, RESET_ERRORS)
        password_hash = await self._new_password_hash(new_password, "body.new_password")
        user = await self._token_user(claims)
        now = self.clock.now()
        async with self.uow() as uow:
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

    async def change_password(self, principal: Principal, current_password: str, new_password: str) -> None:
        user = principal.user
        self._refuse_common(new_password, "body.new_password")
        if not await self.hasher.verify(user.password_hash, current_password):
            raise Unauthenticated(INVALID_PASSWORD)
        password_hash = await self.hasher.hash(new_password)
        now = self.clock.now()
        async with self.uow() as uow:
            user.password_hash = password_hash
            user.updated_at = now
            await uow.users.save(user)
            await uow.refresh_sessions.revoke_all(user.id, now, except_sid=principal.claims.sid)
            await uow.commit()

    async def _token_user(self, claims: TokenClaims) -> User:
        """The active user a body token (reset, verification) speaks for."""
        user = await self.users.get(claims.sub)
        if user is None:
            raise Unauthenticated(INVALID_CREDENTIALS)
        if not user.is_active:
            raise Unauthenticated("User is inactive")
        if user.issued_before_cutoff(issued_at_us(claims)):
            raise Unauthenticated("Token has been revoked")
        return user

    # ----------------------------------------------------------------- email verification

    async def request_verification(self, email: str) -> None:
        user = await self.users.get_by_email(normalize_email(email))
        if user is not None and user.is_active and user.email_verified_at is None:
            await self._send_verification(user)

    async def _send_verification(self, user: User) -> None:
        token, _ = self.tokens.mint(user, TokenType.EMAIL_VERIFICATION, self.policy.verification_ttl, self.clock.now())
        await queue_email(self.queue, emails.verify_email(user.email, user.full_name, self.policy.frontend_url, token))

    async def confirm_verification(self, token: str) -> None:
        claims = self.tokens.read(token, TokenType.EMAIL_VERIFICATION, VERIFY_ERRORS)
        user = await self._token_user(claims)
        if user.email_verified_at is not None:
            return
        now = self.clock.now()
        async with self.uow() as uow:
            user.email_verified_at = now
            user.updated_at = now
            await uow.users.save(user)
            await uow.commit()

    # ----------------------------------------------------------------- MFA management

    async def _check_password(self, user: User, password: str) -> None:
        if not await self.hasher.verify(user.password_hash, password):
            raise Unauthenticated(INVALID_PASSWORD)

    async def request_email_mfa(self, principal: Principal, password: str) -> None:
        user = principal.user
        await self._check_password(user, password)
        if user.mfa_method is not None:
            return
        code = new_numeric_code()
        await self.kv.set(f"mfa:setup:{user.id}", code, CODE_TTL.total_seconds())
        await queue_email(self.queue, emails.mfa_setup_code(user.email, code))

    async def confirm_email_mfa(self, principal: Principal, code: str) -> None:
        user = principal.user
        key = f"mfa:setup:{user.id}"
        stored = await self.kv.get(key)
        if stored is None or not same_secret(stored, code.strip()):
            raise Unauthenticated(INVALID_CODE)
        if await self.kv.pop(key) != stored:
            raise Unauthenticated(INVALID_CODE)
        await self._set_mfa(user, MfaMethod.EMAIL, secret=None, step=None, recovery=[])

    async def disable_mfa(self, principal: Principal, password: str) -> None:
        user = principal.user
        await self._check_password(user, password)
        await self.kv.delete(f"mfa:setup:{user.id}", f"mfa:totp:{user.id}")
        if user.mfa_method is None:
            return
        await self._set_mfa(user, None, secret=None, step=None, recovery=[])

    async def setup_totp(self, principal: Principal, password: str) -> TotpSetup:
        user = principal.user
        await self._check_password(user, password)
        if user.mfa_method is MfaMethod.TOTP:
            raise Conflict("TOTP is already enabled")
        secret = self.totp.new_secret()
        await self.kv.set(f"mfa:totp:{user.id}", secret, CODE_TTL.total_seconds())
        uri = self.totp.provisioning_uri(secret, user.email, self.policy.totp_issuer)
        return TotpSetup(secret=secret, otpauth_uri=uri)

    async def confirm_totp(self, principal: Principal, code: str) -> list[str]:
        user = principal.user
        key = f"mfa:totp:{user.id}"
        secret = await self.kv.get(key)
        if secret is None:
            raise InvalidInput("No TOTP setup is pending")
        step = self.totp.matching_step(secret, code.strip(), self.clock.now())
        if step is None:
            raise Unauthenticated(INVALID_CODE)
        if await self.kv.pop(key) != secret:
            raise InvalidInput("No TOTP setup is pending")
        codes = [new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
        hashes = [await self.hasher.hash(normalize_recovery_code(c)) for c in codes]
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
        now = self.clock.now()
        async with self.uow() as uow:
            user.mfa_method = method
            user.totp_secret = secret
            user.totp_last_step = step
            user.updated_at = now
            await uow.users.save(user)
            await uow.recovery_codes.replace(user.id, recovery)
            await uow.commit()

    # ----------------------------------------------------------------- profiles and admin

    async def update_profile(self, principal: Principal, *, full_name: str | Unset | None = UNSET) -> User:
        user = principal.user
        if full_name is None:
            raise InvalidInput("'full_name' cannot be null")
        if full_name is UNSET:
            return user
        async with self.uow() as uow:
            user.full_name = full_name
            user.updated_at = self.clock.now()
            await uow.users.save(user)
            await uow.commit()
        return user

    async def list_users(self, actor: User, params: PageParams) -> Page[User]:
        _require_admin(actor)
        async with self.uow() as uow:
            return await uow.users.page(params)

    async def get_user(self, actor: User, user_id: UUID) -> User:
        _require_admin(actor)
        user = await self.users.get(user_id)
        if user is None:
            raise NotFound("User not found")
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
        _require_admin(actor)
        for name, value in (("full_name", full_name), ("role", role), ("password", password), ("is_active", is_active)):
            if value is None:
                raise InvalidInput(f"'{name}' cannot be null")
        password_hash = await self._new_password_hash(password, "body.password") if isinstance(password, str) else None
        now = self.clock.now()
        may_remove_admin = (isinstance(role, Role) and role is not Role.ADMIN) or is_active is False
        async with self.uow() as uow:
            # Every active admin's row is locked first: two admins demoting each other at once
            # cannot leave none.
            admins = await uow.users.lock_active_admins() if may_remove_admin else []
            user = await uow.users.get(user_id)
            if user is None:
                raise NotFound("User not found")
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
        return user


def _require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise Forbidden(ADMIN_ONLY)
