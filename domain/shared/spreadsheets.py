"""Cells a spreadsheet could take for a formula (formula injection, API §11.3, §15.4)."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def starts_a_formula(value: str) -> bool:
    return value.startswith(FORMULA_STARTS)


def neutralized(value: str) -> str:
    """A cell that would start a formula, prefixed with `'` so it is read as text."""
    return f"'{value}" if starts_a_formula(value) else value
