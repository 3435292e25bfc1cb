"""Browser sessions (API §10.2): the sign-ins of §7.1 carried in cookies, with a double-submit
CSRF token for unsafe requests, and what a caller's credential says about itself (K5)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from domain.identity.lockout import LockoutCheck
from domain.identity.model import AuthMethod, AuthResult, MfaChallenge, Principal, Role
from domain.identity.policy import SSO, same_secret
from domain.identity.sign_in import REFRESH_INVALID, SignIn
from domain.shared.errors import Forbidden, Unauthenticated

CSRF_INVALID = "CSRF token missing or invalid"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def new_csrf_token() -> str:
    """32 random bytes, URL-safe."""
    return secrets.token_urlsafe(32)


def csrf_passes(method: str, cookie: str | None, header: str | None) -> bool:
    """Double submit: an unsafe request must echo the CSRF cookie in its header (constant time)."""
    if method.upper() not in UNSAFE_METHODS:
        return True
    return bool(cookie) and bool(header) and same_secret(cookie or "", header or "")


def check_csrf(method: str, cookie: str | None, header: str | None) -> None:
    if not csrf_passes(method, cookie, header):
        raise Forbidden(CSRF_INVALID)


@dataclass(frozen=True, slots=True)
class TokenInfo:
    user_id: UUID
    role: Role
    auth: AuthMethod
    expires_at: datetime | None
    session_id: UUID | None


def token_info(principal: Principal) -> TokenInfo:
    claims = principal.claims
    return TokenInfo(
        user_id=principal.user.id,
        role=principal.user.role,
        auth=AuthMethod.SSO if principal.via is AuthMethod.BEARER and claims.via == SSO else principal.via,
        expires_at=datetime.fromtimestamp(claims.exp, tz=UTC) if claims.exp else None,
        session_id=claims.sid,
    )


@dataclass(frozen=True, slots=True)
class BrowserSignIn:
    """A finished sign-in for a browser, and the CSRF token its cookies go with."""

    result: AuthResult
    csrf: str


@dataclass(slots=True)
class BrowserSessions:
    sign_in: SignIn

    async def login(
        self, email: str, password: str, precheck: LockoutCheck | None = None
    ) -> BrowserSignIn | MfaChallenge:
        """K1: a password sign-in (A2), with a CSRF token when it finished."""
        outcome = await self.sign_in.login(email, password, precheck)
        return outcome if isinstance(outcome, MfaChallenge) else BrowserSignIn(outcome, new_csrf_token())

    async def login_mfa(self, challenge_token: str, code: str) -> BrowserSignIn:
        """K2: the second step (A4)."""
        return BrowserSignIn(await self.sign_in.login_mfa(challenge_token, code), new_csrf_token())

    async def refresh(self, refresh_token: str | None) -> BrowserSignIn:
        """K3: rotation as A6, from the refresh cookie (the access cookie is not needed)."""
        if not refresh_token:
            raise Unauthenticated(REFRESH_INVALID)
        result = await self.sign_in.refresh(refresh_token, None)
        return BrowserSignIn(result, new_csrf_token())

    async def logout(self, principal: Principal) -> None:
        """K4: the whole sign-in ends (its refresh tokens and the access token in hand)."""
        await self.sign_in.end_sign_in(principal)
