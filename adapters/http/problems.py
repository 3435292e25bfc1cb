"""RFC 9457 problem details for every error (API §2), and the exception handlers that emit them."""

from __future__ import annotations

import logging
import re
from typing import Any, cast

import msgspec
from litestar import Request, Response
from litestar.exceptions import (
    ClientException,
    HTTPException,
    MethodNotAllowedException,
    NotFoundException,
    SerializationException,
    ValidationException,
)
from litestar.types import ExceptionHandlersMap
from litestar.utils.scope.state import ScopeState

from adapters.http.asgi import Send
from adapters.http.edge import request_id
from adapters.http.validation import member_errors, readable, struct_of
from domain.integrations.context import current_request_id
from domain.shared.errors import (
    VALIDATION_FAILED,
    Conflict,
    DomainError,
    FieldError,
    FieldsInvalid,
    Forbidden,
    InvalidInput,
    NotFound,
    PaymentRequired,
    PreconditionFailed,
    Unauthenticated,
    Unavailable,
)

log = logging.getLogger("lms.http")

PROBLEM_JSON = "application/problem+json"
VALIDATION_TYPE = "urn:lms:problem:validation-error"
VALIDATION_DETAIL = VALIDATION_FAILED

TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    428: "Precondition Required",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class BodyTimeout(ClientException):
    """The client stopped sending its request body (the edge's read timeout)."""

    status_code = 408

    def __init__(self) -> None:
        super().__init__(detail="Request body was not received in time")


_STATUS: list[tuple[type[DomainError], int]] = [
    (InvalidInput, 400),
    (Unauthenticated, 401),
    (PaymentRequired, 402),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (PreconditionFailed, 412),
    (FieldsInvalid, 422),
    (Unavailable, 503),
]


def problem_document(
    status: int, detail: str, errors: list[FieldError] | None = None, extensions: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The RFC 9457 body every error response carries (API §2.1), with a rule's extension members."""
    body: dict[str, Any] = {
        **(extensions or {}),
        "type": VALIDATION_TYPE if errors is not None else "about:blank",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = [{"field": e.field, "message": e.message} for e in errors]
    return body


def problem(
    status: int,
    detail: str,
    *,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
) -> Response[dict[str, Any]]:
    return Response(
        problem_document(status, detail, errors, extensions),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


async def send_problem(send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    """The same problem, sent straight over ASGI by middleware that answers before any route runs."""
    body = msgspec.json.encode(problem_document(status, detail))
    raw = [
        *(headers or []),
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def validation_problem(errors: list[FieldError], detail: str = VALIDATION_DETAIL) -> Response[dict[str, Any]]:
    return problem(422, detail, errors=errors)


def domain_error_handler(_: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    assert isinstance(exc, DomainError)
    if isinstance(exc, FieldsInvalid):
        return validation_problem(exc.errors, exc.detail)
    status = next((code for kind, code in _STATUS if isinstance(exc, kind)), 400)
    headers = None
    if isinstance(exc, Unauthenticated):
        headers = {"WWW-Authenticate": 'Bearer error="invalid_token"' if exc.token_rejected else "Bearer"}
    return problem(status, exc.detail, headers=headers, extensions=exc.extensions)


_MISSING = re.compile(r"missing required field `([^`]+)`")
_INDEX = re.compile(r"\[(\d+)\]")


def _field(source: str, key: str | None, message: str) -> str:
    parts = [source]
    if key and key != "data":
        parts.append(_INDEX.sub(r".\1", key))
    missing = _MISSING.search(message)
    if missing:
        parts.append(missing.group(1))
    return ".".join(parts)


def _body_errors(request: Request[Any, Any, Any]) -> list[FieldError] | None:
    """Every invalid member of the route's JSON body (the decoder stops at the first), or None when
    the body is not one to check member by member."""
    decoded = ScopeState.from_scope(request.scope).json
    parameter = request.route_handler.parsed_fn_signature.parameters.get("data")
    struct = struct_of(parameter.annotation) if parameter is not None else None
    if struct is None or not isinstance(decoded, dict):
        return None
    return member_errors(struct, decoded, "body") or None


def validation_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    assert isinstance(exc, ValidationException)
    is_form = request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    )
    errors: list[FieldError] = []
    extra = exc.extra if isinstance(exc.extra, list) else []
    body_checked = False
    for item in extra:
        if not isinstance(item, dict):
            continue
        raw_source = item.get("source") or "body"
        source = str(getattr(raw_source, "value", raw_source))
        if source == "body" and is_form:
            source = "form"
        if source == "body" and item.get("key") and not body_checked:
            body_checked = True
            if (members := _body_errors(request)) is not None:
                errors += members
                continue
        elif source == "body" and item.get("key") and body_checked:
            continue  # already reported member by member
        message = str(item.get("message", ""))
        errors.append(FieldError(_field(source, item.get("key"), message), readable(message)))
    if not errors:
        missing = _MISSING_PARAMETER.match(str(exc.detail))
        if missing is not None:  # Litestar names a missing parameter only in its sentence
            errors.append(FieldError(f"{missing.group(1)}.{missing.group(2)}", "Field required"))
        else:
            errors.append(FieldError("body", readable(str(exc.detail))))
    return validation_problem(errors)


_MISSING_PARAMETER = re.compile(r"Missing required (query|header|cookie|path) parameter '([^']+)'")


def nesting_error_handler(_: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    """A body nested deeper than the decoder allows is a body that cannot be decoded (API §2.3)."""
    return validation_problem([FieldError("body", "Request body is nested too deeply")])


def serialization_error_handler(_: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    return validation_problem([FieldError("body", "Request body is not valid JSON")])


def http_error_handler(_: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    headers = dict(exc.headers or {})
    if status == 400 and isinstance(exc.__cause__, (msgspec.DecodeError, SerializationException)):
        return serialization_error_handler(_, exc)
    if isinstance(exc, NotFoundException):
        detail = "Not Found"
    elif isinstance(exc, MethodNotAllowedException):
        detail = "Method Not Allowed"
    elif status == 413:
        detail = "Request body too large"
    elif status >= 500:
        log.error("server error: %s", exc.detail, exc_info=exc)
        detail = "Internal server error"
    else:
        detail = exc.detail or TITLES.get(status, "Error")
    return problem(status, detail, headers=headers or None)


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.exception(
        "unhandled error on %s %s (request %s)",
        request.method,
        request.scope.get("path_template", request.url.path),
        current_request_id.get() or request_id(cast(Any, request.scope)),
        exc_info=exc,
    )
    return problem(500, "Internal server error")


def exception_handlers() -> ExceptionHandlersMap:
    return {
        DomainError: domain_error_handler,
        ValidationException: validation_error_handler,
        SerializationException: serialization_error_handler,
        RecursionError: nesting_error_handler,
        HTTPException: http_error_handler,
        Exception: internal_error_handler,
    }
