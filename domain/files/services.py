"""File use cases (API §5.10, §7.10): upload, read, download, delete."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from uuid import UUID

from domain.files.model import (
    EMPTY,
    FileType,
    StoredFile,
    attachment,
    check_extension,
    classify,
    clean_folder,
    extension_of,
    mime_type_of,
    original_name,
    stored_name,
)
from domain.files.ports import FileRepository
from domain.identity.model import Role, User
from domain.shared.clock import Clock
from domain.shared.downloads import Served, serve
from domain.shared.errors import Forbidden, InvalidInput, NotFound
from domain.shared.ids import new_id
from domain.shared.pagination import Page, PageParams
from domain.shared.ports import ObjectStorage

FILE_NOT_FOUND = "File not found"
NOT_AUTHORIZED_ACCESS = "Not authorized to access this file"
NOT_AUTHORIZED_DELETE = "Not authorized to delete this file"
GONE = "File no longer exists"


@dataclass(frozen=True, slots=True, kw_only=True)
class Upload:
    """A received file part, already counted (and cut off past the limit) by the driving adapter."""

    filename: str
    size: int
    too_large: bool
    chunks: Callable[[], AsyncIterator[bytes]]  # the received bytes, read again from the start
    folder: str | None = None
    is_public: bool = False


@dataclass(frozen=True, slots=True)
class Download:
    record: StoredFile
    served: Served


@dataclass(slots=True)
class FileService:
    storage: ObjectStorage
    files: FileRepository
    clock: Clock
    max_mb: int = 100
    allowed_extensions: frozenset[str] = frozenset({"mp4", "avi", "mov", "pdf", "doc", "docx", "jpg", "jpeg", "png"})
    url_expire_seconds: int = 900

    async def upload(self, actor: User, upload: Upload, *, file_id: UUID | None = None) -> StoredFile:
        """The checks in API §7.10's order (empty, size, folder, extension); the object is stored
        under a name the server makes, then the record is written. A failure leaves neither.

        `file_id` names the new file when the caller asks for one that is stable across retries of
        the same request: if the file exists already (an earlier run committed) it is the answer,
        and nothing more is stored. Its object's name comes from the id too, so a run that died
        between storing the object and recording it leaves nothing behind once retried."""
        if file_id is not None and (done := await self.files.get(file_id)) is not None:
            if done.uploader_id != actor.id:
                raise Forbidden(NOT_AUTHORIZED_ACCESS)
            return done
        if upload.size == 0:
            raise InvalidInput(EMPTY)
        if upload.too_large:
            raise InvalidInput(f"File too large. Max size is {self.max_mb}MB")
        folder = clean_folder(upload.folder)
        extension = extension_of(upload.filename)
        check_extension(extension, self.allowed_extensions)
        name = stored_name(extension, file_id)
        mime_type = mime_type_of(extension)
        record = StoredFile(
            id=file_id or new_id(),
            uploader_id=actor.id,
            filename=name,
            original_filename=original_name(upload.filename),
            storage_key=f"{folder}/{name}",
            file_type=classify(mime_type, extension),
            mime_type=mime_type,
            file_size=upload.size,
            storage_provider=self.storage.provider,
            is_public=upload.is_public,
            created_at=self.clock.now(),
        )
        await self.storage.put(
            record.storage_key, upload.chunks(), mime_type, disposition=attachment(record.original_filename)
        )
        try:
            await self.files.add(record)
        except BaseException:
            # No orphan object without its record; but a stable id's object may be a record's
            # already (a retry that raced the first run and lost), and then it stays.
            if file_id is None or await self.files.get(file_id) is None:
                await self.storage.delete(record.storage_key)
            raise
        return record

    async def my_files(self, actor: User, file_type: FileType | None, params: PageParams) -> Page[StoredFile]:
        return await self.files.of_uploader(actor.id, file_type, params)

    async def get(self, actor: User, file_id: UUID) -> StoredFile:
        """The uploader and admins; any authenticated user when the file is public."""
        record = await self.files.get(file_id)
        if record is None:
            raise NotFound(FILE_NOT_FOUND)
        if not (record.is_public or record.uploader_id == actor.id or actor.role is Role.ADMIN):
            raise Forbidden(NOT_AUTHORIZED_ACCESS)
        return record

    async def download(self, actor: User, file_id: UUID) -> Download:
        """After the checks of `get`: a signed URL on the cloud stores, else the streamed bytes."""
        record = await self.get(actor, file_id)
        return Download(record, await serve(self.storage, record.storage_key, self.url_expire_seconds, missing=GONE))

    async def delete(self, actor: User, file_id: UUID) -> None:
        """The uploader and admins: the object first, then the record."""
        record = await self.files.get(file_id)
        if record is None:
            raise NotFound(FILE_NOT_FOUND)
        if record.uploader_id != actor.id and actor.role is not Role.ADMIN:
            raise Forbidden(NOT_AUTHORIZED_DELETE)
        await self.storage.delete(record.storage_key)
        await self.files.delete(file_id)
