"""The OpenAPI document as linters and SDK generators need it, finished once the app is built.

Litestar writes the operations; this fills in what it cannot know: the headers every response
may carry (declared once, as components), the problems any operation may answer (413, 503),
binary downloads, clean names for page schemas, summaries and tag descriptions, who needs no
token, the OAuth2 password flow of `/auth/token`, and the webhook payloads (OpenAPI 3.1
`webhooks`). It works on the document as served (a JSON object), so each step is plain data.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import msgspec
from litestar import Litestar
from litestar._openapi.plugin import OpenAPIPlugin
from litestar.openapi.spec import OpenAPI

from adapters.http.problems import TITLES
from adapters.http.ratelimit import EXEMPT_EXACT
from adapters.http.scopes import NOT_WITH_KEYS, scope_for

Document = dict[str, Any]
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
PROBLEM = "#/components/schemas/Problem"

# ----- headers, declared once -----

_INTEGER = {"type": "integer", "minimum": 0}
HEADERS: dict[str, dict[str, Any]] = {
    "ETag": {"description": "Strong entity tag of this representation", "schema": {"type": "string"}},
    "Link": {
        "description": "RFC 8288 links to the `first`, `prev`, `next` and `last` pages",
        "schema": {"type": "string"},
    },
    "Location": {
        "description": "Where the created resource lives (201), or where to go next (a redirect)",
        "schema": {"type": "string", "format": "uri-reference"},
    },
    "WWW-Authenticate": {
        "description": '`Bearer error="invalid_token"` when a sent token was refused, else `Bearer`',
        "schema": {"type": "string"},
    },
    "Retry-After": {"description": "Seconds to wait before trying again", "schema": _INTEGER},
    "RateLimit-Limit": {"description": "Requests allowed in the window", "schema": _INTEGER},
    "RateLimit-Remaining": {"description": "Requests left in the window", "schema": _INTEGER},
    "RateLimit-Reset": {"description": "Seconds until the window resets", "schema": _INTEGER},
    "X-RateLimit-Limit": {"description": "Requests allowed in the window", "schema": _INTEGER},
    "X-RateLimit-Remaining": {"description": "Requests left in the window", "schema": _INTEGER},
    "X-RateLimit-Reset": {"description": "When the window resets, in Unix seconds", "schema": _INTEGER},
    "X-Request-ID": {
        "description": "The request's id (yours when well-formed, else one the server made), also in its log lines",
        "schema": {"type": "string"},
    },
    "Idempotency-Replayed": {
        "description": "Present when this is the stored answer to an earlier request with the same Idempotency-Key",
        "schema": {"type": "string", "enum": ["true"]},
    },
}
RATE_LIMIT = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "X-RateLimit-Limit",
              "X-RateLimit-Remaining", "X-RateLimit-Reset")  # fmt: skip
# The routes that answer a create with `Location`.
LOCATED = frozenset({"create_course", "create_lesson", "enroll"})


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


# ----- problems -----

PROBLEM_DESCRIPTIONS = {
    400: "A business rule refused the request, or the `Host` is not trusted (`Invalid host header`)",
    401: "Missing, invalid, expired or revoked credentials",
    402: "The course is paid: order it at `order_url` first",
    403: "The caller may not do this",
    404: "No such resource",
    409: "The change conflicts with the current state",
    412: "The resource changed since it was read (`If-Match`)",
    413: "The request body is too large",
    415: "The body is not of the media type the route takes",
    422: "Request validation failed: `errors` names each invalid field",
    429: "Too many requests: wait `Retry-After` seconds",
    503: "A dependency the request needs is unavailable (the database, Redis in production, the object store)",
}
PROBLEM_EXAMPLES = {
    400: "Invalid host header",
    401: "Not authenticated",
    402: "This course is paid: order it first",
    403: "Not authorized to perform this action",
    404: "Course not found",
    409: "Email is already registered",
    412: "Precondition failed: the resource has changed",
    413: "Request body too large",
    415: "Send the roster as text/csv",
    422: "Request validation failed",
    429: "Rate limit exceeded. Try again later.",
    503: "Database unavailable",
}


def _problem_example(status: int) -> dict[str, Any]:
    example: dict[str, Any] = {
        "type": "about:blank",
        "title": TITLES[status],
        "status": status,
        "detail": PROBLEM_EXAMPLES[status],
    }
    if status == 422:
        example["type"] = "urn:lms:problem:validation-error"
        example["errors"] = [{"field": "body.email", "message": "Must be a valid email address"}]
    return example


def problem_response(status: int) -> dict[str, Any]:
    return {
        "description": PROBLEM_DESCRIPTIONS[status],
        "content": {"application/problem+json": {"schema": {"$ref": PROBLEM}, "example": _problem_example(status)}},
    }


# ----- summaries and tags -----

TAGS = {
    "system": "Service banner, liveness and readiness probes",
    "auth": "Registration, sign-in, tokens, passwords, email verification and multi-factor authentication",
    "users": "Your profile, and user administration (admins)",
    "api-keys": "Keys for integrations: scoped, shown once, revocable (instructors and admins)",
    "courses": "The catalog: courses and their lessons",
    "lessons": "One lesson: read, change, delete",
    "enrollments": "Enrolling, progress through lessons, reviews, and a course's enrollments (managers)",
    "orders": "Buying paid courses: orders, the buyer's return from checkout, refunds (admins)",
    "coupons": "Coupons: a percentage or an amount off, per course or for every course",
    "payments": "The payment provider's signed events (Stripe's webhook endpoint)",
    "quizzes": "Quizzes and their questions (managers write; students read published ones)",
    "notifications": "Your inbox of notifications, and which kinds reach you by email and in the app",
    "question-banks": "Question banks: questions quizzes draw from at random, per attempt (managers)",
    "attempts": "Taking quizzes: attempts, the take view, submitting and grading",
    "assignments": "Assignments: work students hand in (managers write; students read published ones)",
    "submissions": "Handing work in to assignments, and grading it or returning it for revision",
    "grading": "The grading queue, the gradebook (JSON and CSV) and an enrollment's grades",
    "certificates": "Certificates of completion: issue, read, download, verify, revoke",
    "files": "Uploads and downloads",
    "analytics": "Progress figures for students, course and instructor analytics, the system overview",
    "webhooks": "Webhook deliveries (admins); the payloads themselves are under `webhooks`",
}
SUMMARIES = {
    "service_banner": "Service banner",
    "health": "Liveness probe",
    "readiness": "Readiness probe",
    "auth_me": "Get the signed-in user",
    "token": "Sign in with the OAuth2 password grant",
    "login": "Sign in",
    "login_mfa": "Finish a sign-in with its MFA code",
    "login_mfa_alias": "Finish a sign-in with its MFA code (alias)",
    "refresh": "Rotate a refresh token",
    "logout": "Sign out (revoke this sign-in's tokens)",
    "enroll": "Enroll in a course",
    "register": "Register an account",
    "get_quiz_to_take": "Get a quiz to take (questions without answers)",
    "list_quiz_questions_for_managers": "List a quiz's questions with their answers (managers)",
}
_WORDS = {"mfa": "MFA", "totp": "TOTP", "my": "my"}


def summary_of(operation_id: str) -> str:
    """A summary from the operation id (`list_my_files` → "List my files"), unless written out."""
    if operation_id in SUMMARIES:
        return SUMMARIES[operation_id]
    words = [_WORDS.get(word, word) for word in operation_id.split("_")]
    return " ".join(words)[:1].upper() + " ".join(words)[1:]


# ----- webhooks -----

WEBHOOK_EVENTS: dict[str, tuple[type[msgspec.Struct], str]] = {}


def webhook_event(event_type: str, description: str) -> Callable[[type[msgspec.Struct]], type[msgspec.Struct]]:
    """Register the Struct that documents an event's `data` (API §9.1)."""

    def register(struct: type[msgspec.Struct]) -> type[msgspec.Struct]:
        WEBHOOK_EVENTS[event_type] = (struct, description)
        return struct

    return register


def _webhooks(document: Document) -> None:
    schemas = document["components"]["schemas"]
    refs = "#/components/schemas/{name}"
    structs = [struct for struct, _ in WEBHOOK_EVENTS.values()]
    _, components = msgspec.json.schema_components(structs, ref_template=refs)
    for struct in structs:  # msgspec leaves times as plain strings
        for field in msgspec.structs.fields(struct):
            if field.type is datetime:
                components[struct.__name__]["properties"][field.encode_name]["format"] = "date-time"
    schemas.update(components)
    signature_headers = {
        "webhook-id": "The event id: the same on every retry and every target; drop duplicates by it",
        "webhook-timestamp": "When this attempt was made, in Unix seconds",
        "webhook-signature": '`v1,<base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}">`',
    }
    hooks: dict[str, Any] = {}
    for event_type, (struct, description) in sorted(WEBHOOK_EVENTS.items()):
        name = "".join(part.capitalize() for part in re.split(r"[._]", event_type)) + "Event"
        schemas[name] = {
            "type": "object",
            "title": name,
            "required": ["id", "type", "timestamp", "data"],
            "properties": {
                "id": {"type": "string", "format": "uuid", "description": "The event id"},
                "type": {"type": "string", "const": event_type},
                "timestamp": {"type": "string", "format": "date-time", "description": "When the change committed"},
                "data": {"$ref": refs.format(name=struct.__name__)},
            },
        }
        hooks[event_type] = {
            "post": {
                "operationId": f"webhook_{event_type.replace('.', '_')}",
                "summary": f"The `{event_type}` event",
                "description": f"{description} Sent to every URL of `LMS_WEBHOOK_URLS`; see API §9.",
                "tags": ["webhooks"],
                "security": [],
                "parameters": [
                    {
                        "name": header,
                        "in": "header",
                        "required": True,
                        "schema": {"type": "string"},
                        "description": text,
                    }
                    for header, text in signature_headers.items()
                ],
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("schemas", name)}}},
                "responses": {
                    "200": {"description": "Any 2xx within 5 s acknowledges the delivery"},
                    "410": {"description": "Gone: the delivery is not retried"},
                },
            }
        }
    document["webhooks"] = hooks


# ----- the steps -----


def _operations(document: Document) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            if isinstance(item.get(method), dict):
                yield path, method, item[method]


def _rename_pages(document: Document) -> None:
    """`PageResponse_adapters.http.catalog.schemas.CourseResponse_` → `CoursePage`."""
    schemas = document["components"]["schemas"]
    renames: dict[str, str] = {}
    for name in list(schemas):
        found = re.fullmatch(r"PageResponse_(?:[\w]+\.)*(\w+?)(?:Response|ListItem)?_", name)
        if found:
            renames[name] = f"{found.group(1)}Page"
    if len(set(renames.values())) != len(renames):
        raise ValueError(f"page schema names collide: {renames}")
    for old, new in renames.items():
        schemas[new] = schemas.pop(old)
        schemas[new]["title"] = new
    targets = {f"#/components/schemas/{old}": f"#/components/schemas/{new}" for old, new in renames.items()}

    def retarget(node: dict[str, Any]) -> None:
        if isinstance(node.get("$ref"), str) and node["$ref"] in targets:
            node["$ref"] = targets[node["$ref"]]

    _each_object(document, retarget)


def _each_object(node: Any, visit: Callable[[dict[str, Any]], None]) -> None:
    """Call `visit` on every JSON object in `node`, outermost first."""
    if isinstance(node, dict):
        visit(node)
        for value in list(node.values()):
            _each_object(value, visit)
    elif isinstance(node, list):
        for value in node:
            _each_object(value, visit)


def _headers_and_problems(document: Document) -> None:
    document["components"]["headers"] = copy.deepcopy(HEADERS)
    for path, _, operation in _operations(document):
        responses: dict[str, Any] = operation.setdefault("responses", {})
        limited = path.rstrip("/") not in EXEMPT_EXACT and not path.startswith("/schema")
        if "requestBody" in operation:
            responses.setdefault("413", problem_response(413))
        if path.startswith("/api/v1/") and path not in ("/api/v1/health",):
            responses.setdefault("503", problem_response(503))
        if "400" not in responses:
            responses["400"] = problem_response(400)
        for status, response in responses.items():
            if "$ref" in response:
                continue
            code = int(status) if status.isdigit() else 0
            content = response.get("content", {})
            if "application/problem+json" in content:
                response["description"] = PROBLEM_DESCRIPTIONS.get(code, response.get("description", ""))
                media = content["application/problem+json"]
                if code in PROBLEM_EXAMPLES:
                    media.pop("examples", None)
                    media["example"] = _problem_example(code)
            headers = response.setdefault("headers", {})
            if "ETag" in headers:
                headers["ETag"] = _ref("headers", "ETag")
            if "Idempotency-Replayed" in headers:
                headers["Idempotency-Replayed"] = _ref("headers", "Idempotency-Replayed")
            if code == 200 and _is_page(document, content):
                headers["Link"] = _ref("headers", "Link")
            if code == 201 and operation.get("operationId") in LOCATED:
                headers["Location"] = _ref("headers", "Location")
            if 300 <= code < 400:  # a redirect (single sign-on) names where to go
                headers.pop("location", None)
                headers["Location"] = _ref("headers", "Location")
            if code == 401:
                headers["WWW-Authenticate"] = _ref("headers", "WWW-Authenticate")
            if code == 429 or "Retry-After" in headers:  # 429, and 409 while an Idempotency-Key's request runs
                headers["Retry-After"] = _ref("headers", "Retry-After")
            if limited and path.startswith("/api/v1/"):
                headers.update({name: _ref("headers", name) for name in RATE_LIMIT})
            headers["X-Request-ID"] = _ref("headers", "X-Request-ID")


def _is_page(document: Document, content: dict[str, Any]) -> bool:
    schema = content.get("application/json", {}).get("schema", {})
    ref = schema.get("$ref", "") if isinstance(schema, dict) else ""
    return ref.endswith("Page")


def _binary_downloads(document: Document) -> None:
    """Downloads are bytes: `format: binary` (and the media type), so clients return them as such.
    A file is served with its own type (`image/png`, …): `*/*` beside `application/octet-stream`,
    which generators read as bytes."""
    for _, _, operation in _operations(document):
        success = operation.get("responses", {}).get("200", {})
        content = success.get("content", {})
        for media_type, media in list(content.items()):
            if media_type in ("application/pdf", "application/octet-stream"):
                media["schema"] = {"type": "string", "format": "binary", "contentMediaType": media_type}
                media.pop("examples", None)
                media.pop("example", None)
            if media_type == "application/octet-stream":
                content["*/*"] = {"schema": {"type": "string", "format": "binary"}}


def _security(document: Document) -> None:
    """Public operations need no token (`security: []`); a token can come from the OAuth2
    password flow of `/auth/token` as well as any other way."""
    schemes = document["components"].setdefault("securitySchemes", {})
    schemes["OAuth2Password"] = {
        "type": "oauth2",
        "description": "The OAuth2 password grant: `POST /api/v1/auth/token` with the email as `username`",
        "flows": {"password": {"tokenUrl": "/api/v1/auth/token", "refreshUrl": "/api/v1/auth/refresh", "scopes": {}}},
    }
    schemes["ApiKey"] = {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key (`lms_…`, API §10.4) as a Bearer token; the scopes a route needs are "
        "listed with it. `X-API-Key` carries it too.",
    }
    schemes["ApiKeyHeader"] = {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    for path, method, operation in _operations(document):
        requirements = operation.get("security")
        if not requirements:
            operation["security"] = []
            continue
        if {"BearerToken": []} in requirements and {"OAuth2Password": []} not in requirements:
            requirements.append({"OAuth2Password": []})
        scope = scope_for(method, path)
        if {"BearerToken": []} in requirements and scope != NOT_WITH_KEYS:
            needed = [scope] if scope is not None else []
            requirements += [{"ApiKey": needed}, {"ApiKeyHeader": needed}]


def _summaries(document: Document) -> None:
    document["tags"] = [{"name": name, "description": text} for name, text in TAGS.items()]
    for _, _, operation in _operations(document):
        if "operationId" in operation:
            operation["summary"] = summary_of(operation["operationId"])


def _schemas(document: Document) -> None:
    schemas = document["components"]["schemas"]
    # The two answers of `login`: `mfa_required` is always there and tells them apart.
    for name in ("AuthResponse", "MfaChallengeResponse"):
        schema = schemas.get(name)
        if schema is not None and "mfa_required" in schema.get("properties", {}):
            schema["required"] = sorted({*schema.get("required", []), "mfa_required"})
    form = schemas.get("TokenForm", {}).get("properties", {})
    if "grant_type" in form:  # optional, and never null: one enum, not three
        form["grant_type"] = {"type": "string", "enum": ["password"], "description": "Only `password`"}
    problem = schemas.get("Problem")
    if problem is not None:
        for prop in problem.get("properties", {}).values():
            prop.pop("examples", None)
        problem["examples"] = [_problem_example(404), _problem_example(422)]
        problem["description"] = "An RFC 9457 problem (API §2)"

    def inline_single_one_of(node: dict[str, Any]) -> None:
        options = node.get("oneOf")
        if isinstance(options, list) and len(options) == 1 and isinstance(options[0], dict):
            for key, value in node.pop("oneOf")[0].items():
                node.setdefault(key, value)

    _each_object(schemas, inline_single_one_of)


LIVE_STREAM = "/api/v1/notifications/stream"
LIVE_MESSAGE = {
    "type": "object",
    "description": "A live message (API §13), the same on the WebSocket (`/api/v1/ws`, described in the "
    "README) and in each Server-Sent Event's `data:`",
    "required": ["id", "type", "created_at", "data"],
    "properties": {
        "id": {"type": "string", "format": "uuid", "description": "The notification's id (`Last-Event-ID`)"},
        "type": {"type": "string", "examples": ["submission.graded", "progress.updated"]},
        "created_at": {"type": "string", "format": "date-time"},
        "data": {"type": "object", "description": "The event's data (API §9.1 and §13)"},
    },
    "additionalProperties": False,
}


def _live_stream(document: Document) -> None:
    """The Server-Sent Events route: its `Last-Event-ID` is a notification id (never null), its 200
    is a `text/event-stream` whose events carry `LiveMessage`s."""
    operation = document["paths"].get(LIVE_STREAM, {}).get("get")
    if operation is None:
        return
    document["components"]["schemas"]["LiveMessage"] = LIVE_MESSAGE
    for parameter in operation.get("parameters", []):
        if parameter.get("name") == "Last-Event-ID":
            parameter["schema"] = {"type": "string", "format": "uuid"}
    example = (
        ": connected\n\nid: 01939c5e-4f1a-7c3b-9d2e-5a6b7c8d9e0f\n"
        'data: {"id":"01939c5e-4f1a-7c3b-9d2e-5a6b7c8d9e0f","type":"submission.graded",'
        '"created_at":"2026-12-06T10:00:00Z","data":{"final_percentage":"90.00"}}\n\n: heartbeat\n\n'
    )
    operation["responses"]["200"] = {
        "description": "The stream: for each new notification an event whose `id:` is the notification id and "
        "whose `data:` is a `LiveMessage` (JSON); a `: heartbeat` comment every 15 seconds. It ends when the "
        "sign-in is revoked; a client that reconnects with `Last-Event-ID` gets what it missed first.",
        "content": {
            "text/event-stream": {
                "schema": {"type": "string", "description": "Events of `LiveMessage` (see its schema)"},
                "example": example,
            }
        },
        "headers": operation["responses"].get("200", {}).get("headers", {}),
    }


PREPARE = "openapi_prepare"  # the app state's key of what completes Litestar's OpenAPI object


class _FinishedOnFirstUse(OpenAPIPlugin):
    """Litestar's OpenAPI plugin, making the document on first use rather than with the app: the
    OpenAPI object is completed by the app's `prepare` once built, and the JSON it serves is the
    finished document. An app that is never asked for its document (most test apps, production
    with the docs off) never pays the second or so it takes."""

    __slots__ = ()

    def provide_openapi(self) -> OpenAPI:
        if not self._openapi:
            self._openapi = self._build_openapi()
            prepare = self.app.state.pop(PREPARE, None)
            if prepare is not None:
                prepare(self.app)  # it reads `app.openapi_schema`: the object just built
        return self._openapi

    def provide_openapi_schema(self) -> dict[str, Any]:
        if not self._openapi_schema:
            self._openapi_schema = finish(self.provide_openapi().to_schema())
        return self._openapi_schema


def install(app: Litestar, prepare: Callable[[Litestar], None]) -> None:
    """Serve the finished document, made on first use: `prepare` completes Litestar's OpenAPI object
    (it runs once, when the object is first built), then `finish` makes the JSON served."""
    if app.openapi_config is None:
        return
    plugin = app.plugins.get(OpenAPIPlugin)
    app.state[PREPARE] = prepare
    plugin.__class__ = _FinishedOnFirstUse


def finish(document: Document) -> Document:
    document.setdefault("info", {})["license"] = {"name": "MIT", "identifier": "MIT"}
    _rename_pages(document)
    _binary_downloads(document)
    _headers_and_problems(document)
    _security(document)
    _summaries(document)
    _schemas(document)
    _live_stream(document)
    _webhooks(document)
    return document
