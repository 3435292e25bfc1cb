"""The certificate repository on one AsyncSession."""

from __future__ import annotations

from typing import cast
from uuid import UUID

from sqlalchemy import Table, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sql.mappers import entity_from_row, row_values
from adapters.sql.models import CREDENTIAL_STATUS_ENTRIES, CertificateRow
from adapters.sql.paging import page_in
from adapters.sql.statements import first_row, insert_ignoring_conflicts
from domain.credentials.model import Certificate
from domain.credentials.ports import NumberTaken
from domain.shared.pagination import Page, PageParams

CERTIFICATES = cast(Table, CertificateRow.__table__)
ENTRIES = CREDENTIAL_STATUS_ENTRIES


def certificate_from_row(row: object) -> Certificate:
    return entity_from_row(Certificate, row)


class SqlCertificateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add_if_absent(self, certificate: Certificate) -> bool:
        statement = insert_ignoring_conflicts(self._s, CERTIFICATES, on=["enrollment_id"])
        try:
            # A savepoint: a number collision must leave the transaction usable for another try.
            async with self._s.begin_nested():
                result = await self._s.execute(statement.values(**row_values(certificate)).returning(CERTIFICATES.c.id))
                return result.first() is not None
        except IntegrityError:
            raise NumberTaken(certificate.certificate_number) from None

    async def get(self, certificate_id: UUID, *, lock: bool = False) -> Certificate | None:
        condition = CERTIFICATES.c.id == certificate_id
        row = await first_row(self._s, CERTIFICATES, condition, lock=lock)
        return certificate_from_row(row) if row else None

    async def of_enrollment(self, enrollment_id: UUID) -> Certificate | None:
        query = select(CERTIFICATES).where(CERTIFICATES.c.enrollment_id == enrollment_id)
        row = (await self._s.execute(query)).first()
        return certificate_from_row(row) if row else None

    async def by_number(self, number: str) -> Certificate | None:
        query = select(CERTIFICATES).where(CERTIFICATES.c.certificate_number == number)
        row = (await self._s.execute(query)).first()
        return certificate_from_row(row) if row else None

    async def of_student(self, student_id: UUID, params: PageParams) -> Page[Certificate]:
        query = (
            select(CERTIFICATES)
            .where(CERTIFICATES.c.student_id == student_id, CERTIFICATES.c.is_revoked.is_(False))
            .order_by(CERTIFICATES.c.issued_at.desc(), CERTIFICATES.c.id.desc())
        )
        return await page_in(self._s, query, params, certificate_from_row)

    async def save(self, certificate: Certificate) -> None:
        values = {"is_revoked": certificate.is_revoked, "revoked_at": certificate.revoked_at}
        await self._s.execute(update(CERTIFICATES).where(CERTIFICATES.c.id == certificate.id).values(**values))

    # Status list entries: the table numbers from 1, the lists' indexes from 0.

    async def status_index(self, certificate_id: UUID) -> int:
        statement = insert_ignoring_conflicts(self._s, ENTRIES, on=["certificate_id"])
        await self._s.execute(statement.values(certificate_id=certificate_id))
        query = select(ENTRIES.c.status_index).where(ENTRIES.c.certificate_id == certificate_id)
        return int((await self._s.execute(query)).scalar_one()) - 1

    async def revoked_status_indexes(self, first: int, stop: int) -> list[int]:
        query = (
            select(ENTRIES.c.status_index)
            .join(CERTIFICATES, CERTIFICATES.c.id == ENTRIES.c.certificate_id)
            .where(
                CERTIFICATES.c.is_revoked.is_(True),
                ENTRIES.c.status_index > first,
                ENTRIES.c.status_index <= stop,
            )
        )
        return [number - 1 for number in (await self._s.execute(query)).scalars()]

    async def status_indexes_given(self) -> int:
        return int((await self._s.execute(select(func.coalesce(func.max(ENTRIES.c.status_index), 0)))).scalar_one())
