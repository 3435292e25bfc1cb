"""Sends through an SMTP relay (STARTTLS or implicit TLS); retries come from the job queue."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass

import anyio.to_thread

from adapters.mail.render import to_mime
from domain.shared.ports import EmailMessage


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int = 587
    username: str | None = None
    password: str | None = None
    starttls: bool = True
    ssl: bool = False
    timeout: float = 30.0


class SmtpMailer:
    def __init__(self, config: SmtpConfig, sender: str) -> None:
        self._config = config
        self._sender = sender

    async def send(self, message: EmailMessage) -> None:
        await anyio.to_thread.run_sync(self._send, message)

    def _send(self, message: EmailMessage) -> None:
        cfg = self._config
        context = ssl.create_default_context()
        client: smtplib.SMTP
        if cfg.ssl:
            client = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout, context=context)
        else:
            client = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
        with client:
            if cfg.starttls and not cfg.ssl:
                client.starttls(context=context)
            if cfg.username:
                client.login(cfg.username, cfg.password or "")
            client.send_message(to_mime(message, self._sender))
