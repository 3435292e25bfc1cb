"""Domain errors: use cases raise these; driving adapters translate them to their protocol."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class DomainError(Exception):
    """Base of every expected failure of a use case; `detail` is safe to show to the caller, and so
    are `extensions`: members the problem body carries beside it (JSON values, API §12)."""

    def __init__(self, detail: str, *, extensions: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions or {}


class InvalidInput(DomainError):
    """The request is well-formed but breaks a business rule (HTTP 400)."""


class Unauthenticated(DomainError):
    """The caller's credentials are missing or rejected (HTTP 401).

    `token_rejected` is true when a presented bearer token itself was refused, which clients
    learn through `WWW-Authenticate: Bearer error="invalid_token"`.
    """

    def __init__(self, detail: str, *, token_rejected: bool = False) -> None:
        super().__init__(detail)
        self.token_rejected = token_rejected


class Forbidden(DomainError):
    """The caller is known but not allowed (HTTP 403)."""


class PaymentRequired(DomainError):
    """The caller must pay before this is theirs (HTTP 402)."""


class NotFound(DomainError):
    """The addressed resource does not exist, or is not visible at all (HTTP 404)."""


class Conflict(DomainError):
    """The change collides with existing state (HTTP 409)."""


class PreconditionFailed(DomainError):
    """The caller's precondition (such as `If-Match`) does not hold for the current state (HTTP 412)."""


class Unavailable(DomainError):
    """A dependency needed to answer safely is down (HTTP 503)."""


@dataclass(frozen=True, slots=True)
class FieldError:
    """One invalid input field; `field` is a dotted path such as `body.lesson_ids`."""

    field: str
    message: str


VALIDATION_FAILED = "Request validation failed"


class FieldsInvalid(DomainError):
    """A business rule that reports like a validation failure (HTTP 422)."""

    def __init__(self, detail: str, errors: list[FieldError]) -> None:
        super().__init__(detail)
        self.errors = errors
