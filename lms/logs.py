"""Logging: human-readable lines in development and test, JSON lines in production; logfire
(OpenTelemetry) exports only when a token is configured."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from lms.settings import Settings


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            entry["request_id"] = request_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None)
        return f"{line} [{request_id}]" if request_id else line


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler(sys.stdout)
    if settings.is_production:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    # One handler on the root logger, so third-party lines (granian, SAQ, alembic) share the format;
    # our own loggers follow LMS_LOG_LEVEL, libraries speak from WARNING up.
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    # WeasyPrint and fontTools report font-subsetting choices at WARNING on every PDF.
    for noisy in ("weasyprint", "fontTools"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    ours = logging.getLogger("lms")
    ours.setLevel(settings.log_level)
    if settings.secret_key_generated:
        ours.warning("LMS_SECRET_KEY is not set: using a random key; tokens will not survive a restart")


def configure_telemetry(settings: Settings) -> bool:
    """Set up logfire. Without a token nothing leaves the machine and no spans are recorded, so
    the request path pays nothing for telemetry nobody reads. Returns whether export is on."""
    import logfire

    exporting = bool(settings.logfire_token)
    logfire.configure(
        token=settings.logfire_token,
        send_to_logfire=exporting,
        console=False,
        service_name="lms",
        environment=settings.environment.value,
        inspect_arguments=False,
    )
    return exporting
