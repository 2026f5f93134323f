"""GET /numbers in json-server's dialect: bare array, X-Total-Count, Link, sorting and filters.

Every test lists only numbers it made, through ``value_like`` on a prefix of its own, so the
table may hold anything else (the compose run seeds 800 numbers).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from integration_tests.api_client import (
    create_number,
    digits_of,
    error_parameters,
    expect_problem,
    ids_of,
    links_of,
    list_numbers,
    new_prefix,
    query_of,
)

Number = dict[str, Any]

#: (value suffix, monthyPrice, setupPrice, currency). The suffixes' formatting characters sort
#: differently from their digits, prices sort differently as text and as numbers, and there
#: are ties in every column.
_FAMILY = (
    (" (900)", "10.00", "0.50", "USD"),
    ("-100", "9.50", "2.00", "EUR"),
    (".500", "100.00", "2.00", "BRL"),
    ("300", "9.50", "1.00", "USD"),
    (" 200", "0.99", "2.00", "EUR"),
    ("(700)", "10.00", "0.00", "U$"),
)

_SORT_KEYS: dict[str, Callable[[Number], Any]] = {
    "id": lambda n: n["id"],
    "value": lambda n: digits_of(n["value"]),
    "monthyPrice": lambda n: Decimal(n["monthyPrice"]),
    "setupPrice": lambda n: Decimal(n["setupPrice"]),
    "currency": lambda n: n["currency"],
}


class Family:
    """Numbers made under one prefix, listed alone with ``value_like=prefix``."""

    def __init__(self, api: httpx.Client, size: int | None = None) -> None:
        self.prefix = new_prefix()
        rows = (
            _FAMILY if size is None else [(f"{i:03d}", "1.00", "1.00", "U$") for i in range(size)]
        )
        self.numbers = [
            create_number(api, value=self.prefix + suffix, monthyPrice=m, setupPrice=s, currency=c)
            for suffix, m, s, c in rows
        ]
        self.ids = [n["id"] for n in self.numbers]

    def sorted(self, *fields: tuple[str, bool]) -> list[int]:
        """The ids in the order the API must give for (field, descending) pairs, id tie-break."""
        ordered = sorted(self.numbers, key=lambda n: n["id"])
        for field, descending in reversed(fields):
            ordered.sort(key=_SORT_KEYS[field], reverse=descending)  # stable: ties keep id order
        return [n["id"] for n in ordered]


@pytest.fixture(scope="module")
def module_api(api_url: str, token: str) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=api_url, headers=headers, timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def family(module_api: httpx.Client) -> Family:
    """Six numbers, read-only for the tests that list them."""
    return Family(module_api)


# --- the body and its headers ----------------------------------------------------------------


def test_list_is_a_bare_array_with_x_total_count(api: httpx.Client, family: Family) -> None:
    response = list_numbers(api, value_like=family.prefix)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == family.numbers
    assert response.headers["x-total-count"] == "6"
    assert "link" not in response.headers


def test_x_total_count_counts_every_match_not_the_page(api: httpx.Client, family: Family) -> None:
    response = list_numbers(api, value_like=family.prefix, _limit=4, _page=2)

    assert ids_of(response) == family.ids[4:]
    assert response.headers["x-total-count"] == "6"


def test_nothing_matching_is_an_empty_array_without_link(api: httpx.Client) -> None:
    response = list_numbers(api, value_like=new_prefix(), _limit=1)

    assert response.status_code == 200
    assert response.json() == []
    assert response.headers["x-total-count"] == "0"
    assert "link" not in response.headers


def test_everything_on_one_page_has_no_link(api: httpx.Client, family: Family) -> None:
    response = list_numbers(api, value_like=family.prefix, _limit=6)

    assert len(response.json()) == 6
    assert "link" not in response.headers


def test_head_on_the_list_has_the_headers_of_get_and_no_body(
    api: httpx.Client, family: Family
) -> None:
    params = {"value_like": family.prefix, "_limit": 2, "_page": 2}

    get = api.get("/numbers", params=params)
    head = api.head("/numbers", params=params)

    assert head.status_code == 200
    assert head.content == b""
    assert "link" in get.headers
    comparable = [
        {k: v for k, v in r.headers.items() if k not in ("date", "x-request-id")}
        for r in (get, head)
    ]
    assert comparable[0] == comparable[1]


# --- pagination and Link ---------------------------------------------------------------------


def test_pages_split_the_matches_in_id_order(api: httpx.Client, family: Family) -> None:
    pages = [ids_of(list_numbers(api, value_like=family.prefix, _limit=4, _page=p)) for p in (1, 2)]

    assert pages == [family.ids[:4], family.ids[4:]]


def test_page_past_the_end_is_200_and_empty(api: httpx.Client, family: Family) -> None:
    response = list_numbers(api, value_like=family.prefix, _limit=4, _page=99)

    assert response.status_code == 200
    assert response.json() == []
    assert response.headers["x-total-count"] == "6"


def test_link_keeps_every_parameter_under_the_names_sent(
    api: httpx.Client, api_url: str, family: Family
) -> None:
    sent = [
        ("value_like", family.prefix),
        ("currency", "USD"),
        ("currency", "EUR"),
        ("currency", "BRL"),
        ("currency", "U$"),
        ("_limit", "2"),
        ("_page", "2"),
        ("unknown", "kept too"),
    ]

    response = api.get("/numbers", params=sent)

    links = links_of(response)
    assert set(links) == {"first", "prev", "next", "last"}
    expected_pages = {"first": "1", "prev": "1", "next": "3", "last": "3"}
    for rel, url in links.items():
        assert urlsplit(url)[:3] == (*urlsplit(api_url)[:2], "/numbers"), url  # absolute
        query = query_of(url)
        assert sorted(query) == sorted(
            [p for p in sent if p[0] != "_page"] + [("_page", expected_pages[rel])]
        )


@pytest.mark.parametrize(
    ("page", "rels"),
    [
        (1, {"first", "next", "last"}),
        (2, {"first", "prev", "next", "last"}),
        (3, {"first", "prev", "last"}),
    ],
)
def test_link_has_prev_and_next_only_where_they_exist(
    api: httpx.Client, family: Family, page: int, rels: set[str]
) -> None:
    response = list_numbers(api, value_like=family.prefix, _limit=2, _page=page)

    assert set(links_of(response)) == rels


def test_link_uses_the_aliases_the_client_sent(api: httpx.Client, family: Family) -> None:
    sent = [
        ("q", family.prefix),
        ("perPage", "2"),
        ("page", "2"),
        ("sort", "id"),
        ("order", "desc"),
    ]

    response = api.get("/numbers", params=sent)

    assert ids_of(response) == list(reversed(family.ids))[2:4]
    next_query = query_of(links_of(response)["next"])
    assert sorted(next_query) == sorted([p for p in sent if p[0] != "page"] + [("page", "3")])


def test_link_adds_page_when_the_client_sent_none(api: httpx.Client, family: Family) -> None:
    response = list_numbers(api, value_like=family.prefix, perPage=2)

    links = links_of(response)
    assert ("_page", "2") in query_of(links["next"])
    assert ("_page", "3") in query_of(links["last"])
    assert ("perPage", "2") in query_of(links["next"])


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param({"_page": 2, "page": 1, "_limit": 2}, "page 2 of 2", id="_page over page"),
        pytest.param({"_limit": 2, "perPage": 5}, "2 per page", id="_limit over perPage"),
        pytest.param({"_sort": "monthyPrice", "sort": "id"}, "by price", id="_sort over sort"),
        pytest.param({"_order": "desc", "order": "asc"}, "id descending", id="_order over order"),
    ],
)
def test_json_server_name_wins_over_its_alias(
    api: httpx.Client, family: Family, params: dict[str, Any], expected: str
) -> None:
    response = list_numbers(api, value_like=family.prefix, **params)

    ids = {
        "page 2 of 2": family.ids[2:4],
        "2 per page": family.ids[:2],
        "by price": family.sorted(("monthyPrice", False)),
        "id descending": list(reversed(family.ids)),
    }[expected]
    assert ids_of(response) == ids


def test_value_like_wins_over_q(api: httpx.Client, family: Family) -> None:
    response = list_numbers(api, value_like=family.prefix, q=new_prefix())

    assert ids_of(response) == family.ids


def test_default_page_is_the_first_100_and_1000_is_allowed(api: httpx.Client) -> None:
    many = Family(api, size=101)

    default = list_numbers(api, value_like=many.prefix)
    second = list_numbers(api, value_like=many.prefix, _page=2)
    largest = list_numbers(api, value_like=many.prefix, _limit=1000)

    assert ids_of(default) == many.ids[:100]
    assert default.headers["x-total-count"] == "101"
    assert ("_page", "2") in query_of(links_of(default)["last"])
    assert ids_of(second) == many.ids[100:]
    assert ids_of(largest) == many.ids
    assert "link" not in largest.headers


# --- sorting ---------------------------------------------------------------------------------


@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize("field", list(_SORT_KEYS))
def test_sort_by_each_field_breaks_ties_by_ascending_id(
    api: httpx.Client, family: Family, field: str, order: str
) -> None:
    response = list_numbers(api, value_like=family.prefix, _sort=field, _order=order)

    assert ids_of(response) == family.sorted((field, order == "desc"))


def test_prices_sort_as_numbers_not_text(api: httpx.Client, family: Family) -> None:
    response = list_numbers(api, value_like=family.prefix, _sort="monthyPrice")

    prices = [n["monthyPrice"] for n in response.json()]
    assert prices == ["0.99", "9.50", "9.50", "10.00", "10.00", "100.00"]


def test_value_sorts_by_its_digits(api: httpx.Client, family: Family) -> None:
    response = list_numbers(api, value_like=family.prefix, _sort="value")

    suffixes = [digits_of(n["value"])[-3:] for n in response.json()]
    assert suffixes == ["100", "200", "300", "500", "700", "900"]


def test_sort_by_several_fields_with_an_order_each(api: httpx.Client, family: Family) -> None:
    response = list_numbers(
        api, value_like=family.prefix, _sort="currency,monthyPrice", _order="asc,desc"
    )

    assert ids_of(response) == family.sorted(("currency", False), ("monthyPrice", True))


def test_missing_order_entries_mean_ascending(api: httpx.Client, family: Family) -> None:
    response = list_numbers(
        api, value_like=family.prefix, _sort="setupPrice,currency,monthyPrice", _order="desc"
    )

    assert ids_of(response) == family.sorted(
        ("setupPrice", True), ("currency", False), ("monthyPrice", False)
    )


def test_order_alone_applies_to_id(api: httpx.Client, family: Family) -> None:
    response = list_numbers(api, value_like=family.prefix, _order="desc")

    assert ids_of(response) == list(reversed(family.ids))


def test_sort_and_order_aliases(api: httpx.Client, family: Family) -> None:
    response = list_numbers(api, value_like=family.prefix, sort="setupPrice", order="desc")

    assert ids_of(response) == family.sorted(("setupPrice", True))


# --- filters ---------------------------------------------------------------------------------


def _reformatted(prefix: str) -> str:
    """The prefix's digits with other formatting: ``+1 (912) 345.6789``."""
    d = digits_of(prefix)
    return f"+{d[0]} ({d[1:4]}) {d[4:7]}.{d[7:]}"


@pytest.mark.parametrize("name", ["value_like", "q"])
def test_value_like_matches_digits_whatever_the_formatting(
    api: httpx.Client, family: Family, name: str
) -> None:
    response = list_numbers(api, **{name: _reformatted(family.prefix)})

    assert ids_of(response) == family.ids


def test_value_like_matches_digits_anywhere_in_the_number(
    api: httpx.Client, family: Family
) -> None:
    middle = digits_of(family.prefix)[3:] + "90"

    response = list_numbers(api, value_like=middle)

    assert ids_of(response) == [family.ids[0]]


def test_repeated_currency_matches_any_of_them(api: httpx.Client, family: Family) -> None:
    response = list_numbers(api, value_like=family.prefix, currency=["USD", "EUR"])

    assert ids_of(response) == [n["id"] for n in family.numbers if n["currency"] in ("USD", "EUR")]
    assert response.headers["x-total-count"] == "4"


def test_currency_outside_the_allowed_set_matches_nothing(
    api: httpx.Client, family: Family
) -> None:
    response = list_numbers(api, value_like=family.prefix, currency="GBP")

    assert response.status_code == 200
    assert response.json() == []
    assert response.headers["x-total-count"] == "0"


@pytest.mark.parametrize(
    ("bounds", "expected"),
    [
        ({"monthyPrice_gte": "9.50"}, lambda n: Decimal(n["monthyPrice"]) >= Decimal("9.50")),
        ({"monthyPrice_gte": "9.51"}, lambda n: Decimal(n["monthyPrice"]) >= Decimal("9.51")),
        ({"monthyPrice_lte": "9.5"}, lambda n: Decimal(n["monthyPrice"]) <= Decimal("9.50")),
        ({"monthyPrice_lte": "9.49"}, lambda n: Decimal(n["monthyPrice"]) <= Decimal("9.49")),
        ({"setupPrice_gte": "2", "setupPrice_lte": "2.00"}, lambda n: n["setupPrice"] == "2.00"),
        ({"setupPrice_lte": "0"}, lambda n: n["setupPrice"] == "0.00"),
        (
            {"monthyPrice_gte": "1", "monthyPrice_lte": "99.99", "setupPrice_gte": "1"},
            lambda n: (
                Decimal("1") <= Decimal(n["monthyPrice"]) <= Decimal("99.99")
                and Decimal(n["setupPrice"]) >= 1
            ),
        ),
    ],
)
def test_price_bounds_are_exact_and_inclusive(
    api: httpx.Client,
    family: Family,
    bounds: dict[str, str],
    expected: Callable[[Number], bool],
) -> None:
    response = list_numbers(api, value_like=family.prefix, **bounds)

    assert ids_of(response) == [n["id"] for n in family.numbers if expected(n)]


def test_unknown_parameters_are_ignored(api: httpx.Client, family: Family) -> None:
    response = list_numbers(api, value_like=family.prefix, _embed="x", color="red", price="1")

    assert response.status_code == 200
    assert ids_of(response) == family.ids


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"_page": "0"}, "_page"),
        ({"_page": "-1"}, "_page"),
        ({"page": "abc"}, "page"),
        ({"_page": "1.5"}, "_page"),
        ({"_limit": "0"}, "_limit"),
        ({"_limit": "5000"}, "_limit"),
        ({"_limit": "1001"}, "_limit"),
        ({"perPage": "many"}, "perPage"),
        ({"_sort": "price"}, "_sort"),
        ({"sort": "id,created_at"}, "sort"),
        ({"_order": "up"}, "_order"),
        ({"_order": "desc", "order": "sideways"}, "order"),
        ({"order": "sideways"}, "order"),
        ({"value_like": "abc"}, "value_like"),
        ({"value_like": ""}, "value_like"),
        ({"q": "+"}, "q"),
        ({"monthyPrice_gte": "abc"}, "monthyPrice_gte"),
        ({"monthyPrice_lte": "1e2"}, "monthyPrice_lte"),
        ({"setupPrice_gte": "-1"}, "setupPrice_gte"),
        ({"setupPrice_lte": "1.001"}, "setupPrice_lte"),
    ],
)
def test_invalid_parameter_is_400_naming_it(
    api: httpx.Client, params: dict[str, str], named: str
) -> None:
    problem = expect_problem(list_numbers(api, **params), 400)

    assert error_parameters(problem) == [named]
    assert named in problem["detail"]


@pytest.mark.parametrize(
    ("params", "accepted"),
    [
        ({"_limit": "5000"}, ["1000"]),
        ({"_sort": "price"}, ["id", "value", "monthyPrice", "setupPrice", "currency"]),
        ({"_order": "up"}, ["asc", "desc"]),
    ],
)
def test_bad_parameter_detail_says_what_is_accepted(
    api: httpx.Client, params: dict[str, str], accepted: list[str]
) -> None:
    problem = expect_problem(list_numbers(api, **params), 400)

    detail = problem["errors"][0]["detail"]
    assert all(word in detail for word in accepted), detail


def test_every_invalid_parameter_is_named_at_once(api: httpx.Client) -> None:
    problem = expect_problem(list_numbers(api, _page="0", _sort="price", monthyPrice_gte="x"), 400)

    assert sorted(error_parameters(problem)) == ["_page", "_sort", "monthyPrice_gte"]
