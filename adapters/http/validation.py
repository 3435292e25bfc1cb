"""Validation problems people can read (API §2.3): every invalid member of a body, not just the
first, each with a sentence instead of a decoder's message or a raw regular expression."""

from __future__ import annotations

import ast
import re
import types
import typing
from collections.abc import Mapping
from typing import Any

import msgspec

from domain.shared.errors import FieldError

# Patterns of the HTTP schemas, by what they ask for (a raw regular expression helps no one).
_PATTERN_MESSAGES: dict[str, str] = {}


def describe_pattern(pattern: str, message: str) -> str:
    """Register the sentence a pattern's failures read as; returns the pattern (for `Meta`)."""
    _PATTERN_MESSAGES[pattern] = message
    return pattern


_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^Expected `str` of length >= (\d+)$"), "Must be at least {0} characters long"),
    (re.compile(r"^Expected `str` of length <= (\d+)$"), "Must be at most {0} characters long"),
    (re.compile(r"^Expected `array` of length >= (\d+)$"), "Must have at least {0} items"),
    (re.compile(r"^Expected `array` of length <= (\d+)$"), "Must have at most {0} items"),
    (re.compile(r"^Expected `object` of length <= (\d+)$"), "Must have at most {0} members"),
    (re.compile(r"^Expected `(?:int|float|decimal|number)` >= (\S+)$"), "Must be at least {0}"),
    (re.compile(r"^Expected `(?:int|float|decimal|number)` <= (\S+)$"), "Must be at most {0}"),
    (re.compile(r"^Expected `(?:int|float|decimal|number)` > (\S+)$"), "Must be more than {0}"),
    (re.compile(r"^Expected `(?:int|float|decimal|number)` < (\S+)$"), "Must be less than {0}"),
    (re.compile(r"^Object missing required field `[^`]+`$"), "Is required"),
    (re.compile(r"^Invalid UUID$"), "Must be a UUID"),
    (re.compile(r"^Invalid RFC3339 encoded datetime$"), "Must be an RFC 3339 date and time"),
    (re.compile(r"^Invalid decimal string$"), "Must be a number"),
]
_TYPE_NAMES = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "object": "an object",
    "array": "an array",
    "null": "null",
    "decimal": "a number",
}
_EXPECTED = re.compile(r"^Expected `([^`]+)`, got `(\w+)`$")
_MATCHING = re.compile(r"^Expected `str` matching regex (.*)$")  # the pattern as a Python literal
_ENUM = re.compile(r"^Invalid enum value (.*)$")


def readable(message: str, annotation: Any = None) -> str:
    """A decoder's message as a sentence; `annotation` (the member's type) names an enum's values."""
    message = re.sub(r"\s+-\s+at\s+`\$[^`]*`$", "", message).strip()
    if found := _MATCHING.match(message):
        try:
            pattern = ast.literal_eval(found.group(1))
        except (ValueError, SyntaxError):
            pattern = None
        return _PATTERN_MESSAGES.get(pattern, "Does not have the expected format")
    if found := _EXPECTED.match(message):
        kinds = [_TYPE_NAMES.get(kind.strip(), f"`{kind.strip()}`") for kind in found.group(1).split("|")]
        return f"Must be {' or '.join(kinds)}, not {_TYPE_NAMES.get(found.group(2), found.group(2))}"
    if _ENUM.match(message):
        values = _enum_values(annotation)
        return f"Must be one of: {', '.join(values)}" if values else "Is not one of the allowed values"
    for rule, text in _RULES:
        if found := rule.match(message):
            return text.format(*found.groups())
    return message[:1].upper() + message[1:] if message else "Invalid value"


def _enum_values(annotation: Any) -> list[str]:
    for candidate in _members(annotation):
        if isinstance(candidate, type) and issubclass(candidate, msgspec.Struct):
            continue
        if hasattr(candidate, "__members__"):
            return [str(member.value) for member in candidate]
        if typing.get_origin(candidate) is typing.Literal:
            return [str(value) for value in typing.get_args(candidate)]
    return []


def _members(annotation: Any) -> list[Any]:
    """The types a member may hold (a union's, an Annotated's inner one)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _members(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [inner for arg in typing.get_args(annotation) for inner in _members(arg)]
    return [annotation]


def struct_of(annotation: Any) -> type[msgspec.Struct] | None:
    """The Struct a body parameter's annotation names (through `Annotated` and `| None`)."""
    for candidate in _members(annotation):
        if isinstance(candidate, type) and issubclass(candidate, msgspec.Struct):
            return candidate
    return None


def member_errors(struct: type[msgspec.Struct], value: Any, path: str) -> list[FieldError]:
    """Every invalid member of `value` as `struct`, nested Structs and lists of them included, or the
    one problem with `value` as a whole. Members are checked as the body was (`strict=False`)."""
    if not isinstance(value, Mapping):
        try:
            msgspec.convert(value, struct, strict=False)
        except msgspec.ValidationError as exc:
            return [FieldError(path, readable(str(exc)))]
        return []
    errors: list[FieldError] = []
    for field in msgspec.structs.fields(struct):
        where = f"{path}.{field.encode_name}"
        if field.encode_name not in value:
            if field.required:
                errors.append(FieldError(where, "Is required"))
            continue
        member = value[field.encode_name]
        nested = struct_of(field.type)
        if nested is not None and isinstance(member, Mapping):
            errors += member_errors(nested, member, where)
            continue
        try:
            msgspec.convert(member, field.type, strict=False)
        except msgspec.ValidationError as exc:
            inner = _inner_path(str(exc))
            items = _list_of_structs(field.type)
            if items is not None and isinstance(member, list) and inner:  # an item failed: find every one
                for index, item in enumerate(member):
                    errors += member_errors(items, item, f"{where}.{index}")
            else:
                errors.append(FieldError(where + inner, readable(str(exc), field.type)))
    return errors


def _list_of_structs(annotation: Any) -> type[msgspec.Struct] | None:
    for candidate in _members(annotation):
        if typing.get_origin(candidate) in (list, tuple) and (args := typing.get_args(candidate)):
            return struct_of(args[0])
    return None


def _inner_path(message: str) -> str:
    """`.2.name` from a message ending ` - at `$[2].name``: where inside the member it failed."""
    found = re.search(r"at\s+`\$([^`]*)`$", message)
    return re.sub(r"\[(\d+)\]", r".\1", found.group(1)) if found else ""
