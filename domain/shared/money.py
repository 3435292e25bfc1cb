"""Money as the shop reckons it (API §14): exact decimals in the domain, whole minor units at the
payment provider, ISO 4217 currency codes, rounding half-even. Shared: a course carries a price,
an order its total.

A price is an amount in a currency with no more decimals than the currency has minor units (two
for USD, none for JPY, three for BHD); funds, metals and test codes (ISO 4217 codes without minor
units) are not currencies a course is sold in.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

import iso4217

from domain.shared.errors import VALIDATION_FAILED, FieldError, FieldsInvalid

# The largest charge a card provider takes in one payment (Stripe: 99,999,999 minor units).
MAX_MINOR_UNITS = 99_999_999
HUNDRED = Decimal(100)


def _invalid(field: str, message: str) -> FieldsInvalid:
    return FieldsInvalid(VALIDATION_FAILED, [FieldError(field, message)])


def minor_digits(code: str) -> int:
    """How many decimals the currency's amounts have; FieldsInvalid for an unknown code."""
    try:
        exponent = iso4217.Currency(code).exponent if code.isupper() else None
    except ValueError:
        exponent = None
    if exponent is None:
        raise _invalid("body.currency", f"Unknown currency code: {code!r}")
    return int(exponent)


def currency_code(code: str) -> str:
    """The code, checked: three upper-case letters of an ISO 4217 currency with minor units."""
    minor_digits(code)
    return code


def _unit(code: str) -> Decimal:
    return Decimal(1).scaleb(-minor_digits(code))


def rounded(amount: Decimal, code: str) -> Decimal:
    """To the currency's minor unit, half to even (banker's rounding: no drift over many sums)."""
    return amount.quantize(_unit(code), rounding=ROUND_HALF_EVEN)


def price(amount: Decimal, code: str, field: str = "body.price") -> Decimal:
    """A price as given, checked: not negative, no finer than the currency's minor unit, and
    within what one payment can carry. Returned with the currency's decimals (`10` USD → `10.00`)."""
    try:
        exact = amount.is_finite() and amount == rounded(amount, code)
    except InvalidOperation:
        exact = False
    if not exact:
        raise _invalid(field, f"At most {minor_digits(code)} decimals in {code}")
    if amount < 0:
        raise _invalid(field, "Must not be negative")
    if to_minor_units(amount, code) > MAX_MINOR_UNITS:
        raise _invalid(field, f"At most {from_minor_units(MAX_MINOR_UNITS, code)} {code}")
    return rounded(amount, code)


def to_minor_units(amount: Decimal, code: str) -> int:
    """Whole minor units, as a provider is called with (12.34 USD → 1234, 500 JPY → 500). The
    amount must already be a whole number of them."""
    units = amount.scaleb(minor_digits(code))
    if units != units.to_integral_value():
        raise ValueError(f"{amount} {code} is not a whole number of minor units")
    return int(units)


def from_minor_units(units: int, code: str) -> Decimal:
    return rounded(Decimal(units).scaleb(-minor_digits(code)), code)


@dataclass(frozen=True, slots=True)
class Terms:
    """What a coupon takes off: a percentage (1 to 100) or an amount (> 0); exactly one of them."""

    percent_off: Decimal | None = None
    amount_off: Decimal | None = None

    def __post_init__(self) -> None:
        if (self.percent_off is None) == (self.amount_off is None):
            raise ValueError("exactly one of percent_off and amount_off")
        if self.percent_off is not None and not Decimal(1) <= self.percent_off <= HUNDRED:
            raise ValueError("percent_off must be within 1..100")
        if self.amount_off is not None and not self.amount_off > 0:
            raise ValueError("amount_off must be more than 0")

    def discount(self, amount: Decimal, code: str) -> Decimal:
        """What comes off `amount`: its percentage rounded half-even to the currency's minor unit,
        or the amount off, never more than `amount` itself."""
        if self.percent_off is not None:
            return min(rounded(amount * self.percent_off / HUNDRED, code), amount)
        assert self.amount_off is not None
        return min(rounded(self.amount_off, code), amount)


@dataclass(frozen=True, slots=True)
class Quote:
    """What an order costs: `total = amount - discount`, never below zero."""

    amount: Decimal
    discount: Decimal
    total: Decimal
    currency: str

    @property
    def free(self) -> bool:
        return self.total == 0


def quote(amount: Decimal, code: str, terms: Terms | None = None) -> Quote:
    """The order's figures for a course priced `amount` in `code`, with a coupon's terms."""
    amount = rounded(amount, code)
    discount = terms.discount(amount, code) if terms is not None else rounded(Decimal(0), code)
    return Quote(amount=amount, discount=discount, total=amount - discount, currency=code)
