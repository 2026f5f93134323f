"""POST /numbers: the created representation and every field rule of a new number."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from integration_tests.api_client import (
    create_number,
    error_pointers,
    expect_problem,
    new_value,
    number_body,
    post_json_text,
    random_digits,
)


def test_create_answers_201_with_location_etag_and_the_number(api: httpx.Client) -> None:
    value = new_value()

    response = api.post(
        "/numbers",
        json={"value": value, "monthyPrice": "0.03", "setupPrice": "3.4", "currency": "U$"},
    )

    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    created = response.json()
    assert created == {
        "id": created["id"],
        "value": value,
        "monthyPrice": "0.03",
        "setupPrice": "3.40",
        "currency": "U$",
    }
    assert isinstance(created["id"], int)
    # Absolute, as json-server sends it (issue 9; it was the path alone).
    base = str(api.base_url).rstrip("/")
    assert response.headers["location"] == f"{base}/numbers/{created['id']}"
    etag = response.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')  # strong
    fetched = api.get(response.headers["location"])
    assert fetched.json() == created
    assert fetched.headers["etag"] == etag


def test_create_ignores_a_client_sent_id(api: httpx.Client) -> None:
    taken = create_number(api)["id"]

    created = create_number(api, id=taken)

    assert created["id"] != taken
    assert api.get(f"/numbers/{taken}").json()["id"] == taken


def test_monthly_price_alias_is_accepted_and_answered_as_monthy_price(api: httpx.Client) -> None:
    body = number_body(monthlyPrice="12.5")
    del body["monthyPrice"]

    response = api.post("/numbers", json=body)

    assert response.status_code == 201, response.text
    assert response.json()["monthyPrice"] == "12.50"
    assert "monthlyPrice" not in response.json()


def test_both_price_names_in_one_body_is_422(api: httpx.Client) -> None:
    response = api.post("/numbers", json=number_body(monthlyPrice="1.00"))

    problem = expect_problem(response, 422)
    assert error_pointers(problem) == ["#/monthlyPrice"]


def test_unknown_field_is_422_listing_it(api: httpx.Client) -> None:
    response = api.post("/numbers", json=number_body(country="BR", notes="x"))

    problem = expect_problem(response, 422)
    assert sorted(error_pointers(problem)) == ["#/country", "#/notes"]
    assert "value" in problem["errors"][0]["detail"]  # tells the allowed fields


@pytest.mark.parametrize("missing", ["value", "monthyPrice", "setupPrice", "currency"])
def test_missing_field_on_create_is_422(api: httpx.Client, missing: str) -> None:
    body = number_body()
    del body[missing]

    problem = expect_problem(api.post("/numbers", json=body), 422)

    assert error_pointers(problem) == [f"#/{missing}"]


def test_every_bad_field_is_reported_at_once(api: httpx.Client) -> None:
    body = {"value": "12", "monthyPrice": "-1", "setupPrice": "1.234", "currency": "GBP"}

    problem = expect_problem(api.post("/numbers", json=body), 422)

    assert sorted(error_pointers(problem)) == sorted(
        ["#/value", "#/monthyPrice", "#/setupPrice", "#/currency"]
    )
    assert all(error["detail"] for error in problem["errors"])


@pytest.mark.parametrize("text", ["[]", '["value"]', '"a string"', "42", "true", "null"])
def test_body_that_is_not_an_object_is_422(api: httpx.Client, text: str) -> None:
    problem = expect_problem(post_json_text(api, text), 422)

    assert error_pointers(problem) == ["#"]


# --- value -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "template",
    [
        "+55 84 9{4}-{4}",  # the agreed example's format
        "+55{11}",  # digits only
        "+1 (9{2}) {3}.{4}",  # parentheses and dots
        "+44 20 {4} {4}",
        "+9{7}",  # 8 digits, the fewest
        "+9{14}",  # 15 digits, the most
    ],
)
def test_value_in_an_accepted_format_is_stored_as_sent(api: httpx.Client, template: str) -> None:
    value = _fill(template)

    created = create_number(api, value=value)

    assert created["value"] == value


def test_value_is_trimmed(api: httpx.Client) -> None:
    value = new_value()

    created = create_number(api, value=f"  {value}\t")

    assert created["value"] == value


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("5584912344321", id="no plus"),
        pytest.param("+55 84 ABCD-4321", id="letters"),
        pytest.param("+55 84 91234/4321", id="slash"),
        pytest.param("+55_84_912344321", id="underscore"),
        pytest.param("++55 84 91234-4321", id="two plus signs"),
        pytest.param("+55 84 91234-4321 ext 2", id="extension"),
        pytest.param("+1234567", id="7 digits"),
        pytest.param("+1234567890123456", id="16 digits"),
        pytest.param("+055 84 91234-432", id="country code starting with 0"),
        pytest.param("+55 (84) 9 1 2 3 4 - 4 3 2 1 . . .", id="33 characters"),
        pytest.param("+٥٥٨٤٩١٢٣٤٤٣٢١", id="non-ascii digits"),
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param(5584912344321, id="json number"),
        pytest.param(None, id="null"),
        pytest.param(["+5584912344321"], id="array"),
    ],
)
def test_invalid_value_is_422(api: httpx.Client, value: Any) -> None:
    problem = expect_problem(api.post("/numbers", json=number_body(value=value)), 422)

    assert error_pointers(problem) == ["#/value"]


def test_value_of_32_characters_is_accepted(api: httpx.Client) -> None:
    value = "+55 (84) " + " ".join(random_digits(11)) + " ."
    assert len(value) == 32

    assert create_number(api, value=value)["value"] == value


def test_same_digits_in_another_format_is_409_naming_the_existing_id(api: httpx.Client) -> None:
    digits = random_digits(8)
    existing = create_number(api, value=f"+55 84 9{digits[:4]}-{digits[4:]}")

    response = api.post("/numbers", json=number_body(value=f"+55849{digits}"))

    problem = expect_problem(response, 409)
    assert problem["existingId"] == existing["id"]
    assert "location" not in response.headers


# --- currency --------------------------------------------------------------------------------


@pytest.mark.parametrize("currency", ["U$", "R$", "USD", "BRL", "EUR"])
def test_each_default_currency_is_accepted_and_echoed(api: httpx.Client, currency: str) -> None:
    assert create_number(api, currency=currency)["currency"] == currency


@pytest.mark.parametrize("currency", ["GBP", "usd", " USD", "US$", "", 840, None, True])
def test_currency_outside_the_allowed_set_is_422_listing_them(
    api: httpx.Client, currency: Any
) -> None:
    problem = expect_problem(api.post("/numbers", json=number_body(currency=currency)), 422)

    assert error_pointers(problem) == ["#/currency"]
    detail = problem["errors"][0]["detail"]
    if currency is not None:
        assert all(allowed in detail for allowed in ("U$", "R$", "USD", "BRL", "EUR"))


def _fill(template: str) -> str:
    """Replace each ``{n}`` in ``template`` with ``n`` random digits."""
    parts = template.replace("}", "{").split("{")
    return "".join(random_digits(int(p)) if i % 2 else p for i, p in enumerate(parts))
