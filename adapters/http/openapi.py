"""OpenAPI helpers: the documented problem body and per-route error responses."""

from __future__ import annotations

import msgspec
from litestar import Litestar
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example, OpenAPIType, Schema

from adapters.http.bodies import NON_NULLABLE
from adapters.http.problems import TITLES


class ProblemField(msgspec.Struct):
    field: str
    message: str


class Problem(msgspec.Struct, kw_only=True):
    """An RFC 9457 problem (API §2)."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[ProblemField] | msgspec.UnsetType = msgspec.UNSET


_DESCRIPTIONS = {
    400: "A business rule refused the request",
    401: "Missing, invalid, expired or revoked credentials",
    403: "The caller may not do this",
    404: "The resource does not exist",
    409: "The change conflicts with existing state",
    412: "The resource changed since it was read (If-Match)",
    413: "Request body too large",
    422: "Request validation failed (see `errors`)",
    429: "Rate limit exceeded",
    503: "A dependency is unavailable",
}


def errors(*statuses: int) -> dict[int, ResponseSpec]:
    """Declared problem responses for a route.

    400 is always declared: any route may answer `Invalid host header` (API §2.2).
    """
    specs: dict[int, ResponseSpec] = {}
    for status in sorted({400, *statuses}):
        description = _DESCRIPTIONS[status]
        if status == 400 and 400 not in statuses:
            description = "Invalid host header"
        specs[status] = ResponseSpec(
            data_container=Problem,
            description=description,
            media_type="application/problem+json",
            examples=[
                Example(
                    summary=TITLES[status],
                    value={"type": "about:blank", "title": TITLES[status], "status": status, "detail": description},
                )
            ],
        )
    return specs


def document_non_nullable(app: Litestar) -> None:
    """Show the PATCH members registered with `refuses_null` as non-nullable in the document."""
    if app.openapi_config is None:
        return
    schemas = (app.openapi_schema.components.schemas or {}) if app.openapi_schema.components else {}
    for struct, members in NON_NULLABLE.items():
        schema = schemas.get(struct.__name__)
        if schema is None or not schema.properties:
            continue
        for member in members:
            prop = schema.properties.get(member)
            if isinstance(prop, Schema) and prop.one_of:
                kept = [
                    option
                    for option in prop.one_of
                    if not (isinstance(option, Schema) and option.type == OpenAPIType.NULL)
                ]
                if len(kept) == 1 and isinstance(kept[0], Schema):
                    schema.properties[member] = kept[0]
                else:
                    prop.one_of = kept
