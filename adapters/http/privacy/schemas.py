"""Bodies of the export and erasure routes (API §15.3)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

from domain.privacy.model import DataExport, ExportStatus


class ExportAccepted(msgspec.Struct, kw_only=True):
    export_id: UUID
    status_url: str


class ExportResponse(msgspec.Struct, kw_only=True):
    id: UUID
    user_id: UUID
    status: ExportStatus
    created_at: datetime
    ready_at: datetime | None
    expires_at: datetime | None
    download_url: str | None

    @classmethod
    def of(cls, export: DataExport, base: str, *, downloadable: bool) -> ExportResponse:
        return cls(
            id=export.id,
            user_id=export.user_id,
            status=export.status,
            created_at=export.created_at,
            ready_at=export.ready_at,
            expires_at=export.expires_at,
            download_url=f"{base}/{export.id}/download" if downloadable else None,
        )


class EraseMeRequest(msgspec.Struct, kw_only=True):
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=128, description="The caller's current password")]
