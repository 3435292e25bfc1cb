"""What files need from outside: the file records (and the shared object store port)."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from domain.files.model import FileType, StoredFile
from domain.shared.pagination import Page, PageParams


class FileRepository(Protocol):
    async def add(self, record: StoredFile) -> None: ...
    async def get(self, file_id: UUID) -> StoredFile | None: ...
    async def delete(self, file_id: UUID) -> None: ...
    async def of_uploader(self, uploader_id: UUID, file_type: FileType | None, params: PageParams) -> Page[StoredFile]:
        """Newest first."""
        ...
