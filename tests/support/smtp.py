"""A real SMTP server (aiosmtpd) that keeps every message it accepts, and can hold messages before
accepting them: a message whose sender goes away while it is held is never accepted."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiosmtpd.controller import Controller

from tests.support.servers import free_port


class SmtpSink:
    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.refused: list[bytes] = []  # messages read and then refused (`refuse()`)
        self.refusing = False
        self.arrived = 0  # messages whose DATA was read, accepted or not
        self.open = threading.Event()  # cleared: messages wait before they are accepted
        self.open.set()
        self.port = 0

    def hold(self) -> None:
        self.open.clear()

    def release(self) -> None:
        self.open.set()

    def settings(self) -> dict[str, str]:
        """The variables that send the API's and the worker's mail here."""
        return {
            "LMS_EMAIL_BACKEND": "smtp",
            "LMS_SMTP_HOST": "127.0.0.1",
            "LMS_SMTP_PORT": str(self.port),
            "LMS_SMTP_STARTTLS": "false",
        }

    def refuse(self) -> None:
        """Read each message, then answer 554: the sender's job fails (and is retried)."""
        self.refusing = True

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.arrived += 1
        if self.refusing:
            self.refused.append(envelope.original_content or envelope.content)
            return "554 Transaction failed: refused by the test"
        if not self.open.is_set():
            await asyncio.to_thread(self.open.wait)
        if server.transport is None or server.transport.is_closing():
            return "451 sender gone"  # (aiosmtpd usually cancels this handler first)
        self.messages.append(envelope.original_content or envelope.content)
        return "250 OK"


@contextmanager
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()
