"""A ZIP written into a temporary file (memory up to 8 MiB, then disk), members streamed in and
the result streamed out: an export of any size never sits whole in memory."""

from __future__ import annotations

import json
import tempfile
import zipfile
from collections.abc import AsyncIterator
from typing import Any

SPOOL_BYTES = 8 * 1024 * 1024
CHUNK = 256 * 1024


class ZipArchive:
    def __init__(self) -> None:
        self._file = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115  (closed by close())
        self._zip: zipfile.ZipFile | None = zipfile.ZipFile(self._file, "w", compression=zipfile.ZIP_DEFLATED)

    def _open(self) -> zipfile.ZipFile:
        if self._zip is None:
            raise ValueError("the archive is finished")
        return self._zip

    def add_bytes(self, name: str, data: bytes) -> None:
        self._open().writestr(name, data)

    def add_json(self, name: str, value: Any) -> None:
        self.add_bytes(name, json.dumps(value, ensure_ascii=False, indent=2).encode())

    async def add_stream(self, name: str, chunks: AsyncIterator[bytes]) -> None:
        with self._open().open(name, "w", force_zip64=True) as member:
            async for chunk in chunks:
                member.write(chunk)

    async def chunks(self) -> AsyncIterator[bytes]:
        self._open().close()
        self._zip = None
        self._file.seek(0)
        while chunk := self._file.read(CHUNK):
            yield chunk

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
            self._zip = None
        self._file.close()
