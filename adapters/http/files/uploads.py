"""A streaming multipart/form-data reader for uploads: the file part goes to a temporary file as it
arrives (memory stays flat), and reading stops as soon as the size limit is passed."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import anyio.to_thread
from litestar import Request
from multipart import MultipartError, MultipartSegment, PushMultipartParser, parse_options_header

from adapters.http.problems import VALIDATION_DETAIL
from domain.files.services import Upload
from domain.shared.errors import FieldError, FieldsInvalid

CHUNK = 1024 * 1024
_TRUE = {"true", "1"}
_FALSE = {"false", "0"}


def _invalid(field_name: str, message: str) -> FieldsInvalid:
    return FieldsInvalid(VALIDATION_DETAIL, [FieldError(field_name, message)])


@dataclass
class ReceivedForm:
    """The upload form as received; `close()` removes the temporary file."""

    path: str | None = None
    filename: str = ""
    size: int = 0
    too_large: bool = False
    fields: dict[str, str] = field(default_factory=dict)

    def upload(self) -> Upload:
        raw_public = self.fields.get("is_public", "false").strip().lower()
        if raw_public not in _TRUE | _FALSE:
            raise _invalid("form.is_public", "Must be true, false, 1 or 0")
        return Upload(
            filename=self.filename,
            size=self.size,
            too_large=self.too_large,
            chunks=self._chunks,
            folder=self.fields.get("folder"),
            is_public=raw_public in _TRUE,
        )

    async def _chunks(self) -> AsyncIterator[bytes]:
        assert self.path is not None
        handle = await anyio.to_thread.run_sync(open, self.path, "rb")
        try:
            while chunk := await anyio.to_thread.run_sync(handle.read, CHUNK):
                yield chunk
        finally:
            handle.close()

    def close(self) -> None:
        if self.path is not None:
            os.unlink(self.path)
            self.path = None


async def receive_upload(request: Request[Any, Any, Any], max_bytes: int) -> ReceivedForm:
    """Parse the form as it streams in. Exactly one `file` part is required (422 on `form.file`);
    text parts are small. Past `max_bytes` of file the reading stops (`too_large`)."""
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    if content_type != "multipart/form-data" or not options.get("boundary"):
        raise _invalid("form", "Expected a multipart/form-data body")
    form = ReceivedForm()
    handle: BinaryIO | None = None
    current: MultipartSegment | None = None
    text = bytearray()
    files = 0
    try:
        # Closed only once the whole body was read: past the size limit it is simply abandoned.
        parser = PushMultipartParser(options["boundary"], max_segment_count=20)
        async for chunk in request.stream():
            for event in parser.parse(chunk):
                if isinstance(event, MultipartSegment):
                    current = event
                    if event.name == "file" and event.filename is not None:
                        files += 1
                        if files > 1:
                            raise _invalid("form.file", "Send exactly one file")
                        fd, form.path = tempfile.mkstemp(prefix="lms-upload-")
                        handle = os.fdopen(fd, "wb")
                        form.filename = event.filename  # the stored type comes from its extension
                elif event is None:
                    if current is not None and handle is None and current.name:
                        form.fields[current.name] = text.decode("utf-8", "replace")
                    text.clear()
                    if handle is not None:
                        handle.close()
                        handle = None
                    current = None
                elif handle is not None:
                    form.size += len(event)
                    if form.size > max_bytes:
                        form.too_large = True
                        return form  # stop reading: the rest of the body is never received
                    await anyio.to_thread.run_sync(handle.write, event)
                elif len(text) + len(event) <= 4096:
                    text.extend(event)
                else:
                    raise _invalid(f"form.{current.name if current else 'form'}", "Too long")
            if parser.closed:
                break
        parser.close()  # a body that ended early is malformed
    except MultipartError as exc:
        form.close()
        raise _invalid("form", f"Malformed multipart body: {exc}") from None
    except BaseException:
        form.close()
        raise
    finally:
        if handle is not None:
            handle.close()
    if form.path is None:
        raise _invalid("form.file", "A file part is required")
    return form
