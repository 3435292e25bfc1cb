"""Reads the `.eml` files written by the file mailer, waiting for background jobs to deliver."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str
    raw: bytes

    def token(self) -> str:
        match = re.search(r"\?token=([A-Za-z0-9._-]+)$", self.body, re.MULTILINE)
        assert match, f"no token link in {self.body!r}"
        return match.group(1)

    def code(self) -> str:
        match = re.search(r"^(\d{6})$", self.body, re.MULTILINE)
        assert match, f"no code line in {self.body!r}"
        return match.group(1)


class Mailbox:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def all(self) -> list[Mail]:
        if not self.directory.exists():
            return []
        mails = []
        for path in sorted(self.directory.glob("*.eml")):
            raw = path.read_bytes()
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            body = msg.get_body(preferencelist=("plain",))
            assert body is not None
            mails.append(
                Mail(
                    to=str(msg["To"]),
                    subject=str(msg["Subject"]),
                    body=body.get_content().replace("\r\n", "\n"),
                    raw=raw,
                )
            )
        return mails

    def find(self, to: str, subject: str) -> list[Mail]:
        return [m for m in self.all() if m.to == to and m.subject == subject]

    async def wait_for(self, to: str, subject: str, *, count: int = 1, timeout: float = 15.0) -> Mail:
        """The newest of at least `count` messages to `to` with `subject`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = self.find(to, subject)
            if len(found) >= count:
                return found[-1]
            if loop.time() > deadline:
                raise AssertionError(
                    f"no {subject!r} mail to {to} after {timeout} s; have {[(m.to, m.subject) for m in self.all()]}"
                )
            await asyncio.sleep(0.02)
