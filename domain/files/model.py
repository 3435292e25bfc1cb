"""Uploaded files and the pure rules of API §7.10: folders, extensions, stored names, classification."""

from __future__ import annotations

import enum
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
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
    """The client's filename with any path stripped."""
    return raw.replace("\\", "/").rsplit("/", 1)[-1]


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


def classify(mime_type: str, extension: str) -> FileType:
    """The first matching rule wins (API §7.10)."""
    if mime_type.startswith("video/") or extension in ("mp4", "avi", "mov"):
        return FileType.VIDEO
    if mime_type.startswith("image/") or extension in ("jpg", "jpeg", "png"):
        return FileType.IMAGE
    if mime_type in ("application/pdf", "application/msword") or extension in ("pdf", "doc", "docx"):
        return FileType.DOCUMENT
    return FileType.OTHER
