"""Helpers for request bodies shared by every controller."""

from __future__ import annotations

from typing import Any

import msgspec

from domain.shared.unset import UNSET


def given(value: Any) -> Any:
    """A PATCH member: msgspec's UNSET (absent) becomes the domain's; `None` and values pass."""
    return UNSET if value is msgspec.UNSET else value
