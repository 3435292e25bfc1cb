"""Money (API §14): prices checked against their currency, minor units both ways, coupons that
never take more than the price, rounding half-even; and, over random prices and coupons,
`total = amount - discount >= 0`."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.shared.errors import FieldsInvalid
from domain.shared.money import (
    MAX_MINOR_UNITS,
    Terms,
    currency_code,
    from_minor_units,
    minor_digits,
    price,
    quote,
    rounded,
    to_minor_units,
)

D = Decimal


def test_currencies_are_iso_4217_codes_with_minor_units() -> None:
    assert (minor_digits("USD"), minor_digits("JPY"), minor_digits("BHD")) == (2, 0, 3)
    assert currency_code("EUR") == "EUR"
    for bad in ("usd", "US", "USDX", "ZZZ", "XAU", "XTS", ""):  # metals and test codes have no minor unit
        with pytest.raises(FieldsInvalid) as refused:
            currency_code(bad)
        assert refused.value.errors[0].field == "body.currency"


def test_a_price_has_no_more_decimals_than_its_currency() -> None:
    assert price(D("10"), "USD") == D("10.00") and str(price(D("10"), "USD")) == "10.00"
    assert price(D("0"), "USD") == D("0.00")
    assert price(D("1500"), "JPY") == D("1500")
    assert price(D("1.234"), "BHD") == D("1.234")
    for amount, code in (
        (D("10.001"), "USD"),
        (D("10.5"), "JPY"),
        (D("-1"), "USD"),
        (D("NaN"), "USD"),
        (D("Infinity"), "USD"),
    ):
        with pytest.raises(FieldsInvalid):
            price(amount, code)
    assert price(from_minor_units(MAX_MINOR_UNITS, "USD"), "USD") == D("999999.99")
    with pytest.raises(FieldsInvalid):
        price(D("1000000.00"), "USD")


def test_minor_units_both_ways() -> None:
    assert to_minor_units(D("12.34"), "USD") == 1234
    assert to_minor_units(D("500"), "JPY") == 500
    assert to_minor_units(D("1.005"), "BHD") == 1005
    assert from_minor_units(1234, "USD") == D("12.34")
    with pytest.raises(ValueError, match="whole number"):
        to_minor_units(D("12.345"), "USD")


def test_percentages_round_half_to_even() -> None:
    assert rounded(D("0.125"), "USD") == D("0.12") and rounded(D("0.135"), "USD") == D("0.14")
    assert quote(D("0.25"), "USD", Terms(percent_off=D("50"))).discount == D("0.12")  # 0.125 → 0.12
    assert quote(D("0.75"), "USD", Terms(percent_off=D("50"))).discount == D("0.38")  # 0.375 → 0.38
    assert quote(D("999"), "JPY", Terms(percent_off=D("50"))).discount == D("500")  # 499.5 → 500


def test_a_coupon_never_takes_more_than_the_price() -> None:
    whole = quote(D("30.00"), "USD", Terms(amount_off=D("50")))
    assert (whole.amount, whole.discount, whole.total, whole.free) == (D("30.00"), D("30.00"), D("0.00"), True)
    assert quote(D("30.00"), "USD", Terms(percent_off=D("100"))).total == D("0.00")
    plain = quote(D("30"), "USD")
    assert (plain.discount, plain.total, plain.free) == (D("0.00"), D("30.00"), False)


def test_terms_are_one_of_percent_or_amount() -> None:
    for bad in (
        {},
        {"percent_off": D("10"), "amount_off": D("1")},
        {"percent_off": D("0")},
        {"percent_off": D("101")},
        {"amount_off": D("0")},
    ):
        with pytest.raises(ValueError, match=r"percent_off|amount_off"):
            Terms(**bad)


CURRENCIES = st.sampled_from(["USD", "EUR", "JPY", "BHD", "GBP", "KWD", "CLP"])


@given(
    code=CURRENCIES,
    units=st.integers(min_value=0, max_value=MAX_MINOR_UNITS),
    percent=st.one_of(st.none(), st.decimals(min_value=1, max_value=100, places=2)),
    amount_off_units=st.integers(min_value=1, max_value=2 * MAX_MINOR_UNITS),
)
def test_total_is_amount_less_discount_and_never_negative(
    code: str, units: int, percent: Decimal | None, amount_off_units: int
) -> None:
    amount = from_minor_units(units, code)
    terms = (
        Terms(percent_off=percent)
        if percent is not None
        else Terms(amount_off=from_minor_units(amount_off_units, code))
    )
    q = quote(amount, code, terms)
    assert q.total == q.amount - q.discount
    assert D(0) <= q.discount <= q.amount and q.total >= 0
    # Every figure is a whole number of minor units: what the provider is asked for is exact.
    assert from_minor_units(to_minor_units(q.total, code), code) == q.total
    assert to_minor_units(q.amount, code) == units
