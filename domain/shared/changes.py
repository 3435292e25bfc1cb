"""Partial updates, the one way every context applies them: UNSET leaves a field alone, None
clears it where the field allows."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

from domain.shared.errors import InvalidInput
from domain.shared.unset import UNSET


def given(changes: Any, *, not_null: tuple[str, ...] = ()) -> dict[str, Any]:
    """The members a partial update (a dataclass of UNSET defaults) sets; `null` for one of
    `not_null` is a 400 `'<field>' cannot be null` (API §1.2)."""
    values = {f.name: v for f in fields(changes) if (v := getattr(changes, f.name)) is not UNSET}
    for name in not_null:
        if name in values and values[name] is None:
            raise InvalidInput(f"'{name}' cannot be null")
    return values


def apply(entity: Any, values: dict[str, Any], now: datetime) -> bool:
    """Set the values that differ and stamp `updated_at`; False when nothing differs."""
    changed = {name: value for name, value in values.items() if getattr(entity, name) != value}
    for name, value in changed.items():
        setattr(entity, name, value)
    if changed:
        entity.updated_at = now
    return bool(changed)
