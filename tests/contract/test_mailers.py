"""The mailer port: console, file and SMTP render the same RFC 5322 message (API §8.3)."""

from __future__ import annotations

import email
import email.policy
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.mail.console import ConsoleMailer
from adapters.mail.file import FileMailer
from adapters.mail.smtp import SmtpConfig, SmtpMailer
from domain.shared.ports import EmailMessage
from tests.support.servers import free_port
from tests.support.smtp import SmtpSink
from tests.support.smtp import smtp_sink as sink_server

LINK = "http://localhost:3000/reset-password?token=" + "x" * 300
MESSAGE = EmailMessage(to="zoë@example.com", subject="Reset your password", body=f"Hello Zoë,\n\n{LINK}\n\n123456\n")


def check_raw(raw: bytes) -> None:
    text = raw.decode("utf-8")
    assert LINK in text.splitlines()  # never folded or encoded
    assert re.search(r"^123456\r?$", text, re.MULTILINE)
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Subject"] == "Reset your password"
    assert msg["Content-Transfer-Encoding"] == "8bit"
    assert msg.get_content_charset() == "utf-8"


@pytest.fixture
def smtp_sink() -> Iterator[tuple[SmtpSink, int]]:
    with sink_server() as sink:
        yield sink, sink.port


async def test_file_mailer_writes_one_eml_per_message(tmp_path: Path) -> None:
    mailer = FileMailer(tmp_path / "mail", "no-reply@lms.local")
    await mailer.send(MESSAGE)
    await mailer.send(MESSAGE)
    files = sorted((tmp_path / "mail").iterdir())
    assert len(files) == 2
    for f in files:
        assert re.fullmatch(r"\d{8}T\d{12}Z-[0-9a-f]{32}\.eml", f.name)
        check_raw(f.read_bytes())
    assert files[0].name < files[1].name


async def test_console_mailer_logs_the_full_message(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="lms.mail")
    await ConsoleMailer("no-reply@lms.local").send(MESSAGE)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Subject: Reset your password" in logged
    assert LINK in logged


async def test_smtp_mailer_delivers(smtp_sink: tuple[SmtpSink, int]) -> None:
    sink, port = smtp_sink
    mailer = SmtpMailer(SmtpConfig(host="127.0.0.1", port=port, starttls=False), "no-reply@lms.local")
    await mailer.send(MESSAGE)
    assert len(sink.messages) == 1
    check_raw(sink.messages[0])


async def test_smtp_failure_raises_so_the_queue_retries() -> None:
    mailer = SmtpMailer(SmtpConfig(host="127.0.0.1", port=free_port(), starttls=False, timeout=1), "a@b.c")
    with pytest.raises(OSError):  # noqa: PT011 (refused connection: the errno varies)
        await mailer.send(MESSAGE)
