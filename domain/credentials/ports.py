"""What credentials need from outside: the certificate table, a PDF renderer and a signing key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol
from uuid import UUID

from domain.credentials.model import Certificate, CertificateDocument
from domain.learning.ports import LearningUnitOfWork
from domain.shared.pagination import Page, PageParams


class CertificateRepository(Protocol):
    async def add_if_absent(self, certificate: Certificate) -> bool:
        """Insert unless the enrollment has a certificate (racing requests included): True when this
        call created it. Raises NumberTaken when only the number collided (choose another)."""
        ...

    async def get(self, certificate_id: UUID, *, lock: bool = False) -> Certificate | None: ...
    async def of_enrollment(self, enrollment_id: UUID) -> Certificate | None: ...
    async def by_number(self, number: str) -> Certificate | None: ...
    async def of_student(self, student_id: UUID, params: PageParams) -> Page[Certificate]:
        """The student's certificates that are not revoked, newest first."""
        ...

    async def save(self, certificate: Certificate) -> None: ...

    async def status_index(self, certificate_id: UUID) -> int:
        """The certificate's index in the status lists (from 0), given now if it has none; racing
        calls for one certificate get the same index."""
        ...

    async def revoked_status_indexes(self, first: int, stop: int) -> list[int]:
        """Indexes in [first, stop) whose certificates are revoked."""
        ...

    async def status_indexes_given(self) -> int:
        """One more than the highest index given (0: none)."""
        ...


class CredentialsUnitOfWork(LearningUnitOfWork, Protocol):
    @property
    def certificates(self) -> CertificateRepository: ...


class CredentialsUnitOfWorkFactory(Protocol):
    def __call__(self) -> CredentialsUnitOfWork: ...


class CertificateRenderer(Protocol):
    async def render(self, document: CertificateDocument) -> bytes:
        """The PDF; rendering runs off the event loop."""
        ...


class NumberTaken(Exception):
    """Another certificate already has the chosen number."""


class CredentialSigner(Protocol):
    """The issuer's key: signs compact JWS (the VC-JWT proof format) and shows its public half."""

    @property
    def algorithm(self) -> str:
        """The JWS `alg` (`EdDSA` or `ES256`)."""
        ...

    @property
    def thumbprint(self) -> str:
        """The public key's JWK thumbprint (RFC 7638): names it in the DID document."""
        ...

    def public_jwk(self) -> dict[str, str]: ...

    def sign(self, payload: Mapping[str, Any], key_id: str) -> str:
        """`payload` as JSON, signed: a compact JWS whose header names `key_id`."""
        ...
