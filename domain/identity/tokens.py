"""Minting and reading identity tokens; claim checks that turn into the messages of API §2.4."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from domain.identity.model import TokenClaims, TokenType, User
from domain.identity.ports import TokenCodec, TokenExpired, TokenInvalid
from domain.shared.errors import Unauthenticated

INVALID_CREDENTIALS = "Could not validate credentials"


@dataclass(frozen=True, slots=True)
class TokenErrors:
    """Messages for one kind of token; `expired`/`invalid` default to the generic message."""

    malformed: str
    expired: str = INVALID_CREDENTIALS
    invalid: str = INVALID_CREDENTIALS
    token_rejected: bool = False


ACCESS_ERRORS = TokenErrors(malformed="Malformed token", token_rejected=True)


def issued_at_us(claims: TokenClaims) -> int:
    return claims.iat_us if claims.iat_us is not None else claims.iat * 1_000_000


class Tokens:
    """Issues and reads the five token types with one codec."""

    def __init__(self, codec: TokenCodec) -> None:
        self._codec = codec

    def mint(
        self,
        user: User,
        typ: TokenType,
        ttl: timedelta,
        now: datetime,
        *,
        sid: uuid.UUID | None = None,
        via: str | None = None,
    ) -> tuple[str, TokenClaims]:
        iat = int(now.timestamp())
        claims = TokenClaims(
            sub=user.id,
            jti=uuid.uuid4(),
            typ=typ,
            iat=iat,
            iat_us=int(now.timestamp() * 1_000_000),
            exp=iat + int(ttl.total_seconds()),
            role=user.role.value if typ is TokenType.ACCESS else None,
            sid=sid,
            via=via,
        )
        payload: dict[str, Any] = {
            "sub": str(claims.sub),
            "jti": str(claims.jti),
            "typ": typ.value,
            "iat": claims.iat,
            "iat_us": claims.iat_us,
            "exp": claims.exp,
        }
        if claims.role is not None:
            payload["role"] = claims.role
        if sid is not None:
            payload["sid"] = str(sid)
        if via is not None:
            payload["via"] = via
        return self._codec.encode(payload), claims

    def read(
        self,
        token: str,
        typ: TokenType,
        errors: TokenErrors,
        *,
        verify_exp: bool = True,
        require_sid: bool = False,
    ) -> TokenClaims:
        try:
            raw = self._codec.decode(token, verify_exp=verify_exp)
        except TokenExpired:
            raise Unauthenticated(errors.expired, token_rejected=errors.token_rejected) from None
        except TokenInvalid:
            raise Unauthenticated(errors.invalid, token_rejected=errors.token_rejected) from None
        if raw.get("typ") != typ.value:
            raise Unauthenticated("Invalid token type", token_rejected=errors.token_rejected)
        try:
            sub = uuid.UUID(str(raw["sub"]))
            jti = uuid.UUID(str(raw["jti"]))
            sid = uuid.UUID(str(raw["sid"])) if raw.get("sid") is not None else None
            if require_sid and sid is None:
                raise ValueError("sid")
            iat = int(raw.get("iat", 0))
            exp = int(raw.get("exp", 0))
            iat_us = int(raw["iat_us"]) if isinstance(raw.get("iat_us"), int) else None
        except (KeyError, ValueError, TypeError):
            raise Unauthenticated(errors.malformed, token_rejected=errors.token_rejected) from None
        role = raw.get("role")
        via = raw.get("via")
        return TokenClaims(
            sub=sub,
            jti=jti,
            typ=typ,
            iat=iat,
            iat_us=iat_us,
            exp=exp,
            role=role if isinstance(role, str) else None,
            sid=sid,
            via=via if isinstance(via, str) else None,
        )
