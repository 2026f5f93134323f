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
from integration_tests.conftest import AppFactory, Connect, signed_in

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
def module_api(connect: Connect, token: str) -> Iterator[httpx.Client]:
    with connect(headers={"Authorization": f"Bearer {token}"}) as client:
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
    params: dict[str, str | int] = {"value_like": family.prefix, "_limit": 2, "_page": 2}

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


@pytest.mark.parametrize(
    "window",
    [
        {"_page": "2147483647", "_limit": "1000"},
        {"_page": "2147483647"},
        {"_start": "2147483648", "_end": "2147483650"},
        {"_start": "9007199254740992", "_limit": "5"},
        {"_start": "9007199254740000", "_end": "9007199254740992"},
    ],
)
def test_a_window_far_past_the_end_is_200_and_empty(
    api: httpx.Client, family: Family, window: dict[str, str]
) -> None:
    # Offsets past 2**31 must reach the database as 64-bit integers (Schemathesis found a 500).
    response = list_numbers(api, value_like=family.prefix, **window)

    assert response.status_code == 200
    assert response.json() == []
    assert response.headers["x-total-count"] == "6"


def test_link_keeps_every_parameter_under_the_names_sent(api: httpx.Client, family: Family) -> None:
    api_url = str(api.base_url)
    sent: list[tuple[str, str | int | float | bool | None]] = [
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


# Changed by issue 9: the aliases page, perPage, sort and order are gone (json-server does not
# know them), so they are ignored like any unknown parameter; q is json-server's full-text search.
def test_the_removed_aliases_are_ignored_like_unknown_parameters(
    api: httpx.Client, family: Family
) -> None:
    response = list_numbers(
        api, value_like=family.prefix, page=2, perPage=2, sort="setupPrice", order="desc"
    )

    assert ids_of(response) == family.ids
    assert "link" not in response.headers


def test_limit_alone_is_a_slice_whose_links_move_start(api: httpx.Client, family: Family) -> None:
    response = list_numbers(api, value_like=family.prefix, _limit=2)

    assert ids_of(response) == family.ids[:2]
    links = links_of(response)
    assert ("_start", "2") in query_of(links["next"])
    assert ("_limit", "2") in query_of(links["next"])
    assert ("_start", "4") in query_of(links["last"])


def test_start_and_end_slice_the_matches(api: httpx.Client, family: Family) -> None:
    response = list_numbers(api, value_like=family.prefix, _start=1, _end=4)

    assert ids_of(response) == family.ids[1:4]
    assert response.headers["x-total-count"] == "6"
    links = links_of(response)
    assert set(links) == {"first", "prev", "next", "last"}
    assert ("_start", "4") in query_of(links["next"])
    assert ("_end", "7") in query_of(links["next"])


def test_start_with_limit_slices_that_many(api: httpx.Client, family: Family) -> None:
    response = list_numbers(api, value_like=family.prefix, _start=4, _limit=5)

    assert ids_of(response) == family.ids[4:]


def test_an_end_before_the_start_is_an_empty_slice(api: httpx.Client, family: Family) -> None:
    response = list_numbers(api, value_like=family.prefix, _start=4, _end=2)

    assert response.status_code == 200
    assert response.json() == []
    assert response.headers["x-total-count"] == "6"


def test_q_and_value_like_both_apply(api: httpx.Client, family: Family) -> None:
    response = list_numbers(api, value_like=family.prefix, q="USD")

    assert ids_of(response) == [n["id"] for n in family.numbers if n["currency"] == "USD"]


# Changed by issue 9: without a paging parameter the list was a first page of 100 rows; now it
# is every row (up to MAX_PAGE_SIZE), and _page without _limit means 10 rows, as in json-server.
def test_page_without_limit_is_ten_rows(api: httpx.Client) -> None:
    many = Family(api, size=12)

    first = list_numbers(api, value_like=many.prefix, _page=1)
    second = list_numbers(api, value_like=many.prefix, _page=2)

    assert ids_of(first) == many.ids[:10]
    assert ("_page", "2") in query_of(links_of(first)["last"])
    assert ids_of(second) == many.ids[10:]
    assert first.headers["x-total-count"] == second.headers["x-total-count"] == "12"


def test_no_paging_parameter_is_every_match(api: httpx.Client) -> None:
    many = Family(api, size=12)

    response = list_numbers(api, value_like=many.prefix)

    assert ids_of(response) == many.ids
    assert response.headers["x-total-count"] == "12"
    assert "link" not in response.headers


def test_more_matches_than_the_maximum_page_size_come_with_a_next_link(
    in_process: AppFactory,
) -> None:
    with in_process(env={"MAX_PAGE_SIZE": "5"}) as app, signed_in(app) as api:
        many = Family(api, size=7)

        response = list_numbers(api, value_like=many.prefix)
        rest = api.get(links_of(response)["next"])

    assert ids_of(response) == many.ids[:5]
    assert response.headers["x-total-count"] == "7"
    assert ids_of(rest) == many.ids[5:]
    assert "next" not in links_of(rest)


@pytest.mark.parametrize(
    "name",
    [
        "_page",
        "_limit",
        "_start",
        "_end",
        "_sort",
        "_order",
        "q",
        "value_like",
        "currency",
        "currency_like",
        "id",
        "value",
        "monthyPrice",
        "monthyPrice_gte",
        "setupPrice_lte",
        "id_ne",
    ],
)
def test_an_empty_parameter_is_as_if_it_was_not_sent(
    api: httpx.Client, family: Family, name: str
) -> None:
    response = api.get("/numbers", params=[("value_like", family.prefix), (name, "")])

    assert response.status_code == 200, response.text
    assert ids_of(response) == family.ids
    assert response.headers["x-total-count"] == "6"


def test_the_empty_search_box_of_a_first_load_lists_everything(api: httpx.Client) -> None:
    response = api.get("/numbers?value_like=&_page=1&_limit=10")

    assert response.status_code == 200
    assert len(response.json()) == min(10, int(response.headers["x-total-count"]))


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


@pytest.mark.parametrize(("order", "descending"), [("DESC", True), ("ASC", False), ("Desc", True)])
def test_order_is_case_insensitive(
    api: httpx.Client, family: Family, order: str, descending: bool
) -> None:
    response = list_numbers(api, value_like=family.prefix, _sort="setupPrice", _order=order)

    assert ids_of(response) == family.sorted(("setupPrice", descending))


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


def test_repeated_ids_are_exactly_those_numbers_as_react_admins_get_many_asks(
    api: httpx.Client, family: Family
) -> None:
    wanted = [family.ids[4], family.ids[1], family.ids[2]]

    response = api.get("/numbers", params=[("id", i) for i in wanted])

    assert ids_of(response) == sorted(wanted)
    assert response.headers["x-total-count"] == "3"


def test_value_equality_matches_the_digits_of_one_number(api: httpx.Client, family: Family) -> None:
    number = family.numbers[3]

    response = list_numbers(api, value=_reformatted(number["value"]))

    assert ids_of(response) == [number["id"]]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"currency_ne": "USD"}, lambda n: n["currency"] != "USD"),
        ({"currency_ne": ["USD", "EUR"]}, lambda n: n["currency"] not in ("USD", "EUR")),
        ({"monthyPrice": "9.5"}, lambda n: n["monthyPrice"] == "9.50"),
        ({"monthyPrice_ne": "10"}, lambda n: n["monthyPrice"] != "10.00"),
        ({"setupPrice": ["0", "1"]}, lambda n: n["setupPrice"] in ("0.00", "1.00")),
        ({"currency": "EUR", "setupPrice_gte": "2"}, lambda n: n["currency"] == "EUR"),
        ({"currency_gte": "U", "currency_lte": "USD"}, lambda n: "U" <= n["currency"] <= "USD"),
        ({"currency_like": "ur"}, lambda n: "ur" in n["currency"].lower()),
        ({"currency_like": "$"}, lambda n: "$" in n["currency"]),
        ({"q": "eur"}, lambda n: n["currency"] == "EUR"),
        ({"q": "9.5"}, lambda n: "9.5" in n["monthyPrice"] or "95" in digits_of(n["value"])),
        ({"q": "zzz"}, lambda n: False),
        ({"q": "+"}, lambda n: False),
    ],
)
def test_field_filters_and_full_text_search(
    api: httpx.Client, family: Family, params: dict[str, Any], expected: Callable[[Number], bool]
) -> None:
    response = list_numbers(api, value_like=family.prefix, **params)

    assert response.status_code == 200, response.text
    assert ids_of(response) == [n["id"] for n in family.numbers if expected(n)]


def test_id_and_value_bounds_compare_as_numbers_and_digits(
    api: httpx.Client, family: Family
) -> None:
    low, high = family.ids[1], family.ids[4]
    by_id = list_numbers(api, value_like=family.prefix, id_gte=low, id_lte=high)
    digits = sorted(digits_of(n["value"]) for n in family.numbers)
    by_value = list_numbers(api, value_like=family.prefix, value_gte=digits[2], value_lte=digits[3])

    assert ids_of(by_id) == family.ids[1:5]
    assert sorted(digits_of(n["value"]) for n in by_value.json()) == digits[2:4]


def test_unknown_parameters_are_ignored(api: httpx.Client, family: Family) -> None:
    response = list_numbers(api, value_like=family.prefix, _embed="x", color="red", price="1")

    assert response.status_code == 200
    assert ids_of(response) == family.ids


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"_page": "0"}, "_page"),
        ({"_page": "-1"}, "_page"),
        ({"_page": "abc"}, "_page"),
        ({"_page": "1.5"}, "_page"),
        ({"_limit": "0"}, "_limit"),
        ({"_limit": "5000"}, "_limit"),
        ({"_limit": "1001"}, "_limit"),
        ({"_start": "-1"}, "_start"),
        ({"_end": "many"}, "_end"),
        ({"_start": "0", "_end": "1001"}, "_end"),
        ({"_sort": "price"}, "_sort"),
        ({"_sort": "id,created_at"}, "_sort"),
        ({"_order": "up"}, "_order"),
        ({"_order": "desc,sideways"}, "_order"),
        ({"value_like": "abc"}, "value_like"),
        ({"value": "abc"}, "value"),
        ({"id": "one"}, "id"),
        ({"id_lte": "99999999999"}, "id_lte"),
        ({"monthyPrice_like": "3"}, "monthyPrice_like"),
        ({"_cursor": "", "_page": "2"}, "_cursor"),
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
        ({"_limit": "5000"}, ["1 to 1000"]),
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
