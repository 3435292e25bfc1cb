"""WebSocket tickets (API §13): browsers cannot set headers on a WebSocket, so a signed-in client
first trades its credentials for a ticket and connects with `?ticket=`. A ticket is good once, for
30 seconds, and names the sign-in it came from (so that sign-in's revocation closes the socket)."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from uuid import UUID

from domain.identity.model import AuthMethod, Principal, TokenClaims, TokenType
from domain.shared.ports import KeyValueStore

TICKET_SECONDS = 30


@dataclass(frozen=True, slots=True)
class Ticketed:
    """Who a redeemed ticket was issued to: the claims of the credential it was asked with, and how
    that credential came (so the socket can be checked as that request was)."""

    claims: TokenClaims
    via: AuthMethod


def _key(ticket: str) -> str:
    # Only a digest is stored: a read of the store does not yield usable tickets.
    return "ws-ticket:" + hashlib.sha256(ticket.encode()).hexdigest()


@dataclass(slots=True)
class TicketService:
    kv: KeyValueStore

    async def issue(self, principal: Principal) -> str:
        ticket = secrets.token_urlsafe(32)
        claims = principal.claims
        held = {
            "sub": str(claims.sub),
            "jti": str(claims.jti),
            "sid": str(claims.sid) if claims.sid else None,
            "iat": claims.iat,
            "exp": claims.exp,
            "iat_us": claims.iat_us,
            "via": principal.via.value,
        }
        await self.kv.set(_key(ticket), json.dumps(held), TICKET_SECONDS)
        return ticket

    async def redeem(self, ticket: str | None) -> Ticketed | None:
        """Who the ticket was issued to, once: a ticket missing, unknown, expired or used before is None."""
        if not ticket or len(ticket) > 128:
            return None
        held = await self.kv.pop(_key(ticket))
        if held is None:
            return None
        found = json.loads(held)
        claims = TokenClaims(
            sub=UUID(found["sub"]),
            jti=UUID(found["jti"]),
            typ=TokenType.ACCESS,
            iat=found["iat"],
            exp=found["exp"],
            iat_us=found["iat_us"],
            sid=UUID(found["sid"]) if found["sid"] else None,
        )
        return Ticketed(claims, AuthMethod(found["via"]))
