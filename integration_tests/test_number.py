"""/numbers/{id}: read with ETags, replace, merge-patch, delete, and If-Match preconditions."""

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
    random_digits,
)

UNKNOWN_ID = 2_000_000_000  # an id no test creates (ids count up from 1)


def _replacement() -> dict[str, Any]:
    return number_body(monthyPrice="9.99", setupPrice="0", currency="EUR")


# --- GET -------------------------------------------------------------------------------------


def test_get_answers_the_number_with_a_strong_etag(api: httpx.Client) -> None:
    number = create_number(api)

    response = api.get(f"/numbers/{number['id']}")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == number
    etag = response.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"') and len(etag) > 2


@pytest.mark.parametrize("form", ["{etag}", "W/{etag}", '"other", {etag}', "*"])
def test_if_none_match_with_the_current_etag_is_304(api: httpx.Client, form: str) -> None:
    number = create_number(api)
    etag = api.get(f"/numbers/{number['id']}").headers["etag"]

    response = api.get(
        f"/numbers/{number['id']}", headers={"If-None-Match": form.format(etag=etag)}
    )

    assert response.status_code == 304
    assert response.content == b""
    assert "content-type" not in response.headers
    assert response.headers["etag"] == etag


def test_if_none_match_with_a_stale_etag_is_200(api: httpx.Client) -> None:
    number = create_number(api)
    stale = api.get(f"/numbers/{number['id']}").headers["etag"]
    api.patch(f"/numbers/{number['id']}", json={"currency": "EUR"})

    response = api.get(f"/numbers/{number['id']}", headers={"If-None-Match": stale})

    assert response.status_code == 200
    assert response.json()["currency"] == "EUR"
    assert response.headers["etag"] != stale


@pytest.mark.parametrize("path", [f"/numbers/{UNKNOWN_ID}", "/numbers/abc", "/numbers/-1"])
def test_get_unknown_number_is_404(api: httpx.Client, path: str) -> None:
    expect_problem(api.get(path), 404)


def test_head_on_a_number_has_the_headers_of_get_and_no_body(api: httpx.Client) -> None:
    number = create_number(api)

    get = api.get(f"/numbers/{number['id']}")
    head = api.head(f"/numbers/{number['id']}")

    assert head.status_code == 200
    assert head.content == b""
    assert _comparable(head.headers) == _comparable(get.headers)


def _comparable(headers: httpx.Headers) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k not in ("date", "x-request-id")}


# --- PUT -------------------------------------------------------------------------------------


def test_put_replaces_every_field_and_changes_the_etag(api: httpx.Client) -> None:
    number = create_number(api)
    old_etag = api.get(f"/numbers/{number['id']}").headers["etag"]
    replacement = _replacement()

    response = api.put(f"/numbers/{number['id']}", json=replacement)

    assert response.status_code == 200, response.text
    expected = {
        "id": number["id"],
        "value": replacement["value"],
        "monthyPrice": "9.99",
        "setupPrice": "0.00",
        "currency": "EUR",
    }
    assert response.json() == expected
    assert response.headers["etag"] not in ("", old_etag)
    fetched = api.get(f"/numbers/{number['id']}")
    assert fetched.json() == expected
    assert fetched.headers["etag"] == response.headers["etag"]


@pytest.mark.parametrize("missing", ["value", "monthyPrice", "setupPrice", "currency"])
def test_put_without_every_field_is_422(api: httpx.Client, missing: str) -> None:
    number = create_number(api)
    replacement = _replacement()
    del replacement[missing]

    problem = expect_problem(api.put(f"/numbers/{number['id']}", json=replacement), 422)

    assert error_pointers(problem) == [f"#/{missing}"]
    assert api.get(f"/numbers/{number['id']}").json() == number


def test_put_unknown_id_is_404_and_creates_nothing(api: httpx.Client) -> None:
    value = new_value()

    expect_problem(api.put(f"/numbers/{UNKNOWN_ID}", json=number_body(value=value)), 404)

    expect_problem(api.get(f"/numbers/{UNKNOWN_ID}"), 404)
    assert api.get("/numbers", params={"value_like": value}).json() == []


def test_put_with_the_urls_id_in_the_body_is_accepted(api: httpx.Client) -> None:
    number = create_number(api)

    response = api.put(f"/numbers/{number['id']}", json={**_replacement(), "id": number["id"]})

    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "body_id",
    [
        pytest.param("other", id="another id"),
        pytest.param("as string", id="the id as a string"),
        pytest.param(None, id="null"),
        pytest.param(1.5, id="fraction"),
    ],
)
@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_body_id_that_is_not_the_urls_integer_id_is_422(
    api: httpx.Client, method: str, body_id: Any
) -> None:
    number = create_number(api)
    if body_id == "other":
        body_id = number["id"] + 1
    elif body_id == "as string":
        body_id = str(number["id"])

    response = api.request(
        method, f"/numbers/{number['id']}", json={**_replacement(), "id": body_id}
    )

    problem = expect_problem(response, 422)
    assert error_pointers(problem) == ["#/id"]
    assert api.get(f"/numbers/{number['id']}").json() == number


def test_put_with_digits_held_by_another_number_is_409(api: httpx.Client) -> None:
    holder = create_number(api)
    number = create_number(api)
    same_digits = "+" + "".join(c for c in holder["value"] if c.isdigit())

    response = api.put(f"/numbers/{number['id']}", json=_replacement() | {"value": same_digits})

    assert expect_problem(response, 409)["existingId"] == holder["id"]
    assert api.get(f"/numbers/{number['id']}").json() == number


def test_put_may_reformat_the_numbers_own_value(api: httpx.Client) -> None:
    digits = random_digits(8)
    number = create_number(api, value=f"+55 84 9{digits[:4]}-{digits[4:]}")

    response = api.put(
        f"/numbers/{number['id']}", json=_replacement() | {"value": f"+55849{digits}"}
    )

    assert response.status_code == 200, response.text
    assert response.json()["value"] == f"+55849{digits}"


# --- PATCH -----------------------------------------------------------------------------------


def test_patch_changes_only_the_fields_sent(api: httpx.Client) -> None:
    number = create_number(api, monthyPrice="1.00", currency="U$")
    old_etag = api.get(f"/numbers/{number['id']}").headers["etag"]

    response = api.patch(f"/numbers/{number['id']}", json={"monthyPrice": "2.5"})

    assert response.status_code == 200, response.text
    assert response.json() == {**number, "monthyPrice": "2.50"}
    assert response.headers["etag"] != old_etag
    assert api.get(f"/numbers/{number['id']}").json() == {**number, "monthyPrice": "2.50"}


def test_patch_accepts_the_monthly_price_alias(api: httpx.Client) -> None:
    number = create_number(api)

    response = api.patch(f"/numbers/{number['id']}", json={"monthlyPrice": 7})

    assert response.status_code == 200, response.text
    assert response.json()["monthyPrice"] == "7.00"


@pytest.mark.parametrize("field", ["value", "monthyPrice", "setupPrice", "currency"])
def test_patch_null_for_a_required_field_is_422(api: httpx.Client, field: str) -> None:
    number = create_number(api)

    problem = expect_problem(api.patch(f"/numbers/{number['id']}", json={field: None}), 422)

    assert error_pointers(problem) == [f"#/{field}"]
    assert api.get(f"/numbers/{number['id']}").json() == number


@pytest.mark.parametrize(
    ("patch", "pointer"),
    [
        ({"monthyPrice": "1.001"}, "#/monthyPrice"),
        ({"setupPrice": -3}, "#/setupPrice"),
        ({"value": "+0123456789"}, "#/value"),
        ({"currency": "GBP"}, "#/currency"),
        ({"color": "red"}, "#/color"),
    ],
)
def test_patch_with_an_invalid_field_is_422_and_changes_nothing(
    api: httpx.Client, patch: dict[str, Any], pointer: str
) -> None:
    number = create_number(api)

    problem = expect_problem(api.patch(f"/numbers/{number['id']}", json=patch), 422)

    assert error_pointers(problem) == [pointer]
    assert api.get(f"/numbers/{number['id']}").json() == number


def test_patch_unknown_id_is_404(api: httpx.Client) -> None:
    expect_problem(api.patch(f"/numbers/{UNKNOWN_ID}", json={"currency": "EUR"}), 404)


def test_patch_to_digits_held_by_another_number_is_409(api: httpx.Client) -> None:
    holder = create_number(api)
    number = create_number(api)

    response = api.patch(f"/numbers/{number['id']}", json={"value": holder["value"]})

    assert expect_problem(response, 409)["existingId"] == holder["id"]


# --- DELETE ----------------------------------------------------------------------------------


# Changed by issue 9: DELETE answered 204; json-server answers 200 with a JSON body, and
# react-admin reads the deleted record from it.
def test_delete_is_200_with_the_deleted_number_then_404(api: httpx.Client) -> None:
    number = create_number(api)

    response = api.delete(f"/numbers/{number['id']}")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == number
    expect_problem(api.get(f"/numbers/{number['id']}"), 404)
    expect_problem(api.delete(f"/numbers/{number['id']}"), 404)


@pytest.mark.parametrize(
    "prefer", ["return=minimal", "respond-async, return=minimal", "RETURN=minimal; x=1"]
)
def test_delete_preferring_a_minimal_return_is_204_without_body_or_content_type(
    api: httpx.Client, prefer: str
) -> None:
    number = create_number(api)

    response = api.delete(f"/numbers/{number['id']}", headers={"Prefer": prefer})

    assert response.status_code == 204
    assert response.content == b""
    assert "content-type" not in response.headers
    assert response.headers["preference-applied"] == "return=minimal"
    expect_problem(api.get(f"/numbers/{number['id']}"), 404)


def test_delete_preferring_a_full_representation_is_200(api: httpx.Client) -> None:
    number = create_number(api)

    response = api.delete(f"/numbers/{number['id']}", headers={"Prefer": "return=representation"})

    assert response.status_code == 200
    assert response.json() == number


def test_deleted_numbers_digits_can_be_sold_again(api: httpx.Client) -> None:
    number = create_number(api)
    api.delete(f"/numbers/{number['id']}")

    again = create_number(api, value=number["value"])

    assert again["id"] != number["id"]


# --- If-Match --------------------------------------------------------------------------------


def _write(api: httpx.Client, method: str, number_id: int, if_match: str) -> httpx.Response:
    body = {"PUT": _replacement(), "PATCH": {"currency": "EUR"}, "DELETE": None}[method]
    return api.request(method, f"/numbers/{number_id}", json=body, headers={"If-Match": if_match})


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_write_with_a_stale_if_match_is_412_and_changes_nothing(
    api: httpx.Client, method: str
) -> None:
    number = create_number(api)
    stale = api.get(f"/numbers/{number['id']}").headers["etag"]
    current = api.patch(f"/numbers/{number['id']}", json={"setupPrice": "5.00"})

    response = _write(api, method, number["id"], stale)

    expect_problem(response, 412)
    after = api.get(f"/numbers/{number['id']}")
    assert after.json() == current.json()
    assert after.headers["etag"] == current.headers["etag"]


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("if_match", ["current", "*", "list"])
def test_write_with_a_matching_if_match_succeeds(
    api: httpx.Client, method: str, if_match: str
) -> None:
    number = create_number(api)
    etag = api.get(f"/numbers/{number['id']}").headers["etag"]
    header = {"current": etag, "*": "*", "list": f'"stale", {etag}'}[if_match]

    response = _write(api, method, number["id"], header)

    assert response.status_code == 200, response.text
    if method != "DELETE":
        assert response.headers["etag"] != etag


def test_write_without_if_match_proceeds(api: httpx.Client) -> None:
    number = create_number(api)
    api.patch(f"/numbers/{number['id']}", json={"currency": "BRL"})

    response = api.patch(f"/numbers/{number['id']}", json={"currency": "EUR"})

    assert response.status_code == 200
    assert response.json()["currency"] == "EUR"
