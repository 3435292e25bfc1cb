"""OpenAPI helpers: the documented problem body and per-route error responses."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, cast
from uuid import UUID

import msgspec
from litestar import Litestar
from litestar.enums import ParamType
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    Example,
    Link,
    OpenAPIFormat,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    Reference,
    RequestBody,
    Schema,
)

from adapters.http import idempotency
from adapters.http.bodies import NON_NULLABLE
from adapters.http.document import PROBLEM_DESCRIPTIONS
from domain.catalog.release import Lock, LockReason


class ProblemField(msgspec.Struct):
    field: str
    message: str


class CourseRefResponse(msgspec.Struct, kw_only=True):
    """A course another one names (a prerequisite)."""

    id: UUID
    title: str
    slug: str


class LockResponse(msgspec.Struct, kw_only=True):
    """Why a lesson is closed to this viewer, and until when (API §12 release rules)."""

    reason: Annotated[
        LockReason,
        msgspec.Meta(
            description="`scheduled`: opens at `unlock_at`; `drip`: opens `unlock_at`, some days after "
            "enrolling; `sequence`: complete `blocking_lesson_id` first; `enrollment`: enroll to open it"
        ),
    ]
    unlock_at: datetime | None
    blocking_lesson_id: UUID | None

    @classmethod
    def of(cls, lock: Lock | None) -> LockResponse | None:
        if lock is None:
            return None
        return cls(reason=lock.reason, unlock_at=lock.unlock_at, blocking_lesson_id=lock.blocking_lesson_id)


class Problem(msgspec.Struct, kw_only=True):
    """An RFC 9457 problem (API §2)."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[ProblemField] | msgspec.UnsetType = msgspec.UNSET
    missing: list[CourseRefResponse] | msgspec.UnsetType = msgspec.UNSET  # 403 Prerequisites not completed
    lock: LockResponse | msgspec.UnsetType = msgspec.UNSET  # 403 Lesson is locked
    order_url: str | msgspec.UnsetType = msgspec.UNSET  # 402 Payment required: where to order


def errors(*statuses: int) -> dict[int, ResponseSpec]:
    """Declared problem responses for a route (400 always: any route may answer `Invalid host
    header`, API §2.2). Descriptions and examples are the document's (`document.finish`)."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            description=PROBLEM_DESCRIPTIONS[status],
            media_type="application/problem+json",
            generate_examples=False,
        )
        for status in sorted({400, *statuses})
    }


# JSON Schema keywords of msgspec's constraints, and the attributes Litestar's Schema holds them in.
_CONSTRAINTS = {
    "minLength": "min_length",
    "maxLength": "max_length",
    "minimum": "minimum",
    "maximum": "maximum",
    "exclusiveMinimum": "exclusive_minimum",
    "exclusiveMaximum": "exclusive_maximum",
    "pattern": "pattern",
    "minItems": "min_items",
    "maxItems": "max_items",
}


def _structs() -> list[type[msgspec.Struct]]:
    """Every request and response Struct of the HTTP adapter."""
    found: list[type[msgspec.Struct]] = []
    pending = list(msgspec.Struct.__subclasses__())
    while pending:
        struct = pending.pop()
        pending.extend(struct.__subclasses__())
        if struct.__module__.startswith("adapters.http.") and not getattr(struct, "__parameters__", ()):
            found.append(struct)
    return found


def _non_null(schema: dict[str, object]) -> dict[str, object]:
    options = schema.get("anyOf")
    if isinstance(options, list):
        kept = [o for o in options if not (isinstance(o, dict) and o.get("type") == "null")]
        if len(kept) == 1 and isinstance(kept[0], dict):
            return kept[0]
    return schema


def _is_null(option: object) -> bool:
    return isinstance(option, Schema) and option.type == OpenAPIType.NULL


DECIMAL_TEXT = r"^-?\d+(\.\d+)?$"
PERCENT_TEXT = r"^(100(\.0+)?|\d{1,2}(\.\d+)?)$"


def _decimal_text(bounds: dict[str, object]) -> str:
    """A pattern that only spells numbers within the bounds: from 0 (or above 0) to a power of ten
    (or below one); any numeric string otherwise."""
    top, below = bounds.get("maximum"), bounds.get("exclusiveMaximum")
    from_zero, above_zero = bounds.get("minimum") == 0, bounds.get("exclusiveMinimum") == 0
    if bounds == {"minimum": 0, "maximum": 100}:
        return PERCENT_TEXT
    if (from_zero or above_zero) and isinstance(top, int) and str(top).strip("0") == "1":
        digits = len(str(top)) - 1  # below the top: at most that many digits before the point
        at_top = rf"0*{top}(\.0+)?"
        if above_zero:
            return rf"^({at_top}|0*[1-9]\d{{0,{digits - 1}}}(\.\d+)?|0+\.\d*[1-9]\d*)$"
        return rf"^({at_top}|0*\d{{1,{digits}}}(\.\d+)?)$"
    if from_zero and isinstance(below, int):
        return rf"^\d{{1,{len(str(below)) - 1}}}(\.\d+)?$"  # below a power of ten: that many digits
    return DECIMAL_TEXT


def _decimal(prop: Schema, source: dict[str, object]) -> Schema:
    """A number within the bounds, or a numeric string that can only spell such a number."""
    keys = ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum")
    bounds = {key: source[key] for key in keys if key in source}
    text = _decimal_text(bounds)
    number = Schema(
        type=OpenAPIType.NUMBER,
        minimum=cast(float | None, bounds.get("minimum")),
        exclusive_minimum=cast(float | None, bounds.get("exclusiveMinimum")),
        maximum=cast(float | None, bounds.get("maximum")),
        exclusive_maximum=cast(float | None, bounds.get("exclusiveMaximum")),
    )
    return Schema(
        one_of=[number, Schema(type=OpenAPIType.STRING, pattern=text)],
        description=prop.description,
        examples=prop.examples,
    )


def complete_body_schemas(app: Litestar) -> None:
    """Make the document say what the server accepts, member by member.

    Litestar drops some of msgspec's constraints where a member is a union (`X | UnsetType | None`:
    length limits move to the wrong level, a bound of 0 disappears), so generated clients would send
    values the server refuses. The constraints are copied from msgspec's own JSON Schema of each Struct.
    PATCH members registered with `refuses_null` are shown as non-nullable (API §1.2).
    """
    if app.openapi_config is None or app.openapi_schema.components is None:
        return
    schemas = app.openapi_schema.components.schemas or {}
    for struct in _structs():
        target = schemas.get(struct.__name__)
        if target is None or not target.properties:
            continue
        exact = msgspec.json.schema_components([struct])[1].get(struct.__name__, {})
        exact_properties: dict[str, dict[str, object]] = exact.get("properties", {})
        for name, prop in list(target.properties.items()):
            source = _non_null(exact_properties.get(name, {}))
            if not isinstance(prop, Schema):
                continue
            if source.get("format") == "decimal":  # decimal inputs are numbers or numeric strings (API §1.3)
                target.properties[name] = _decimal(prop, source)
                continue
            if source.get("type") == "object" and "properties" in source:  # a map with known keys only
                named: dict[str, dict[str, str]] = source["properties"]  # type: ignore[assignment]
                prop.properties = {key: Schema(type=OpenAPIType(value["type"])) for key, value in named.items()}
                prop.additional_properties = False
                continue
            options = list(prop.one_of or [])
            if name in NON_NULLABLE.get(struct, ()):
                options = [o for o in options if not _is_null(o)]
            holders = [o for o in options if isinstance(o, Schema) and not _is_null(o)] or [prop]
            for keyword, attribute in _CONSTRAINTS.items():
                if keyword in source:
                    for holder in holders:
                        setattr(holder, attribute, source[keyword])
                    if holders != [prop]:
                        setattr(prop, attribute, None)
            if prop.one_of is not None:
                if len(options) == 1 and isinstance(options[0], Schema):
                    only = options[0]
                    only.description = only.description or prop.description
                    only.examples = only.examples or prop.examples
                    target.properties[name] = only
                else:
                    prop.one_of = list(options)


def _streamed_body(app: Litestar, path: str, media_type: str, schema: Schema) -> None:
    """A route that reads its body as a stream declares none to Litestar: it is documented here."""
    if app.openapi_config is None or app.openapi_schema.paths is None:
        return
    item = app.openapi_schema.paths.get(path)
    if item is None or item.post is None:
        return
    item.post.request_body = RequestBody(content={media_type: OpenAPIMediaType(schema=schema)}, required=True)


def document_upload(app: Litestar, path: str) -> None:
    """The upload route streams its multipart body itself."""
    form = Schema(
        type=OpenAPIType.OBJECT,
        required=["file"],
        properties={
            "file": Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY, description="Exactly one file"),
            "folder": Schema(
                type=OpenAPIType.STRING,
                description="Default `uploads`; segments of letters, digits, `_` and `-`",
                default="uploads",
            ),
            "is_public": Schema(type=OpenAPIType.BOOLEAN, default=False),
        },
    )
    _streamed_body(app, path, "multipart/form-data", form)


def document_roster(app: Litestar, path: str) -> None:
    """The roster import reads its CSV as a stream (API §15.4)."""
    csv = Schema(
        type=OpenAPIType.STRING,
        description="UTF-8 CSV with a header row naming `email` and optionally `full_name`; at most 10,000 rows",
        examples=['email,full_name\nada@example.com,"Lovelace, Ada"\n'],
    )
    _streamed_body(app, path, "text/csv", csv)


IDEMPOTENCY_KEY = Parameter(
    name="Idempotency-Key",
    param_in=ParamType.HEADER,
    required=False,
    description=(
        "Makes a retry safe: the first response to this key is stored for 24 h and replayed to a retry "
        "with the same key and request (`Idempotency-Replayed: true`); the same key with another request "
        "is 422, and a retry while the first still runs is 409. Scoped to the caller."
    ),
    schema=Schema(type=OpenAPIType.STRING, min_length=1, max_length=255, pattern=r"^[\x21-\x7E]{1,255}$"),
    examples={"uuid": Example(value="6f1c1d0e-8a4b-4f57-9a55-1d2a4c1f9b10")},
)
_REPLAYED = OpenAPIHeader(
    schema=Schema(type=OpenAPIType.STRING, enum=["true"]),
    description="Present when this response is the stored answer to an earlier request with the same Idempotency-Key",
)


_RETRY_AFTER = OpenAPIHeader(
    schema=Schema(type=OpenAPIType.INTEGER),
    description="Seconds to wait before retrying, when the request with this Idempotency-Key is still running",
)


def document_idempotency(app: Litestar) -> None:
    """The `Idempotency-Key` header, its 409 and 422 answers and the replay header, on every
    operation the idempotency middleware covers."""
    if app.openapi_config is None or app.openapi_schema.paths is None:
        return
    problem = OpenAPIMediaType(schema=Reference(ref="#/components/schemas/Problem"))
    answers = {"409": idempotency.IN_PROGRESS, "422": idempotency.REUSED}
    for path, item in app.openapi_schema.paths.items():
        for method in idempotency.METHODS:
            operation: Operation | None = getattr(item, method.lower())
            if operation is None or not idempotency.covered(method, path):
                continue
            operation.parameters = [*(operation.parameters or []), IDEMPOTENCY_KEY]
            responses = operation.responses or {}
            for status, text in answers.items():
                if status not in responses:
                    responses[status] = OpenAPIResponse(description=text, content={"application/problem+json": problem})
            conflict = responses["409"]
            if isinstance(conflict, OpenAPIResponse):
                conflict.headers = {**(conflict.headers or {}), "Retry-After": _RETRY_AFTER}
            for status, response in responses.items():
                if status.startswith("2") and isinstance(response, OpenAPIResponse):
                    response.headers = {**(response.headers or {}), "Idempotency-Replayed": _REPLAYED}
            operation.responses = responses


# OpenAPI links (§4.8.20): how the id a create answers with names the resource in later calls, for
# generated clients and for stateful testing. Each source operation lists the operations it leads
# to, with the path parameters they take from its response or its own request.
_ID = "$response.body#/id"
_COURSE = {"course_id": "$request.path.course_id"}
_QUIZ = {**_COURSE, "quiz_id": "$request.path.quiz_id"}
_OF_COURSE = (
    "get_course", "update_course", "delete_course", "publish_course", "create_lesson", "list_course_lessons",
    "create_quiz", "list_course_quizzes", "list_course_enrollments", "get_course_enrollment_stats",
    "get_course_analytics",
)  # fmt: skip
LINKS: dict[str, tuple[tuple[str, dict[str, str]], ...]] = {
    "create_course": tuple((target, {"course_id": _ID}) for target in _OF_COURSE),
    "create_lesson": tuple((t, {"lesson_id": _ID}) for t in ("get_lesson", "update_lesson", "delete_lesson")),
    "create_quiz": (
        *((t, {**_COURSE, "quiz_id": _ID}) for t in ("get_quiz", "update_quiz", "delete_quiz", "publish_quiz")),
        *((t, {**_COURSE, "quiz_id": _ID}) for t in ("create_question", "list_quiz_questions_for_managers")),
        *((t, {"quiz_id": _ID}) for t in ("start_attempt", "get_quiz_to_take", "list_my_attempts")),
    ),
    "create_question": tuple((t, {**_QUIZ, "question_id": _ID}) for t in ("update_question", "delete_question")),
    "enroll": tuple(
        (t, {"enrollment_id": _ID}) for t in ("get_enrollment", "review_enrollment", "generate_certificate")
    ),
    "start_attempt": tuple(
        (t, {"quiz_id": "$request.path.quiz_id", "attempt_id": _ID}) for t in ("get_attempt", "submit_attempt")
    ),
    "upload_file": tuple((t, {"file_id": _ID}) for t in ("get_file", "download_file", "delete_file")),
    "create_user": tuple((t, {"user_id": _ID}) for t in ("get_user", "update_user")),
    "generate_certificate": tuple(
        (t, {"certificate_id": _ID}) for t in ("get_certificate", "download_certificate", "revoke_certificate")
    ),
}


def document_links(app: Litestar) -> None:
    """`links` on the success answers of the create operations in `LINKS`."""
    if app.openapi_config is None or app.openapi_schema.paths is None:
        return
    operations = {
        operation.operation_id: operation
        for item in app.openapi_schema.paths.values()
        for method in ("get", "post", "put", "patch", "delete")
        if (operation := getattr(item, method)) is not None
    }
    for source, targets in LINKS.items():
        for status, response in (operations[source].responses or {}).items():
            if status.startswith("2") and isinstance(response, OpenAPIResponse):
                response.links = {
                    target: Link(operation_id=target, parameters=dict(parameters))
                    for target, parameters in targets
                    if target in operations  # (a route left out by configuration)
                }
