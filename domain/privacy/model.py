"""Data exports and what erasure leaves (API §15.3)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

EXPORT_LIFETIME = timedelta(days=7)
ERASED_NAME = "Erased user"


def erased_email(user_id: UUID) -> str:
    """What an erased account's email becomes: unique, and never deliverable (`.invalid`)."""
    return f"erased-{user_id}@invalid"


class ExportStatus(enum.StrEnum):
    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"


@dataclass(slots=True, kw_only=True)
class DataExport:
    """One export of a person's data: a ZIP made by a job, downloadable until `expires_at`."""

    id: UUID
    user_id: UUID
    requested_by: UUID
    status: ExportStatus
    created_at: datetime
    storage_key: str | None = None
    ready_at: datetime | None = None
    expires_at: datetime | None = None
    error: str | None = None

    def downloadable(self, now: datetime) -> bool:
        return self.status is ExportStatus.READY and self.expires_at is not None and now < self.expires_at


@dataclass(frozen=True, slots=True)
class StoredObject:
    """An object in storage that belongs to the person (an upload, a certificate's PDF): exported
    under `name`, deleted on erasure. A certificate's PDF not rendered yet is rendered for the
    export (`certificate_id`)."""

    key: str
    name: str
    certificate_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class PersonalRecords:
    """Everything the database holds of one person: rows by table (JSON values), and the stored
    objects that are theirs."""

    tables: dict[str, list[dict[str, Any]]]
    objects: list[StoredObject]
