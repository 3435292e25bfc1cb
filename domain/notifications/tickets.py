"""WebSocket tickets (API §13): browsers cannot set headers on a WebSocket, so a signed-in client
first trades its credentials for a ticket and connects with `?ticket=`. A ticket is good once, for
30 seconds, and names the sign-in it came from (so that sign-in's revocation closes the socket)."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from uuid import UUID

from domain.identity.model import Principal
from domain.shared.ports import KeyValueStore

TICKET_SECONDS = 30


@dataclass(frozen=True, slots=True)
class Ticketed:
    """Who a redeemed ticket was issued to: the user, and the access token's id and session."""

    user_id: UUID
    token_id: UUID
    session_id: UUID | None


def _key(ticket: str) -> str:
    # Only a digest is stored: a read of the store does not yield usable tickets.
    return "ws-ticket:" + hashlib.sha256(ticket.encode()).hexdigest()


@dataclass(slots=True)
class TicketService:
    kv: KeyValueStore

    async def issue(self, principal: Principal) -> str:
        ticket = secrets.token_urlsafe(32)
        claims = principal.claims
        held = {"user": str(principal.user.id), "jti": str(claims.jti), "sid": str(claims.sid) if claims.sid else None}
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
        return Ticketed(UUID(found["user"]), UUID(found["jti"]), UUID(found["sid"]) if found["sid"] else None)
