"""Helpers for request bodies shared by every controller."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar
from urllib.parse import parse_qsl

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException

from adapters.http.validation import describe_pattern
from domain.shared.errors import VALIDATION_FAILED, FieldError, FieldsInvalid
from domain.shared.unset import UNSET

Timestamp = Annotated[datetime, msgspec.Meta(tz=True, description="An ISO 8601 time with its offset")]

T = TypeVar("T")
NUL_TEXT = "Text must not contain the NUL character (U+0000)"
NOT_UTF8 = "Request body is not valid UTF-8"
# A JSON `\u0000` escape: one not itself escaped (an odd run of backslashes before `u0000`).
_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
S = TypeVar("S", bound=msgspec.Struct)


# PATCH bodies and their members that may be absent but not null (API §1.2). They decode `null` so
# that the use case answers `400 '<field>' cannot be null` in its turn (after the 404 and 403 checks);
# the OpenAPI document shows them as non-nullable, which is what a client should send.
NON_NULLABLE: dict[type[msgspec.Struct], tuple[str, ...]] = {}


def refuses_null(*members: str) -> Callable[[type[S]], type[S]]:
    def register(struct: type[S]) -> type[S]:
        NON_NULLABLE[struct] = members
        return struct

    return register


def given(value: Any) -> Any:
    """A PATCH member: msgspec's UNSET (absent) becomes the domain's; `None` and values pass."""
    return UNSET if value is msgspec.UNSET else value


def changes_of(data: msgspec.Struct, changes: type[T], **renamed: Any) -> T:
    """A PATCH body as the use case's partial update: absent members stay UNSET, `null` and values
    pass through. `renamed` supplies members the body spells differently (or drops: `name=UNSET`)."""
    values = {name: _utc(given(value)) for name, value in msgspec.structs.asdict(data).items()}
    values.update({name: given(value) for name, value in renamed.items()})
    return changes(**{name: value for name, value in values.items() if value is not UNSET})


def _utc(value: Any) -> Any:
    """Times in the domain are UTC (API §1.3): a body's time with another offset is the same moment."""
    return value.astimezone(UTC) if isinstance(value, datetime) else value


def input_of(data: msgspec.Struct, target: type[T], **overrides: Any) -> T:
    """A create body as the use case's input: the members by name, with `overrides` replacing
    (or, as `name=UNSET`, dropping) some."""
    values = {**{name: _utc(value) for name, value in msgspec.structs.asdict(data).items()}, **overrides}
    return target(**{name: value for name, value in values.items() if value is not UNSET})


def response_of(response: type[S], entity: object, **overrides: Any) -> S:
    """A response Struct from an entity: each member is the entity's attribute of that name, unless
    `overrides` gives it (a value the wire spells differently, such as a decimal string)."""
    return response(
        **{name: overrides[name] if name in overrides else getattr(entity, name) for name in response.__struct_fields__}
    )


# Decimals on the wire (API §1.3): strings with exactly 2 places.
DecimalString = Annotated[
    str,
    msgspec.Meta(
        pattern=describe_pattern(r"^\d+\.\d{2}$", "Must be a decimal with 2 places"),
        description="A decimal with 2 places",
        examples=["42.50"],
    ),
]


# Money on the wire (API §14): exact, with the currency's decimals ("49.00" USD, "500" JPY).
MoneyString = Annotated[
    str,
    msgspec.Meta(
        pattern=describe_pattern(r"^\d+(\.\d{1,3})?$", "Must be an amount with the currency's decimals"),
        description="An exact amount with its currency's decimals",
        examples=["49.00"],
    ),
]


def decimal_string(value: Decimal) -> str:
    return f"{value:.2f}"


def optional_decimal_string(value: Decimal | None) -> str | None:
    """A decimal member that may be null (not graded yet, nothing to count)."""
    return None if value is None else decimal_string(value)


# An item's weight in a course percentage (quizzes and assignments, API §11.3).
MAX_WEIGHT = Decimal(10_000)
Weight = Annotated[
    Decimal,
    msgspec.Meta(
        description="The weight in the course percentage: 0..10000, a number or a numeric string",
        examples=["1.00"],
        extra_json_schema={"minimum": 0, "maximum": 10_000},
    ),
]


def check_decimal(
    name: str,
    value: object,
    top: Decimal,
    *,
    inclusive: bool = True,
    positive: bool = False,
    least: Decimal = Decimal(0),
) -> None:
    """msgspec has no range constraints for decimals: a decimal body member from `least` (above 0
    when `positive`) to `top` (or below it) is checked here, as a 422 on `body.<name>`."""
    if not isinstance(value, Decimal):
        return
    if (
        value.is_finite()
        and (value > 0 if positive else value >= least)
        and (value <= top if inclusive else value < top)
    ):
        return
    low = "above 0" if positive else f"from {least}"
    bound = f"{low} to {top}" if inclusive else f"{low}, below {top}"
    raise FieldsInvalid(VALIDATION_FAILED, [FieldError(f"body.{name}", f"Must be a number {bound}")])


def _invalid(source: str, message: str, key: str | None = None) -> ValidationException:
    return ValidationException(message, extra=[{"source": source, "key": key, "message": message}])


class LmsRequest(Request[Any, Any, Any]):
    """Refuses, with 422 on every backend alike, text no column can hold: a NUL character in a
    JSON body or a form (PostgreSQL cannot store U+0000 in text or JSON, where SQLite would), and
    a JSON body that is not UTF-8."""

    async def body(self) -> bytes:
        raw = await super().body()
        content_type = self.headers.get("content-type", "")
        if b"\\u0000" in raw and _NUL_ESCAPE.search(raw) and "json" in content_type:
            raise _invalid("body", NUL_TEXT)
        if content_type.startswith("application/x-www-form-urlencoded") and (name := _nul_field(raw)) is not None:
            raise _invalid("form", NUL_TEXT, name)
        return raw

    async def json(self) -> Any:
        try:
            return await super().json()
        except UnicodeDecodeError:
            raise _invalid("body", NOT_UTF8) from None


def _nul_field(encoded: bytes) -> str | None:
    """The first field of a URL-encoded query or form whose name or value holds a NUL character."""
    if b"%00" not in encoded and b"\x00" not in encoded:
        return None
    for name, value in parse_qsl(encoded.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return name.replace("\x00", "")
    return None


async def refuse_nul_in_query(request: Request[Any, Any, Any]) -> None:
    """`before_request`, so after authentication and the role checks, as validation comes (API
    §1.6): a query parameter with a NUL character is 422 on `query.<name>`."""
    query: bytes = request.scope.get("query_string", b"")
    if query and (name := _nul_field(query)) is not None:
        raise _invalid("query", NUL_TEXT, name)
