"""Bodies of the certificate routes (API §6.6)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from adapters.http.bodies import response_of
from domain.credentials.model import Certificate
from domain.credentials.services import Verification


class CertificateResponse(msgspec.Struct, kw_only=True):
    id: UUID
    student_id: UUID
    course_id: UUID
    certificate_number: str
    completion_date: datetime
    issued_at: datetime
    pdf_url: str
    is_revoked: bool
    revoked_at: datetime | None

    @classmethod
    def of(cls, certificate: Certificate) -> CertificateResponse:
        return response_of(cls, certificate)


class CertificateVerifyResponse(msgspec.Struct, kw_only=True):
    valid: bool
    certificate: CertificateResponse | None
    message: str
    # The certificate as a verifiable credential (API §15.2), for its holder: a signed-in route.
    credential_url: str | None = None

    @classmethod
    def of(cls, verification: Verification) -> CertificateVerifyResponse:
        certificate = verification.certificate
        return cls(
            valid=verification.valid,
            certificate=CertificateResponse.of(certificate) if certificate else None,
            message=verification.message,
            credential_url=f"/api/v1/certificates/{certificate.id}/credential" if certificate else None,
        )
