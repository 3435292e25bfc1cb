"""`/api/v1/files`: uploads, the caller's files, downloads and deletion (API §5.10)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import QueryParameter

from adapters.http.bodies import response_of
from adapters.http.downloads import SIGNED_REDIRECT, download_response
from adapters.http.files.uploads import receive_upload
from adapters.http.idempotency import stable_id
from adapters.http.openapi import errors
from adapters.http.pagination import PageResponse, page_response
from adapters.http.security import BEARER, UuidPath, authenticated, files_of, parse_uuid
from domain.files.model import FileType, StoredFile, attachment
from domain.identity.model import Principal
from domain.shared.pagination import PageParams


class FileResponse(msgspec.Struct, kw_only=True):
    id: UUID
    filename: str
    original_filename: str
    file_url: str
    file_type: FileType
    mime_type: str
    file_size: int
    storage_provider: str
    is_public: bool
    created_at: datetime

    @classmethod
    def of(cls, record: StoredFile) -> FileResponse:
        return response_of(cls, record)


class FilesController(Controller):
    path = "/files"
    tags = ["files"]
    guards = [authenticated]
    security = BEARER

    @post(
        "/upload",
        operation_id="upload_file",
        status_code=201,
        request_max_body_size=None,  # streamed and bounded by LMS_MAX_UPLOAD_MB while it is read
        responses=errors(400, 401, 422, 429),
    )
    async def upload(self, *, request: Request[Any, Any, Any], principal: NamedDependency[Principal]) -> FileResponse:
        """Upload one file as `multipart/form-data`: a `file` part, and optionally `folder` (default
        `uploads`) and `is_public` (`true`/`false`). The body is streamed to storage, never held whole."""
        service = files_of(request)
        form = await receive_upload(request, service.max_mb * 1024 * 1024)
        try:
            record = await service.upload(principal.user, form.upload(), file_id=stable_id(request.scope))
        finally:
            form.close()
        return FileResponse.of(record)

    @get("/my-files", operation_id="list_my_files", responses=errors(401, 422, 429))
    async def my_files(
        self,
        *,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        paging: NamedDependency[PageParams],
        file_type: Annotated[FileType | None, QueryParameter(description="Only files of this kind")] = None,
    ) -> Response[PageResponse[FileResponse]]:
        """The caller's uploads, newest first."""
        page = await files_of(request).my_files(principal.user, file_type, paging)
        return page_response(request, page, FileResponse.of)

    @get(
        "/download/{file_id:str}",
        operation_id="download_file",
        responses={
            200: ResponseSpec(data_container=bytes, media_type="application/octet-stream", description="The bytes"),
            307: SIGNED_REDIRECT,
            **errors(401, 403, 404, 422, 429),
        },
    )
    async def download(
        self, *, request: Request[Any, Any, Any], file_id: UuidPath, principal: NamedDependency[Principal]
    ) -> Response[Any]:
        """The file (its uploader, admins; any authenticated user when it is public): streamed from
        local and memory storage, a redirect to a signed URL from the cloud stores."""
        found = await files_of(request).download(principal.user, parse_uuid("file_id", file_id))
        return download_response(
            found.served,
            media_type=found.record.mime_type,
            headers={
                "Content-Length": str(found.record.file_size),
                "Content-Disposition": attachment(found.record.original_filename),
            },
        )

    @get("/{file_id:str}", operation_id="get_file", responses=errors(401, 403, 404, 422, 429))
    async def get_file(
        self, *, request: Request[Any, Any, Any], file_id: UuidPath, principal: NamedDependency[Principal]
    ) -> FileResponse:
        """One file's record (its uploader, admins; any authenticated user when it is public)."""
        return FileResponse.of(await files_of(request).get(principal.user, parse_uuid("file_id", file_id)))

    @delete("/{file_id:str}", operation_id="delete_file", responses=errors(401, 403, 404, 422, 429))
    async def delete_file(
        self, *, request: Request[Any, Any, Any], file_id: UuidPath, principal: NamedDependency[Principal]
    ) -> None:
        """Delete a file (its uploader, admins): the stored object, then the record."""
        await files_of(request).delete(principal.user, parse_uuid("file_id", file_id))
