"""Uploaded files and the pure rules of API §7.10: folders, extensions, stored names, classification."""

from __future__ import annotations

import enum
import mimetypes
import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote
from uuid import UUID

from domain.shared.errors import InvalidInput

DEFAULT_FOLDER = "uploads"
_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")
INVALID_FOLDER = "Invalid folder path"
UNSUPPORTED_FOLDER = "Folder path contains unsupported characters"
EMPTY = "Uploaded file is empty"


class FileType(enum.StrEnum):
    VIDEO = "video"
    IMAGE = "image"
    DOCUMENT = "document"
    OTHER = "other"


@dataclass(slots=True, kw_only=True)
class StoredFile:
    id: UUID
    uploader_id: UUID
    filename: str  # the stored name: never client input
    original_filename: str
    storage_key: str
    file_type: FileType
    mime_type: str
    file_size: int
    storage_provider: str
    is_public: bool
    created_at: datetime

    @property
    def file_url(self) -> str:
        return f"/api/v1/files/download/{self.id}"


def clean_folder(raw: str | None) -> str:
    """API §7.10's folder sanitising: `uploads` when nothing usable is left."""
    text = (raw or "").replace("\\", "/")
    if not text.strip():
        return DEFAULT_FOLDER
    if text.startswith("/"):
        raise InvalidInput(INVALID_FOLDER)
    segments = [s for s in text.split("/") if s not in ("", ".")]
    if ".." in segments:
        raise InvalidInput(INVALID_FOLDER)
    if any(not _SEGMENT.fullmatch(s) for s in segments):
        raise InvalidInput(UNSUPPORTED_FOLDER)
    return "/".join(segments) or DEFAULT_FOLDER


def original_name(raw: str) -> str:
    """The client's filename with any path stripped, and without control and format characters
    (CR/LF would split the `Content-Disposition` of every later download; NUL cannot be stored;
    a right-to-left override disguises an extension)."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf"))


def extension_of(filename: str) -> str:
    name = original_name(filename)
    return name.rsplit(".", 1)[1].lower() if "." in name else ""


def check_extension(extension: str, allowed: frozenset[str]) -> None:
    if extension not in allowed:
        raise InvalidInput(f"File extension '.{extension}' is not allowed")


def stored_name(extension: str, file_id: uuid.UUID | None = None) -> str:
    """A fresh random name, or the one a file of a stable id always gets (so that a retry writes
    over the object of a run that died before recording it, instead of leaving it behind)."""
    return f"{(file_id or uuid.uuid4()).hex}.{extension}"


# The type each default extension is stored and served with, whatever the client claimed.
MIME_TYPES = {
    "mp4": "video/mp4",
    "avi": "video/x-msvideo",
    "mov": "video/quicktime",
    "pdf": "application/pdf",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
}
OCTET_STREAM = "application/octet-stream"
# Types a browser would run or render as a page: never served as such, whatever is allowed.
_ACTIVE = re.compile(r"^(text/html|application/xhtml\+xml|image/svg\+xml|.*xml|.*javascript|.*ecmascript)$")


def mime_type_of(extension: str) -> str:
    """The stored type comes from the (allowed) extension, never from the client's
    `Content-Type`, so an upload cannot be served back as HTML or SVG from the store's domain."""
    found = MIME_TYPES.get(extension) or mimetypes.types_map.get(f".{extension}") or OCTET_STREAM
    return OCTET_STREAM if _ACTIVE.match(found) else found


def attachment(filename: str) -> str:
    """`Content-Disposition: attachment` naming the file: an ASCII `filename` and, for other names,
    RFC 6266's `filename*`."""
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "'").replace("\\", "_")
    value = f'attachment; filename="{ascii_name}"'
    if ascii_name != filename:
        value += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return value


def classify(mime_type: str, extension: str) -> FileType:
    """The first matching rule wins (API §7.10)."""
    if mime_type.startswith("video/") or extension in ("mp4", "avi", "mov"):
        return FileType.VIDEO
    if mime_type.startswith("image/") or extension in ("jpg", "jpeg", "png"):
        return FileType.IMAGE
    if mime_type in ("application/pdf", "application/msword") or extension in ("pdf", "doc", "docx"):
        return FileType.DOCUMENT
    return FileType.OTHER
