"""Logging: human-readable lines in development and test, JSON lines in production (granian's and
the worker's included); logfire (OpenTelemetry) exports only to a configured destination."""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any

from lms.settings import Settings, unknown_variables

# Attributes a log call may pass with `extra=` that become members of a JSON line.
EXTRA_MEMBERS = ("request_id", "client_ip", "method", "route", "status", "duration_ms", "job", "job_id")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for member in EXTRA_MEMBERS:
            value = getattr(record, member, None)
            if value is not None and value != "":
                entry[member] = value
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
    if settings.is_production and settings.email_backend == "console":
        ours.warning(
            "LMS_EMAIL_BACKEND=console in production: every message, password reset links and sign-in "
            "codes included, is written to the log"
        )
    for warning in unknown_variables(os.environ):
        ours.warning(warning)


def report(settings: Settings, message: str) -> None:
    """A command's progress line on stdout (`lms db upgrade`'s steps): a JSON line in production,
    as every other line there is, else the text."""
    if settings.is_production:
        record = logging.LogRecord("lms.cli", logging.INFO, __file__, 0, message, None, None)
        print(JsonFormatter().format(record), flush=True)
    else:
        print(message, flush=True)


def granian_log_config(settings: Settings) -> dict[str, Any]:
    """granian's own lines (start, workers, shutdown) in the format of ours: JSON in production."""
    formatter = (
        {"()": "lms.logs.JsonFormatter"}
        if settings.is_production
        else {"()": "logging.Formatter", "fmt": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    )
    stream = {"formatter": "lms", "class": "logging.StreamHandler", "stream": "ext://sys.stdout"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"lms": formatter},
        "handlers": {"console": stream, "access": stream},
        "loggers": {
            "_granian": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "granian.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        },
    }


OTLP_ENDPOINTS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def configure_telemetry(settings: Settings) -> bool:
    """Set up logfire (OpenTelemetry). Traces are recorded only when someone reads them: a Logfire
    token sends them to Logfire; the standard `OTEL_EXPORTER_OTLP_ENDPOINT` (or its traces
    variant) sends them to any OpenTelemetry collector, and nothing to Logfire. With neither,
    nothing leaves the machine and the request path pays nothing. Returns whether export is on."""
    import logfire

    from domain.shared.build import version

    to_logfire = bool(settings.logfire_token)
    to_collector = any(os.environ.get(name) for name in OTLP_ENDPOINTS)
    logfire.configure(
        token=settings.logfire_token,
        send_to_logfire=to_logfire,
        console=False,
        service_name="lms",
        service_version=version(),
        environment=settings.environment.value,
        inspect_arguments=False,
    )
    return to_logfire or to_collector
