"""Prices are exact decimals, judged by the literal text the client sent, answered with 2 decimals.

Bodies are written as JSON text here so that the literal reaches the API exactly as written
(``3.40``, ``12e-1``, ``NaN``): a Python float would already have changed it.
"""

from __future__ import annotations

import json

import httpx
import pytest

from integration_tests.api_client import (
    error_pointers,
    expect_problem,
    ids_of,
    list_numbers,
    new_prefix,
    new_value,
    post_json_text,
)


def _body(monthy_literal: str, setup_literal: str = '"1.00"', value: str | None = None) -> str:
    """A number body with the two prices written as the given JSON literals."""
    value = json.dumps(value or new_value())
    return (
        f'{{"value": {value}, "monthyPrice": {monthy_literal}, '
        f'"setupPrice": {setup_literal}, "currency": "U$"}}'
    )


@pytest.mark.parametrize(
    ("literal", "answered"),
    [
        pytest.param("3.4", "3.40", id="json number 3.4"),
        pytest.param('"3.4"', "3.40", id="string 3.4"),
        pytest.param('"3.40"', "3.40", id="string 3.40"),
        pytest.param("3.40", "3.40", id="json number 3.40"),
        pytest.param("3", "3.00", id="json integer"),
        pytest.param('"0"', "0.00", id="zero"),
        pytest.param("0.03", "0.03", id="cents"),
        pytest.param('"007.5"', "7.50", id="leading zeros"),
        pytest.param("99999999.99", "99999999.99", id="largest as json number"),
        pytest.param('"99999999.99"', "99999999.99", id="largest as string"),
    ],
)
def test_accepted_amount_is_answered_with_two_decimals(
    api: httpx.Client, literal: str, answered: str
) -> None:
    response = post_json_text(api, _body(literal, setup_literal=literal))

    assert response.status_code == 201, response.text
    created = response.json()
    assert (created["monthyPrice"], created["setupPrice"]) == (answered, answered)
    stored = api.get(f"/numbers/{created['id']}").json()
    assert (stored["monthyPrice"], stored["setupPrice"]) == (answered, answered)


@pytest.mark.parametrize(
    "literal",
    [
        pytest.param("-1", id="negative json number"),
        pytest.param('"-0.01"', id="negative string"),
        pytest.param("3.405", id="3 decimals json number"),
        pytest.param('"3.405"', id="3 decimals string"),
        pytest.param('"0.001"', id="a tenth of a cent"),
        pytest.param("3.400", id="3 decimals even if zero"),
        pytest.param("12e-1", id="exponent json number"),
        pytest.param("1E2", id="upper-case exponent json number"),
        pytest.param('"1e2"', id="exponent string"),
        pytest.param('"NaN"', id="NaN string"),
        pytest.param('"Infinity"', id="Infinity string"),
        pytest.param("true", id="true"),
        pytest.param("false", id="false"),
        pytest.param('""', id="empty string"),
        pytest.param('" 3.40"', id="space"),
        pytest.param('"+3.40"', id="plus sign"),
        pytest.param('"3,40"', id="decimal comma"),
        pytest.param('".5"', id="no integer part"),
        pytest.param('"5."', id="no decimals after the point"),
        pytest.param('"0x10"', id="hexadecimal"),
        pytest.param("100000000.00", id="too large json number"),
        pytest.param('"100000000"', id="too large string"),
        pytest.param("null", id="null"),
        pytest.param("{}", id="object"),
        pytest.param('["3.40"]', id="array"),
    ],
)
def test_rejected_amount_is_422_naming_the_field(api: httpx.Client, literal: str) -> None:
    response = post_json_text(api, _body(literal))

    problem = expect_problem(response, 422)
    assert error_pointers(problem) == ["#/monthyPrice"]


def test_both_bad_prices_are_reported(api: httpx.Client) -> None:
    response = post_json_text(api, _body("-1", setup_literal='"2.345"'))

    problem = expect_problem(response, 422)
    assert sorted(error_pointers(problem)) == ["#/monthyPrice", "#/setupPrice"]


def test_more_than_two_decimals_is_never_rounded(api: httpx.Client) -> None:
    value = new_value()

    response = post_json_text(api, _body("3.999", value=value))

    problem = expect_problem(response, 422)
    assert "decimal" in problem["errors"][0]["detail"]
    assert list_numbers(api, value_like=value).json() == []


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_bare_nan_or_infinity_literal_is_malformed_json(api: httpx.Client, literal: str) -> None:
    expect_problem(post_json_text(api, _body(literal)), 400)


@pytest.mark.parametrize(
    "amount",
    # Each is inexact in binary floating point: 0.1 + 0.2 != 0.3, 4.35 * 100 != 435, ...
    ["0.10", "0.20", "0.30", "0.29", "1.15", "4.35", "8.29", "0.07", "1234567.89", "99999999.98"],
)
def test_amount_is_stored_exactly(api: httpx.Client, amount: str) -> None:
    prefix = new_prefix()
    response = post_json_text(
        api, _body(amount, setup_literal=f'"{amount}"', value=new_value(prefix))
    )
    assert response.status_code == 201, response.text
    created = response.json()

    matching = list_numbers(
        api,
        value_like=prefix,
        monthyPrice_gte=amount,
        monthyPrice_lte=amount,
        setupPrice_gte=amount,
        setupPrice_lte=amount,
    )

    assert (created["monthyPrice"], created["setupPrice"]) == (amount, amount)
    assert ids_of(matching) == [created["id"]]
    assert matching.json()[0]["monthyPrice"] == amount
