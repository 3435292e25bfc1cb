"""What files need from outside: an object store and the file records."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol
from uuid import UUID

from domain.files.model import FileType, StoredFile
from domain.shared.pagination import Page, PageParams


class ObjectMissing(Exception):
    """The store has no object under the key."""


class ObjectStorage(Protocol):
    """Objects by key. `provider` names the backend as FileResponse does (`local`, `memory`, `s3`,
    `azure`, `gcs`)."""

    @property
    def provider(self) -> str: ...
    async def put(self, key: str, chunks: AsyncIterator[bytes], content_type: str) -> None:
        """Stream the chunks into the object (multipart on the cloud stores)."""
        ...

    async def open(self, key: str) -> AsyncIterator[bytes]:
        """Stream the object; raises ObjectMissing."""
        ...

    async def delete(self, key: str) -> None:
        """A missing object is not an error."""
        ...

    async def signed_url(self, key: str, expires_in: int) -> str | None:
        """A signed GET URL valid for `expires_in` seconds; None for stores the API streams itself."""
        ...

    async def ping(self) -> None: ...


class FileRepository(Protocol):
    async def add(self, record: StoredFile) -> None: ...
    async def get(self, file_id: UUID) -> StoredFile | None: ...
    async def delete(self, file_id: UUID) -> None: ...
    async def of_uploader(self, uploader_id: UUID, file_type: FileType | None, params: PageParams) -> Page[StoredFile]:
        """Newest first."""
        ...
