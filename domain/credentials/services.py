"""Certificate use cases (API §5.11, §7.9), and the issuance learning asks for when an enrollment completes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.catalog.model import Course
from domain.credentials.model import Certificate, CertificateDocument, certificate_number, normalized_number
from domain.credentials.ports import (
    CertificateRenderer,
    CredentialsUnitOfWork,
    CredentialsUnitOfWorkFactory,
    NumberTaken,
)
from domain.identity.model import Role, User
from domain.identity.ports import UserLookup
from domain.integrations.audit import audit_entry
from domain.integrations.model import CERTIFICATE_ISSUED, CERTIFICATE_REVOKED, DomainEvent
from domain.learning.model import Enrollment, EnrollmentStatus
from domain.learning.ports import LearningUnitOfWork
from domain.learning.services import ENROLLMENT_NOT_FOUND
from domain.shared.clock import Clock, iso
from domain.shared.errors import Forbidden, InvalidInput, NotFound, Unavailable
from domain.shared.ids import new_id
from domain.shared.pagination import Page, PageParams
from domain.shared.ports import JobQueue, KeyValueStore, ObjectMissing, ObjectStorage

CERTIFICATE_NOT_FOUND = "Certificate not found"
NOT_AUTHORIZED = "Not authorized to access this certificate"
ONLY_ADMINS_REVOKE = "Only admins can revoke certificates"
NOT_AUTHORIZED_GENERATE = "Not authorized to generate a certificate for this enrollment"
NOT_COMPLETE = "Enrollment is not complete yet"
VALID = "Certificate is valid"
UNKNOWN = "Certificate not found"

CERTIFICATE = "certificate"  # the audit log's subject type
_NUMBER_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class Verification:
    valid: bool
    certificate: Certificate | None
    message: str


@dataclass(frozen=True, slots=True)
class Issued:
    certificate: Certificate
    created: bool


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _event(kind: str, certificate: Certificate, moment_name: str, moment: datetime) -> DomainEvent:
    return DomainEvent(
        type=kind,
        occurred_at=moment,
        data={
            "certificate_id": str(certificate.id),
            "certificate_number": certificate.certificate_number,
            "enrollment_id": str(certificate.enrollment_id),
            "student_id": str(certificate.student_id),
            "course_id": str(certificate.course_id),
            moment_name: iso(moment),
        },
    )


RENDER_CERTIFICATE = "render_certificate"
# How long one rendering may hold a certificate's render lock (rendering takes about 0.2 s, a
# process's first about 1 s). A renderer that died frees it this long after it took it; one that
# overran it would at worst render alongside another, both writing the same object.
RENDER_LOCK_SECONDS = 10.0


def pdf_key(certificate_id: UUID) -> str:
    return f"certificates/{certificate_id}.pdf"


@dataclass(slots=True)
class CertificateService:
    uow: CredentialsUnitOfWorkFactory
    users: UserLookup
    renderer: CertificateRenderer
    storage: ObjectStorage
    kv: KeyValueStore
    queue: JobQueue
    clock: Clock
    frontend_url: str = "http://localhost:3000"

    async def completion_committed(self, enrollment_id: UUID) -> None:
        """The PDF is rendered by a background job once the issuing transaction committed."""
        await self.queue.enqueue(RENDER_CERTIFICATE, {"enrollment_id": str(enrollment_id)})

    async def render_stored(self, enrollment_id: UUID) -> None:
        """The job: render the enrollment's certificate into storage unless it is there already."""
        async with self.uow() as uow:
            certificate = await uow.certificates.of_enrollment(enrollment_id)
        if certificate is not None:
            await self._pdf(certificate)

    # ----- issuance (learning's CompletionListener) -----

    async def enrollment_completed(self, uow: LearningUnitOfWork, enrollment: Enrollment, now: datetime) -> None:
        """In the completing transaction: the certificate row, and the enrollment's `certificate_issued_at`."""
        credentials: CredentialsUnitOfWork = uow  # type: ignore[assignment]  # one unit of work spans the contexts
        await self._issue(credentials, enrollment, None, now)

    async def _issue(
        self, uow: CredentialsUnitOfWork, enrollment: Enrollment, actor: User | None, now: datetime
    ) -> Issued:
        existing = await uow.certificates.of_enrollment(enrollment.id)
        if existing is not None:
            return Issued(existing, created=False)
        assert enrollment.completed_at is not None
        for attempt in range(1, _NUMBER_ATTEMPTS + 1):
            certificate = Certificate(
                id=new_id(),
                enrollment_id=enrollment.id,
                student_id=enrollment.student_id,
                course_id=enrollment.course_id,
                certificate_number=certificate_number(now),
                completion_date=enrollment.completed_at,
                issued_at=now,
            )
            try:
                created = await uow.certificates.add_if_absent(certificate)
            except NumberTaken:
                if attempt == _NUMBER_ATTEMPTS:
                    raise
                continue  # a collision of the random part: choose another number
            break
        if not created:  # another request issued it first (and has committed)
            winner = await uow.certificates.of_enrollment(enrollment.id)
            assert winner is not None
            return Issued(winner, created=False)
        enrollment.certificate_issued_at = now
        await uow.outbox.add(_event(CERTIFICATE_ISSUED, certificate, "issued_at", now))
        await uow.audit.add(
            audit_entry("certificate_issued", CERTIFICATE, certificate.id, actor, now, enrollment_id=enrollment.id)
        )
        return Issued(certificate, created=True)

    async def generate(self, actor: User, enrollment_id: UUID) -> Issued:
        """R6: the enrollment's certificate, issued now (201) or as it was (200)."""
        async with self.uow() as uow:
            enrollment = await uow.enrollments.get(enrollment_id, lock=True)
            if enrollment is None:
                raise NotFound(ENROLLMENT_NOT_FOUND)
            if actor.id != enrollment.student_id and actor.role is not Role.ADMIN:
                raise Forbidden(NOT_AUTHORIZED_GENERATE)
            existing = await uow.certificates.of_enrollment(enrollment_id)
            if existing is not None:
                return Issued(existing, created=False)
            if enrollment.status is not EnrollmentStatus.COMPLETED or enrollment.completed_at is None:
                raise InvalidInput(NOT_COMPLETE)
            issued = await self._issue(uow, enrollment, actor, self.clock.now())
            if issued.created:
                await uow.enrollments.save(enrollment)
            await uow.commit()
        return issued

    # ----- reading -----

    async def my_certificates(self, actor: User, params: PageParams) -> Page[Certificate]:
        async with self.uow() as uow:
            return await uow.certificates.of_student(actor.id, params)

    async def get(self, actor: User, certificate_id: UUID) -> Certificate:
        """R2: the owning student, the course's owner, admins."""
        async with self.uow() as uow:
            certificate, _ = await self.readable(uow, actor, certificate_id)
            return certificate

    async def readable(
        self, uow: CredentialsUnitOfWork, actor: User, certificate_id: UUID
    ) -> tuple[Certificate, Course | None]:
        """R2's rule inside a unit of work: the certificate, and its course (None when it was not
        read: the student and admins pass without it)."""
        certificate = await self._found(uow, certificate_id)
        if actor.id == certificate.student_id or actor.role is Role.ADMIN:
            return certificate, None
        course = await uow.courses.get(certificate.course_id)
        if course is None or course.instructor_id != actor.id:
            raise Forbidden(NOT_AUTHORIZED)
        return certificate, course

    async def download(self, actor: User, certificate_id: UUID) -> tuple[Certificate, bytes]:
        """R3: the owning student and admins (not the course's owner). The stored PDF, rendered now
        if the job has not run yet."""
        async with self.uow() as uow:
            certificate = await self._found(uow, certificate_id)
            if actor.id != certificate.student_id and actor.role is not Role.ADMIN:
                raise Forbidden(NOT_AUTHORIZED)
        return certificate, await self._pdf(certificate)

    async def pdf_of(self, certificate_id: UUID) -> bytes:
        """The certificate's PDF, stored or rendered now (a personal-data export, API §15.3)."""
        async with self.uow() as uow:
            certificate = await self._found(uow, certificate_id)
        return await self._pdf(certificate)

    async def _pdf(self, certificate: Certificate) -> bytes:
        """The stored PDF, or a new one: rendered by one caller at a time per certificate (a lock in
        the key-value store); the others wait for it to appear."""
        key = pdf_key(certificate.id)
        lock = f"certificate-render:{certificate.id}"
        for _ in range(int(RENDER_LOCK_SECONDS * 10)):
            stored = await self._stored(key)
            if stored is not None:
                return stored
            if await self.kv.set_if_absent(lock, "1", RENDER_LOCK_SECONDS):
                try:
                    document = await self._document(certificate)
                    pdf = await self.renderer.render(document)
                    await self.storage.put(key, _one(pdf), "application/pdf")
                    if (await self._document(certificate)).student_name != document.student_name:
                        # Renamed or erased while rendering (API §15.3): the stored copy must not
                        # keep the old name; the next download renders the current one.
                        await self.storage.delete(key)
                    return pdf
                finally:
                    await self.kv.delete(lock)
            await asyncio.sleep(0.1)  # another process is rendering it
        raise Unavailable("The certificate is being rendered; try again shortly")

    async def _stored(self, key: str) -> bytes | None:
        try:
            return b"".join([chunk async for chunk in await self.storage.open(key)])
        except ObjectMissing:
            return None

    async def _document(self, certificate: Certificate) -> CertificateDocument:
        async with self.uow() as uow:
            course = await uow.courses.get(certificate.course_id)
        student = await self.users.get(certificate.student_id)
        return CertificateDocument(
            certificate_number=certificate.certificate_number,
            student_name=student.full_name if student else "",
            course_title=course.title if course else "",
            completion_date=f"{certificate.completion_date:%Y-%m-%d}",
            verify_url=f"{self.frontend_url.rstrip('/')}/verify/{certificate.certificate_number}",
        )

    async def verify(self, number: str) -> Verification:
        """R4, public: valid only for an existing certificate that is not revoked."""
        async with self.uow() as uow:
            certificate = await uow.certificates.by_number(normalized_number(number))
        if certificate is None or certificate.is_revoked:
            return Verification(valid=False, certificate=None, message=UNKNOWN)
        return Verification(valid=True, certificate=certificate, message=VALID)

    async def revoke(self, actor: User, certificate_id: UUID) -> Certificate:
        """R5, admins: idempotent; `certificate.revoked` only the first time."""
        if actor.role is not Role.ADMIN:
            raise Forbidden(ONLY_ADMINS_REVOKE)
        async with self.uow() as uow:
            certificate = await uow.certificates.get(certificate_id, lock=True)
            if certificate is None:
                raise NotFound(CERTIFICATE_NOT_FOUND)
            now = self.clock.now()
            if certificate.revoke(now):
                await uow.certificates.save(certificate)
                await uow.outbox.add(_event(CERTIFICATE_REVOKED, certificate, "revoked_at", now))
                await uow.audit.add(audit_entry("certificate_revoked", CERTIFICATE, certificate.id, actor, now))
                await uow.commit()
        return certificate

    async def _found(self, uow: CredentialsUnitOfWork, certificate_id: UUID) -> Certificate:
        certificate = await uow.certificates.get(certificate_id)
        if certificate is None:
            raise NotFound(CERTIFICATE_NOT_FOUND)
        return certificate
