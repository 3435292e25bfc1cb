"""Decimals as the API reports them (§1.3): 2 places, rounded half to even."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

ZERO = Decimal("0.00")
HUNDRED = Decimal("100.00")
CENT = Decimal("0.01")
SECONDS_PER_HOUR = 3600


def two_places(value: Decimal) -> Decimal:
    """Rounded to 2 decimals, half to even (API §1.3)."""
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def percentage(part: int, whole: int) -> Decimal:
    return percentage_of(Decimal(part), Decimal(whole))


def percentage_of(part: Decimal, whole: Decimal) -> Decimal:
    """`part / whole * 100`, rounded half to even; 0.00 when `whole` is 0."""
    return two_places(part * 100 / whole) if whole else ZERO


def mean(total: Decimal | int, count: int) -> Decimal:
    """`total / count`, rounded half to even; 0.00 when there is nothing to average."""
    return two_places(Decimal(total) / count) if count else ZERO


def hours(seconds: Decimal | int) -> Decimal:
    """Seconds as hours, rounded half to even."""
    return two_places(Decimal(seconds) / SECONDS_PER_HOUR)
