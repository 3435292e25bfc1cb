"""Writes each full message to the log: the development default (and the one place secrets are logged)."""

from __future__ import annotations

import logging

from adapters.mail.render import render
from domain.shared.ports import EmailMessage

log = logging.getLogger("lms.mail")


class ConsoleMailer:
    def __init__(self, sender: str) -> None:
        self._sender = sender

    async def send(self, message: EmailMessage) -> None:
        log.info("email\n%s", render(message, self._sender).decode("utf-8"))
