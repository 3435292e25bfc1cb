"""The request being served, for the audit log: set by the driving adapter for each request."""

from __future__ import annotations

from contextvars import ContextVar

# The request id (API §1.7) of the request being served; None outside requests (CLI, jobs).
current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)
