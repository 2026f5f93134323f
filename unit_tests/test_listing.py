"""The list's query string (json-server's dialect with aliases) and its Link header."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from werkzeug.datastructures import MultiDict

from service.numbers.cursor import Cursor, decode, encode
from service.numbers.listing import ListQuery, cursor_link_header, link_header, parse_list_query
from service.problems import InvalidQuery


def parse(**params: str | list[str]) -> ListQuery:
    return parse_list_query(MultiDict(params), max_page_size=1000, default_page_size=100)


def bad_parameters(**params: str) -> dict[str, str]:
    with pytest.raises(InvalidQuery) as caught:
        parse(**params)
    return {e["parameter"]: e["detail"] for e in caught.value.members["errors"]}


def test_defaults_are_the_first_hundred_by_id() -> None:
    query = parse()
    assert (query.page, query.limit, query.offset) == (1, 100, 0)
    assert query.order_by == (("id", False),)


@pytest.mark.parametrize(
    ("params", "page", "limit"),
    [
        ({"_page": "3", "_limit": "20"}, 3, 20),
        ({"page": "3", "perPage": "20"}, 3, 20),
        ({"_page": "2", "page": "9", "_limit": "5", "perPage": "50"}, 2, 5),
        ({"_limit": "1000"}, 1, 1000),
    ],
)
def test_pages_by_json_server_names_or_aliases_and_json_server_wins(
    params: dict[str, str], page: int, limit: int
) -> None:
    query = parse(**params)
    assert (query.page, query.limit) == (page, limit)


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"_page": "0"}, "_page"),
        ({"page": "-1"}, "page"),
        ({"_page": "x"}, "_page"),
        ({"_page": ""}, "_page"),
        ({"_limit": "5000"}, "_limit"),
        ({"perPage": "0"}, "perPage"),
        ({"_limit": "1.5"}, "_limit"),
        ({"_sort": "price"}, "_sort"),
        ({"sort": "id,nope"}, "sort"),
        ({"_order": "up"}, "_order"),
        ({"_page": "2147483648"}, "_page"),
        ({"_page": "2", "page": "0"}, "page"),
        ({"_order": "desc", "order": "sideways"}, "order"),
        ({"_sort": "id", "sort": "price"}, "sort"),
        ({"value_like": "84", "q": "abc"}, "q"),
        ({"monthyPrice_gte": "1", "monthlyPrice_gte": "-1"}, "monthlyPrice_gte"),
        ({"monthyPrice_gte": "abc"}, "monthyPrice_gte"),
        ({"setupPrice_lte": "-1"}, "setupPrice_lte"),
        ({"monthyPrice_lte": "1.001"}, "monthyPrice_lte"),
        ({"value_like": "abc"}, "value_like"),
        ({"q": ""}, "q"),
    ],
)
def test_invalid_values_are_400_naming_the_parameter(params: dict[str, str], name: str) -> None:
    assert name in bad_parameters(**params)


def test_limit_error_names_the_accepted_range() -> None:
    assert "at most 1000" in bad_parameters(_limit="5000")["_limit"]


def test_sort_error_lists_the_sortable_fields() -> None:
    detail = bad_parameters(_sort="price")["_sort"]
    assert "id, value, monthyPrice, setupPrice, currency" in detail


def test_every_bad_parameter_is_reported_at_once() -> None:
    assert set(bad_parameters(_page="0", _limit="0", _sort="x")) == {"_page", "_limit", "_sort"}


def test_sort_fields_map_to_columns_with_id_as_tie_breaker() -> None:
    query = parse(_sort="currency,monthyPrice", _order="asc,desc")
    assert query.order_by == (("currency", False), ("monthly_price", True), ("id", False))


def test_value_sorts_by_its_unique_digits_and_missing_orders_are_ascending() -> None:
    query = parse(sort="value,setupPrice", order="desc")
    assert query.order_by == (("digits", True), ("setup_price", False))


def test_sorting_by_id_needs_no_extra_tie_breaker() -> None:
    assert parse(_sort="id", _order="desc").order_by == (("id", True),)


def test_a_currency_with_a_nul_character_matches_nothing() -> None:
    assert parse(currency="U$\x00").currencies == ()
    assert parse(currency=["U$", "\x00"]).currencies == ("U$",)


def test_order_entries_past_the_sort_fields_are_ignored() -> None:
    assert parse(_sort="id", _order="asc,desc").order_by == (("id", False),)
    assert parse(_order="desc,asc").order_by == (("id", True),)


def test_a_valid_alias_beside_its_json_server_name_is_not_used() -> None:
    assert parse(_page="2", page="3").page == 2


def test_order_alone_applies_to_the_default_sort() -> None:
    assert parse(_order="desc").order_by == (("id", True),)


def test_filters() -> None:
    query = parse(
        value_like="+55 84",
        currency=["U$", "R$"],
        monthyPrice_gte="0.5",
        setupPrice_lte="10",
    )
    assert query.digits == "5584"
    assert query.currencies == ("U$", "R$")
    assert set(query.price_bounds) == {
        ("monthly_price", "gte", Decimal("0.50")),
        ("setup_price", "lte", Decimal("10.00")),
    }


def test_q_is_an_alias_of_value_like_and_loses_to_it() -> None:
    assert parse(q="84").digits == "84"
    assert parse(q="84", value_like="55").digits == "55"


def test_unknown_parameters_are_ignored() -> None:
    assert parse(foo="bar", _embed="x") == parse()


BASE = "http://api.test/numbers"


def links(header: str | None) -> dict[str, str]:
    assert header is not None
    parts = (part.split("; rel=") for part in header.split(", "))
    return {rel.strip('"'): url.strip("<>") for url, rel in parts}


def test_link_has_first_next_last_on_the_first_page() -> None:
    args = MultiDict({"_limit": "10"})
    found = links(link_header(BASE, args, parse(_limit="10"), total=25, has_next=True))
    assert found == {
        "first": f"{BASE}?_limit=10&_page=1",
        "next": f"{BASE}?_limit=10&_page=2",
        "last": f"{BASE}?_limit=10&_page=3",
    }


def test_link_keeps_every_parameter_under_the_clients_names() -> None:
    args = MultiDict([("perPage", "10"), ("page", "2"), ("currency", "U$"), ("currency", "R$")])
    query = parse_list_query(args, max_page_size=1000, default_page_size=100)
    found = links(link_header(BASE, args, query, total=35, has_next=True))
    assert found["prev"] == f"{BASE}?perPage=10&currency=U%24&currency=R%24&page=1"
    assert found["next"].endswith("page=3")
    assert found["last"].endswith("page=4")
    assert "_page" not in found["next"]


def test_link_prev_from_past_the_end_points_at_the_last_page() -> None:
    args = MultiDict({"_page": "9", "_limit": "10"})
    found = links(link_header(BASE, args, parse(_page="9", _limit="10"), total=25, has_next=False))
    assert found["prev"].endswith("_page=3")
    assert "next" not in found


@pytest.mark.parametrize("total", [0, 1, 100])
def test_no_link_when_everything_fits_one_page_or_nothing_matches(total: int) -> None:
    assert link_header(BASE, MultiDict(), parse(), total=total, has_next=False) is None


def test_cursor_parameter_opts_into_keyset_pages() -> None:
    first = parse(_cursor="")
    assert (first.keyset, first.cursor) == (True, None)
    assert parse().keyset is False


def test_a_cursor_from_another_sort_is_400() -> None:
    token = encode(Cursor("after", (Decimal("1.00"), 5)), (("monthly_price", False), ("id", False)))
    assert "_cursor" in bad_parameters(_cursor=token, _sort="setupPrice")
    assert parse(_cursor=token, _sort="monthyPrice").cursor == Cursor("after", (Decimal("1.00"), 5))


@pytest.mark.parametrize(
    "token", ["garbage!", "e30", encode(Cursor("after", ("x",)), (("id", False),))]
)
def test_garbage_cursors_are_400(token: str) -> None:
    assert "_cursor" in bad_parameters(_cursor=token)


def test_cursor_links_carry_cursors_after_and_before_the_page() -> None:
    args = MultiDict({"_cursor": "", "_limit": "2"})
    query = parse_list_query(args, max_page_size=1000, default_page_size=100)
    header = cursor_link_header(BASE, args, query, ((3,), (4,)), more_before=True, more_after=True)
    found = links(header)
    after = decode(parse_qs(urlsplit(found["next"]).query)["_cursor"][0], query.order_by)
    before = decode(parse_qs(urlsplit(found["prev"]).query)["_cursor"][0], query.order_by)
    assert after == Cursor("after", (4,))
    assert before == Cursor("before", (3,))
    assert found["first"] == f"{BASE}?_limit=2&_cursor="
    assert decode(parse_qs(urlsplit(found["last"]).query)["_cursor"][0], query.order_by) == Cursor(
        "last"
    )


@pytest.mark.parametrize(
    "name", ["_page", "page", "_limit", "_sort", "q", "setupPrice_lte", "_cursor"]
)
def test_a_repeated_single_valued_parameter_is_400(name: str) -> None:
    args = MultiDict([(name, "1"), (name, "2")])
    with pytest.raises(InvalidQuery) as caught:
        parse_list_query(args, max_page_size=1000, default_page_size=100)
    assert name in [e["parameter"] for e in caught.value.members["errors"]]
