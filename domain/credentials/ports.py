"""What credentials need from outside: the certificate table and a PDF renderer."""

from __future__ import annotations

from typing import Protocol
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
