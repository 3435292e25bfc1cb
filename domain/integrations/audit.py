"""Audit entries: who changed what, recorded in the transaction of the change."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from domain.integrations.context import current_request_id
from domain.integrations.model import AuditEntry
from domain.integrations.ports import Actor


def audit_entry(
    action: str,
    subject_type: str,
    subject_id: UUID,
    actor: Actor | None,
    now: datetime,
    **details: UUID | str | None,
) -> AuditEntry:
    """An entry for the request being served; `details` are the other ids and values involved."""
    return AuditEntry(
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        actor_id=actor.id if actor else None,
        occurred_at=now,
        details={name: str(value) for name, value in details.items() if value is not None},
        request_id=current_request_id.get(),
    )
