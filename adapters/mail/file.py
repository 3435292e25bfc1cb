"""Writes each message to `<dir>/<YYYYMMDDTHHMMSSffffff>Z-<32 hex>.eml`, atomically (temp + rename)."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

import anyio.to_thread

from adapters.mail.render import render
from domain.shared.ports import EmailMessage


class FileMailer:
    def __init__(self, directory: Path, sender: str) -> None:
        self._dir = directory
        self._sender = sender

    async def send(self, message: EmailMessage) -> None:
        data = render(message, self._sender)
        await anyio.to_thread.run_sync(self._write, data)

    def _write(self, data: bytes) -> None:
        self._dir.mkdir(parents=True, exist_ok=True)
        name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}Z-{uuid.uuid4().hex}.eml"
        tmp = self._dir / f".{name}.tmp"
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self._dir / name)
