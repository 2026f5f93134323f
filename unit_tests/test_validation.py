"""Number bodies: every field rule, every error reported at once, named by its pointer."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from service.numbers.validation import Mode, NumberFields, parse_number
from service.payloads import loads
from service.problems import ValidationFailed

CURRENCIES = ("U$", "R$", "USD", "BRL", "EUR")
VALID = (
    '{"value": "+55 84 91234-4321", "monthyPrice": "0.03", "setupPrice": "3.40", "currency": "U$"}'
)


def parse(text: str, mode: Mode = Mode.CREATE, url_id: int | None = None) -> NumberFields:
    return parse_number(loads(text), mode, CURRENCIES, url_id=url_id)


def errors_of(text: str, mode: Mode = Mode.CREATE, url_id: int | None = None) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        parse(text, mode, url_id)
    return {e["pointer"]: e["detail"] for e in caught.value.members["errors"]}


def test_the_agreed_example_is_valid() -> None:
    assert parse(VALID) == NumberFields(
        value="+55 84 91234-4321",
        monthly_price=Decimal("0.03"),
        setup_price=Decimal("3.40"),
        currency="U$",
    )


def test_json_numbers_are_read_from_their_literal_text() -> None:
    fields = parse(
        '{"value": "+5584912344321", "monthyPrice": 0.1, "setupPrice": 3, "currency": "R$"}'
    )
    assert (fields.monthly_price, fields.setup_price) == (Decimal("0.10"), Decimal("3.00"))


def test_a_client_id_is_ignored_on_create() -> None:
    assert parse(VALID[:-1] + ', "id": "whatever"}').value == "+55 84 91234-4321"


def test_monthly_price_alias_is_accepted() -> None:
    fields = parse(VALID.replace('"monthyPrice"', '"monthlyPrice"'))
    assert fields.monthly_price == Decimal("0.03")


def test_both_spellings_of_monthly_price_are_rejected() -> None:
    errors = errors_of(VALID[:-1] + ', "monthlyPrice": "0.03"}')
    assert "either monthyPrice or its alias monthlyPrice" in errors["#/monthlyPrice"]


def test_unknown_fields_are_listed() -> None:
    errors = errors_of(VALID[:-1] + ', "price": 1, "country": "BR"}')
    assert set(errors) == {"#/price", "#/country"}
    assert "allowed:" in errors["#/price"]


def test_unknown_field_names_are_escaped_in_their_pointers() -> None:
    errors = errors_of(VALID[:-1] + ', "a/b": 1, "c~d": 2}')
    assert {"#/a~1b", "#/c~0d"} <= set(errors)


def test_every_bad_field_is_reported_at_once() -> None:
    errors = errors_of('{"value": "55", "monthyPrice": -1, "setupPrice": 1.234, "currency": "X"}')
    assert set(errors) == {"#/value", "#/monthyPrice", "#/setupPrice", "#/currency"}
    assert "U$, R$, USD, BRL, EUR" in errors["#/currency"]


@pytest.mark.parametrize(
    ("literal", "message"),
    [
        ("-0.01", "negative"),
        ("12e-1", "exponent"),
        ('"1e2"', "exponent"),
        ("3.456", "2 decimal places"),
        ("true", "decimal string"),
        ('""', "empty"),
        ('"NaN"', "decimal amount"),
        ("100000000.00", "at most"),
        ("[1]", "decimal string"),
        ('{"amount": 1}', "decimal string"),
    ],
)
def test_bad_prices_are_rejected_never_rounded(literal: str, message: str) -> None:
    errors = errors_of(VALID.replace('"3.40"', literal))
    assert message in errors["#/setupPrice"]


@pytest.mark.parametrize("literal", ["42", "true", "null", '["+5584912344321"]'])
def test_value_must_be_a_string(literal: str) -> None:
    errors = errors_of(VALID.replace('"+55 84 91234-4321"', literal))
    assert "#/value" in errors


@pytest.mark.parametrize("literal", ['"usd"', '""', "1", "null"])
def test_currency_must_be_one_of_the_configured(literal: str) -> None:
    assert "#/currency" in errors_of(VALID.replace('"U$"', literal))


@pytest.mark.parametrize("body", ["[]", '"text"', "3", "null"])
def test_the_body_must_be_an_object(body: str) -> None:
    assert errors_of(body) == {"#": "the body must be a JSON object"}


def test_replace_requires_every_field() -> None:
    errors = errors_of('{"value": "+5584912344321"}', Mode.REPLACE, url_id=1)
    assert errors == {
        "#/monthyPrice": "is required",
        "#/setupPrice": "is required",
        "#/currency": "is required",
    }


def test_patch_takes_only_the_fields_sent() -> None:
    fields = parse('{"setupPrice": "1.5"}', Mode.PATCH, url_id=1)
    assert fields.changes() == {"setup_price": Decimal("1.50")}


@pytest.mark.parametrize("name", ["value", "monthyPrice", "setupPrice", "currency"])
def test_patch_null_for_a_required_field_is_rejected(name: str) -> None:
    errors = errors_of(f'{{"{name}": null}}', Mode.PATCH, url_id=1)
    assert "must not be null" in errors[f"#/{name}"]


@pytest.mark.parametrize("mode", [Mode.REPLACE, Mode.PATCH])
@pytest.mark.parametrize("literal", ["2", '"1"', "1.0", "true", "-1"])
def test_body_id_must_be_the_urls_as_an_integer(mode: Mode, literal: str) -> None:
    errors = errors_of(f'{{"id": {literal}}}', Mode.PATCH if mode is Mode.PATCH else mode, 1)
    assert "#/id" in errors


def test_body_id_equal_to_the_urls_is_accepted() -> None:
    assert parse('{"id": 7, "currency": "EUR"}', Mode.PATCH, url_id=7).currency == "EUR"


def test_alias_counts_as_the_field_in_a_patch() -> None:
    changes: dict[str, Any] = parse('{"monthlyPrice": 2}', Mode.PATCH, url_id=1).changes()
    assert changes == {"monthly_price": Decimal("2.00")}


def test_errors_point_at_the_alias_the_client_sent() -> None:
    errors = errors_of(VALID.replace('"monthyPrice": "0.03"', '"monthlyPrice": "-1"'))
    assert errors == {"#/monthlyPrice": "must not be negative"}
