"""Revoked access tokens and sign-ins, shared by every process through the key-value port."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from uuid import UUID

from domain.identity.model import TokenClaims
from domain.shared.errors import Unavailable
from domain.shared.ports import KeyValueStore, KeyValueUnavailable

log = logging.getLogger("lms.identity")


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
