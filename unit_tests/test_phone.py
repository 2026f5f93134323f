"""Phone number values: the accepted text and the digits that identify a number."""

from __future__ import annotations

import pytest

from service.phone import InvalidPhoneNumber, digits_of, parse_digits_fragment, parse_value


@pytest.mark.parametrize(
    "value",
    ["+55 84 91234-4321", "+5584912344321", "+1 (415) 555.0134", "+44 20 7946 0958", "+12345678"],
)
def test_international_numbers_are_accepted(value: str) -> None:
    assert parse_value(value) == value


def test_value_is_trimmed() -> None:
    assert parse_value("  +55 84 91234-4321 \n") == "+55 84 91234-4321"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "empty"),
        ("5584912344321", "start with \\+"),
        ("+55 84 9123a-4321", "start with \\+"),
        ("+55_84", "start with \\+"),
        ("+1234567", "8 to 15 digits"),
        ("+1234567890123456", "8 to 15 digits"),
        ("+0 84 91234-4321", "cannot start with 0"),
        ("+5 5 8 4 9 1 2 3 4 4 3 2 1 0 0 0 0", "at most 32 characters"),
        ("+55 ٨٤ 91234-4321", "start with \\+"),
    ],
)
def test_invalid_values_say_how_to_fix_them(value: str, message: str) -> None:
    with pytest.raises(InvalidPhoneNumber, match=message):
        parse_value(value)


def test_numbers_differing_only_in_formatting_share_their_digits() -> None:
    assert digits_of("+55 84 91234-4321") == digits_of("+5584912344321") == "5584912344321"


@pytest.mark.parametrize(("text", "digits"), [("+55 84", "5584"), ("84", "84"), ("(84) 9", "849")])
def test_search_fragments_become_digits(text: str, digits: str) -> None:
    assert parse_digits_fragment(text) == digits


@pytest.mark.parametrize("text", ["", " ", "abc", "+", "84x"])
def test_search_fragments_need_digits_only(text: str) -> None:
    with pytest.raises(InvalidPhoneNumber):
        parse_digits_fragment(text)
