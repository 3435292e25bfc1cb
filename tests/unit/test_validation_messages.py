"""Validation problems people can read: every invalid member, each as a sentence."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

import msgspec
import pytest

from adapters.http.validation import describe_pattern, member_errors, readable
from domain.identity.model import Role
from domain.shared.errors import FieldError

CODE = describe_pattern(r"^[A-Z]{3}$", "Must be three capital letters")


class Item(msgspec.Struct):
    id: UUID
    count: Annotated[int, msgspec.Meta(ge=1, le=10)]


class Body(msgspec.Struct, kw_only=True):
    name: Annotated[str, msgspec.Meta(min_length=3, max_length=5)]
    code: Annotated[str, msgspec.Meta(pattern=CODE)]
    role: Role = Role.STUDENT
    kind: Literal["a", "b"] | None = None
    items: Annotated[list[Item], msgspec.Meta(max_length=2)] = []
    nested: Item | None = None


def test_every_invalid_member_is_reported_with_a_sentence() -> None:
    value = {
        "name": "ab",
        "code": "abc",
        "role": "owner",
        "kind": "c",
        "items": [{"id": "nope", "count": 1}, {"id": str(UUID(int=1)), "count": 50}],
        "nested": {"count": "x"},
        "unknown": "ignored",
    }
    assert member_errors(Body, value, "body") == [
        FieldError("body.name", "Must be at least 3 characters long"),
        FieldError("body.code", "Must be three capital letters"),
        FieldError("body.role", "Must be one of: admin, instructor, student"),
        FieldError("body.kind", "Must be one of: a, b"),
        FieldError("body.items.0.id", "Must be a UUID"),
        FieldError("body.items.1.count", "Must be at most 10"),
        FieldError("body.nested.id", "Is required"),
        FieldError("body.nested.count", "Must be an integer, not a string"),
    ]


def test_a_list_past_its_bound_and_a_body_of_the_wrong_shape() -> None:
    item = {"id": str(UUID(int=1)), "count": 1}
    assert member_errors(Body, {"name": "abc", "code": "ABC", "items": [item] * 3}, "body") == [
        FieldError("body.items", "Must have at most 2 items")
    ]
    assert member_errors(Body, ["not", "an", "object"], "body") == [
        FieldError("body", "Must be an object, not an array")
    ]
    assert member_errors(Body, {"name": "abc", "code": "ABC"}, "body") == []


@pytest.mark.parametrize(
    ("raw", "readable_message"),
    [
        ("Expected `str` of length <= 255 - at `$.title`", "Must be at most 255 characters long"),
        ("Expected `int` >= 1", "Must be at least 1"),
        ("Expected `int | null`, got `str`", "Must be an integer or null, not a string"),
        ("Expected `str` matching regex '^[a-z]+$'", "Does not have the expected format"),
        ("Object missing required field `email`", "Is required"),
        ("Invalid RFC3339 encoded datetime", "Must be an RFC 3339 date and time"),
        ("Text must not contain the NUL character (U+0000)", "Text must not contain the NUL character (U+0000)"),
    ],
)
def test_decoder_messages_read_as_sentences(raw: str, readable_message: str) -> None:
    assert readable(raw) == readable_message
