"""Certificates of completion (API §6.6, §7.9)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


def certificate_number(issued_at: datetime) -> str:
    """`CERT-<UTC date of issue>-<6 upper-case hex characters>`, the hex part random (UUID4)."""
    return f"CERT-{issued_at:%Y%m%d}-{uuid.uuid4().hex[:6].upper()}"


def normalized_number(text: str) -> str:
    """What verification looks up: trimmed and upper-cased."""
    return text.strip().upper()


@dataclass(slots=True, kw_only=True)
class Certificate:
    id: UUID
    enrollment_id: UUID
    student_id: UUID
    course_id: UUID
    certificate_number: str
    completion_date: datetime
    issued_at: datetime
    is_revoked: bool = False
    revoked_at: datetime | None = None

    @property
    def pdf_url(self) -> str:
        return f"/api/v1/certificates/{self.id}/download"

    def revoke(self, now: datetime) -> bool:
        """Idempotent; True only the first time."""
        if self.is_revoked:
            return False
        self.is_revoked = True
        self.revoked_at = now
        return True


@dataclass(frozen=True, slots=True)
class CertificateDocument:
    """What the PDF shows."""

    certificate_number: str
    student_name: str
    course_title: str
    completion_date: str  # YYYY-MM-DD
    verify_url: str
