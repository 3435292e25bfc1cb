"""HS256 JWTs with the algorithm pinned and `iss`, `aud`, `exp`, `iat` enforced."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jwt

from domain.identity.ports import TokenExpired, TokenInvalid

ALGORITHM = "HS256"
ISSUER = "lms"
AUDIENCE = "lms-api"


class JwtCodec:
    def __init__(self, secret: str, *, issuer: str = ISSUER, audience: str = AUDIENCE) -> None:
        self._secret = secret
        self._issuer = issuer
        self._audience = audience

    def encode(self, claims: Mapping[str, Any]) -> str:
        return jwt.encode({**claims, "iss": self._issuer, "aud": self._audience}, self._secret, algorithm=ALGORITHM)

    def decode(self, token: str, *, verify_exp: bool = True) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                issuer=self._issuer,
                audience=self._audience,
                options={"require": ["exp", "iat", "iss", "aud"], "verify_exp": verify_exp},
            )
        except jwt.ExpiredSignatureError:
            raise TokenExpired from None
        except jwt.InvalidTokenError:
            raise TokenInvalid from None
