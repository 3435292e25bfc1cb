"""HS256 JWTs with the algorithm pinned and `iss`, `aud`, `exp`, `iat` enforced."""

from __future__ import annotations

import time
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import jwt

from domain.identity.ports import TokenExpired, TokenInvalid

ALGORITHM = "HS256"
ISSUER = "lms"
AUDIENCE = "lms-api"
# Clients send the same access token on every request; its signature check and claim parsing
# are the same each time, so verified claims are memoised (expiry is still checked per call).
VERIFIED_CACHE_SIZE = 4096


class JwtCodec:
    def __init__(self, secret: str, *, issuer: str = ISSUER, audience: str = AUDIENCE) -> None:
        self._secret = secret
        self._issuer = issuer
        self._audience = audience
        self._verified = lru_cache(maxsize=VERIFIED_CACHE_SIZE)(self._verify_signature)

    def encode(self, claims: Mapping[str, Any]) -> str:
        return jwt.encode({**claims, "iss": self._issuer, "aud": self._audience}, self._secret, algorithm=ALGORITHM)

    def decode(self, token: str, *, verify_exp: bool = True) -> dict[str, Any]:
        claims = self._verified(token)  # raises TokenInvalid; failures are not cached
        if verify_exp and float(claims["exp"]) <= time.time():
            raise TokenExpired
        return dict(claims)

    def _verify_signature(self, token: str) -> Mapping[str, Any]:
        try:
            return jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                issuer=self._issuer,
                audience=self._audience,
                options={"require": ["exp", "iat", "iss", "aud"], "verify_exp": False},
            )
        except jwt.InvalidTokenError:
            raise TokenInvalid from None
