"""HS256 JWTs with the algorithm pinned and `iss`, `aud`, `exp`, `iat` enforced, and signing keys
that rotate without signing anyone out.

Every token names its key in the `kid` header: a fingerprint of the key, never the key. The
current key (`LMS_SECRET_KEY`) signs; the previous ones (`LMS_SECRET_KEY_PREVIOUS`) still verify
the tokens they signed until those expire. A token whose key is in neither is refused. Tokens
minted before keys carried ids (no `kid`) are tried with each key.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping, Sequence
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


def key_id(secret: str) -> str:
    """A key's public name: 16 hex digits of a hash of it (a 32-byte key cannot be recovered)."""
    return hashlib.sha256(b"lms-jwt-kid:" + secret.encode()).hexdigest()[:16]


class JwtCodec:
    def __init__(
        self, secret: str, *, previous: Sequence[str] = (), issuer: str = ISSUER, audience: str = AUDIENCE
    ) -> None:
        self._secret = secret
        self._kid = key_id(secret)
        self._keys = {key_id(key): key for key in (*previous, secret)}  # the current key wins a clash
        self._issuer = issuer
        self._audience = audience
        self._verified = lru_cache(maxsize=VERIFIED_CACHE_SIZE)(self._verify_signature)

    def encode(self, claims: Mapping[str, Any]) -> str:
        return jwt.encode(
            {**claims, "iss": self._issuer, "aud": self._audience},
            self._secret,
            algorithm=ALGORITHM,
            headers={"kid": self._kid},
        )

    def decode(self, token: str, *, verify_exp: bool = True) -> dict[str, Any]:
        claims = self._verified(token)  # raises TokenInvalid; failures are not cached
        if verify_exp and float(claims["exp"]) <= time.time():
            raise TokenExpired
        return dict(claims)

    def _verify_signature(self, token: str) -> Mapping[str, Any]:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.InvalidTokenError:
            raise TokenInvalid from None
        if kid is None:
            candidates = list(self._keys.values())
        elif isinstance(kid, str) and kid in self._keys:
            candidates = [self._keys[kid]]
        else:
            raise TokenInvalid  # signed with a key that is no longer accepted (or never was)
        for key in candidates:
            try:
                return jwt.decode(
                    token,
                    key,
                    algorithms=[ALGORITHM],
                    issuer=self._issuer,
                    audience=self._audience,
                    options={"require": ["exp", "iat", "iss", "aud"], "verify_exp": False},
                )
            except jwt.InvalidSignatureError:
                continue
            except jwt.InvalidTokenError:
                raise TokenInvalid from None
        raise TokenInvalid
