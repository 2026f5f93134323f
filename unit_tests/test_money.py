"""Money text rule: exact decimals, rejected rather than rounded."""

from __future__ import annotations

from decimal import Decimal

import pytest

from service.money import InvalidAmount, format_amount, parse_amount


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", Decimal("0.00")),
        ("3.4", Decimal("3.40")),
        ("3.40", Decimal("3.40")),
        ("0.03", Decimal("0.03")),
        ("99999999.99", Decimal("99999999.99")),
        ("00012.5", Decimal("12.50")),
    ],
)
def test_accepted_amounts_are_exact_with_two_places(text: str, expected: Decimal) -> None:
    amount = parse_amount(text)
    assert amount == expected
    assert amount.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-1", "negative"),
        ("-0.01", "negative"),
        ("3.456", "at most 2 decimal places"),
        ("0.001", "at most 2 decimal places"),
        ("12e-1", "exponent"),
        ("1E2", "exponent"),
        ("", "empty"),
        ("   ", "empty"),
        (" 3.40", "spaces"),
        ("NaN", "decimal amount"),
        ("Infinity", "decimal amount"),
        ("abc", "decimal amount"),
        ("1,50", "decimal amount"),
        ("+3", "sign"),
        ("3.", "both sides"),
        (".5", "both sides"),
        ("100000000", "at most 99999999.99"),
        ("100000000.00", "at most 99999999.99"),
    ],
)
def test_rejected_amounts_say_how_to_fix_them(text: str, message: str) -> None:
    with pytest.raises(InvalidAmount, match=message):
        parse_amount(text)


def test_sums_stay_exact() -> None:
    assert parse_amount("0.1") + parse_amount("0.2") == parse_amount("0.3")


@pytest.mark.parametrize(
    ("amount", "text"),
    [(Decimal("3.4"), "3.40"), (Decimal("0"), "0.00"), (Decimal("1E+2"), "100.00")],
)
def test_amounts_are_formatted_with_two_decimals(amount: Decimal, text: str) -> None:
    assert format_amount(amount) == text
