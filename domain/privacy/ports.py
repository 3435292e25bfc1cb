"""What personal-data rights need from outside: the personal data itself (every table that holds
a person), the exports' records, and an archive to write."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from domain.identity.ports import UserRepository
from domain.integrations.ports import AuditLog, Outbox
from domain.privacy.model import DataExport, PersonalRecords, StoredObject
from domain.shared.unit_of_work import UnitOfWork


class PersonalData(Protocol):
    async def of_person(self, user_id: UUID) -> PersonalRecords:
        """Every row that holds the person, by table, without secrets (hashes, keys), and their
        stored objects."""
        ...

    async def erase(self, user_id: UUID, now: datetime) -> list[StoredObject]:
        """Remove the person from every table: rows of theirs alone are deleted; rows others rely
        on (grades, aggregates, audit lines, orders) keep the id and lose what else names them.
        Answers the stored objects that were theirs, to delete once this commits."""
        ...


class ExportRepository(Protocol):
    async def add(self, export: DataExport) -> None: ...
    async def get(self, export_id: UUID, *, lock: bool = False) -> DataExport | None: ...
    async def save(self, export: DataExport) -> None: ...
    async def expired(self, now: datetime, limit: int) -> list[DataExport]:
        """Ready exports past their expiry, oldest first."""
        ...

    async def stale(self, created_before: datetime, limit: int) -> list[DataExport]:
        """Exports still pending that were requested before `created_before`."""
        ...

    async def delete(self, export_id: UUID) -> None: ...


class PrivacyUnitOfWork(UnitOfWork, Protocol):
    @property
    def users(self) -> UserRepository: ...
    @property
    def personal_data(self) -> PersonalData: ...
    @property
    def exports(self) -> ExportRepository: ...
    @property
    def outbox(self) -> Outbox: ...
    @property
    def audit(self) -> AuditLog: ...


class PrivacyUnitOfWorkFactory(Protocol):
    def __call__(self) -> PrivacyUnitOfWork: ...


class Archive(Protocol):
    """A ZIP being written: members added one after another, then read back as chunks."""

    def add_bytes(self, name: str, data: bytes) -> None: ...
    def add_json(self, name: str, value: Any) -> None: ...
    async def add_stream(self, name: str, chunks: AsyncIterator[bytes]) -> None: ...
    def chunks(self) -> AsyncIterator[bytes]:
        """The finished archive (closes it for writing)."""
        ...

    def close(self) -> None:
        """Free what the archive holds (its temporary file)."""
        ...


class ArchiveFactory(Protocol):
    def __call__(self) -> Archive: ...
