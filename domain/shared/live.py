"""The live channels every context may speak on (API §13): a user's own channel and a course's
feed, the message shape, and the control message that ends a user's live connections when a
sign-in is revoked or the account deactivated. The transports and the fan-out are adapters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.shared.clock import iso

# A control message on a user's channel starts with this key; it is acted on, never forwarded.
CONTROL = "control"
REVOKED = "revoked"


def user_channel(user_id: UUID) -> str:
    return f"user:{user_id}"


def course_channel(course_id: UUID) -> str:
    return f"course:{course_id}"


def course_of_channel(channel: str) -> UUID | None:
    """The course a `course:<id>` channel name names; None for anything else."""
    prefix, _, rest = channel.partition(":")
    if prefix != "course" or len(rest) != 36:
        return None
    try:
        return UUID(rest)
    except ValueError:
        return None


def message(message_id: UUID, kind: str, created_at: datetime, data: dict[str, Any]) -> dict[str, Any]:
    return {"id": str(message_id), "type": kind, "created_at": iso(created_at), "data": data}


def revocation(*, sid: UUID | None = None, jti: UUID | None = None, keep_sid: UUID | None = None) -> dict[str, Any]:
    """Ends the user's connections opened with that sign-in (`sid`) or credential (`jti`); with
    neither, every connection of the user (deactivated, signed out everywhere) but those of
    `keep_sid` (the sign-in that changed the password)."""
    return {
        CONTROL: REVOKED,
        "sid": str(sid) if sid else None,
        "jti": str(jti) if jti else None,
        "keep_sid": str(keep_sid) if keep_sid else None,
    }


@dataclass(frozen=True, slots=True)
class LiveHolder:
    """Who a live connection belongs to: the user, and the sign-in or credential it was opened with."""

    user_id: UUID
    token_id: UUID
    session_id: UUID | None

    def revoked_by(self, control: dict[str, Any]) -> bool:
        if control.get(CONTROL) != REVOKED:
            return False
        sid, jti, keep = control.get("sid"), control.get("jti"), control.get("keep_sid")
        if sid is None and jti is None:
            return keep is None or keep != str(self.session_id)
        return (sid is not None and sid == str(self.session_id)) or (jti is not None and jti == str(self.token_id))
