"""Helpers for request bodies shared by every controller."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException

from domain.shared.errors import FieldError, FieldsInvalid
from domain.shared.unset import UNSET

T = TypeVar("T")
NUL_TEXT = "Text must not contain the NUL character (U+0000)"
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
    values = {name: given(value) for name, value in msgspec.structs.asdict(data).items()}
    values.update({name: given(value) for name, value in renamed.items()})
    return changes(**{name: value for name, value in values.items() if value is not UNSET})


def input_of(data: msgspec.Struct, target: type[T], **overrides: Any) -> T:
    """A create body as the use case's input: the members by name, with `overrides` replacing
    (or, as `name=UNSET`, dropping) some."""
    values = {**msgspec.structs.asdict(data), **overrides}
    return target(**{name: value for name, value in values.items() if value is not UNSET})


def response_of(response: type[S], entity: object, **overrides: Any) -> S:
    """A response Struct from an entity: each member is the entity's attribute of that name, unless
    `overrides` gives it (a value the wire spells differently, such as a decimal string)."""
    return response(
        **{name: overrides[name] if name in overrides else getattr(entity, name) for name in response.__struct_fields__}
    )


# Decimals on the wire (API §1.3): strings with exactly 2 places.
DecimalString = Annotated[
    str, msgspec.Meta(pattern=r"^\d+\.\d{2}$", description="A decimal with 2 places", examples=["42.50"])
]


def decimal_string(value: Decimal) -> str:
    return f"{value:.2f}"


def check_decimal(name: str, value: object, top: Decimal, *, inclusive: bool = True) -> None:
    """msgspec has no range constraints for decimals: a decimal body member from 0 to `top` (or
    below it) is checked here, as a 422 on `body.<name>`."""
    if not isinstance(value, Decimal):
        return
    if value.is_finite() and value >= 0 and (value <= top if inclusive else value < top):
        return
    bound = f"from 0 to {top}" if inclusive else f"from 0, below {top}"
    raise FieldsInvalid("Request validation failed", [FieldError(f"body.{name}", f"Must be a number {bound}")])


class LmsRequest(Request[Any, Any, Any]):
    """Refuses a JSON body whose text has a NUL character with 422, on every backend alike:
    PostgreSQL cannot store U+0000 in text or JSON, where SQLite would."""

    async def body(self) -> bytes:
        raw = await super().body()
        if b"\\u0000" in raw and _NUL_ESCAPE.search(raw) and "json" in self.headers.get("content-type", ""):
            raise ValidationException(NUL_TEXT, extra=[{"source": "body", "message": NUL_TEXT}])
        return raw
