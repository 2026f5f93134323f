"""The list's query string (json-server 0.17's dialect) and its Link header."""

from __future__ import annotations

import base64
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from werkzeug.datastructures import MultiDict

from service.numbers.cursor import Cursor, InvalidCursor, decode, encode
from service.numbers.fields import BY_WIRE
from service.numbers.listing import (
    Filter,
    ListQuery,
    Op,
    Paging,
    cursor_link_header,
    link_header,
    parse_list_query,
)
from service.problems import InvalidQuery

MAX_PAGE_SIZE = 1000


def parse(*pairs: tuple[str, str], **params: str | list[str]) -> ListQuery:
    args: MultiDict[str, str] = MultiDict(list(pairs))
    for name, value in params.items():
        for item in value if isinstance(value, list) else [value]:
            args.add(name, item)
    return parse_list_query(args, max_page_size=MAX_PAGE_SIZE)


def bad_parameters(*pairs: tuple[str, str], **params: str) -> dict[str, str]:
    with pytest.raises(InvalidQuery) as caught:
        parse(*pairs, **params)
    return {e["parameter"]: e["detail"] for e in caught.value.members["errors"]}


def window(query: ListQuery) -> tuple[int, int, Paging]:
    return query.offset, query.limit, query.paging


# --- slicing, as json-server does it --------------------------------------------------------


def test_no_paging_parameter_is_every_row_up_to_the_maximum_page_size() -> None:
    assert window(parse()) == (0, MAX_PAGE_SIZE, Paging.SLICE)


def test_page_without_limit_is_ten_rows_as_in_json_server() -> None:
    assert window(parse(_page="3")) == (20, 10, Paging.PAGE)


def test_page_with_limit() -> None:
    query = parse(_page="3", _limit="20")
    assert (window(query), query.page) == ((40, 20, Paging.PAGE), 3)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"_start": "10", "_end": "35"}, (10, 25)),
        ({"_end": "5"}, (0, 5)),
        ({"_start": "4", "_limit": "3"}, (4, 3)),
        ({"_limit": "3"}, (0, 3)),
        ({"_start": "7"}, (7, MAX_PAGE_SIZE)),
        ({"_start": "9", "_end": "4"}, (9, 0)),
        ({"_start": "5", "_end": "10", "_limit": "100"}, (5, 5)),
    ],
)
def test_start_end_and_limit_slice_the_rows(
    params: dict[str, str], expected: tuple[int, int]
) -> None:
    assert window(parse(**params)) == (*expected, Paging.SLICE)


def test_page_wins_over_start_and_end_as_in_json_server() -> None:
    assert window(parse(_page="2", _start="100", _end="200")) == (10, 10, Paging.PAGE)


def test_a_slice_larger_than_the_maximum_page_size_is_400() -> None:
    assert "at most 1000 rows" in bad_parameters(_start="0", _end="1001")["_end"]


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"_page": "0"}, "_page"),
        ({"_page": "-1"}, "_page"),
        ({"_page": "x"}, "_page"),
        ({"_page": "1.5"}, "_page"),
        ({"_page": "2147483648"}, "_page"),
        ({"_limit": "0"}, "_limit"),
        ({"_limit": "5000"}, "_limit"),
        ({"_limit": "1.5"}, "_limit"),
        ({"_start": "-1"}, "_start"),
        ({"_start": "ten"}, "_start"),
        ({"_end": "9007199254740993"}, "_end"),
        ({"_sort": "price"}, "_sort"),
        ({"_sort": "id,nope"}, "_sort"),
        ({"_order": "up"}, "_order"),
        ({"monthyPrice_gte": "abc"}, "monthyPrice_gte"),
        ({"setupPrice_lte": "-1"}, "setupPrice_lte"),
        ({"monthyPrice_lte": "1.001"}, "monthyPrice_lte"),
        ({"monthyPrice": "1e2"}, "monthyPrice"),
        ({"value_like": "abc"}, "value_like"),
        ({"value": "+"}, "value"),
        ({"id": "abc"}, "id"),
        ({"id": "-1"}, "id"),
        ({"id_gte": "2147483648"}, "id_gte"),
        ({"currency_like": "U\x00"}, "currency_like"),
        ({"monthyPrice_like": "3"}, "monthyPrice_like"),
        ({"id_like": "3"}, "id_like"),
    ],
)
def test_a_malformed_value_is_400_naming_the_parameter(params: dict[str, str], name: str) -> None:
    assert name in bad_parameters(**params)


def test_limit_error_names_the_accepted_range() -> None:
    assert "from 1 to 1000" in bad_parameters(_limit="5000")["_limit"]


def test_sort_error_lists_the_sortable_fields() -> None:
    detail = bad_parameters(_sort="price")["_sort"]
    assert "id, value, monthyPrice, setupPrice, currency" in detail


def test_like_on_a_field_without_it_says_which_fields_have_it() -> None:
    assert "value, currency" in bad_parameters(setupPrice_like="1")["setupPrice_like"]


def test_every_bad_parameter_is_reported_at_once() -> None:
    assert set(bad_parameters(_page="0", _limit="0", _sort="x")) == {"_page", "_limit", "_sort"}


# --- empty parameters are absent parameters --------------------------------------------------


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
        "id",
        "id_ne",
        "value",
        "value_like",
        "value_gte",
        "monthyPrice_gte",
        "monthyPrice_lte",
        "setupPrice",
        "currency",
        "currency_like",
        "currency_ne",
    ],
)
def test_an_empty_parameter_is_as_if_it_was_not_sent(name: str) -> None:
    assert parse(**{name: ""}) == parse()


def test_empty_values_among_repeated_ones_are_dropped() -> None:
    assert parse(currency=["", "USD", ""]) == parse(currency="USD")


def test_the_removed_aliases_are_unknown_parameters_now() -> None:
    aliases = {"page": "2", "perPage": "5", "sort": "currency", "order": "desc"}
    assert parse(**aliases) == parse()


# --- sorting ---------------------------------------------------------------------------------


def test_sort_fields_map_to_columns_with_id_as_tie_breaker() -> None:
    query = parse(_sort="currency,monthyPrice", _order="asc,desc")
    assert query.order_by == (("currency", False), ("monthly_price", True), ("id", False))


@pytest.mark.parametrize("order", ["DESC", "Desc", "desc"])
def test_order_is_case_insensitive(order: str) -> None:
    assert parse(_sort="setupPrice", _order=order).order_by == (
        ("setup_price", True),
        ("id", False),
    )


def test_value_sorts_by_its_unique_digits_and_missing_orders_are_ascending() -> None:
    query = parse(_sort="value,setupPrice", _order="desc")
    assert query.order_by == (("digits", True), ("setup_price", False))


def test_sorting_by_id_needs_no_extra_tie_breaker() -> None:
    assert parse(_sort="id", _order="desc").order_by == (("id", True),)


def test_order_entries_past_the_sort_fields_are_ignored() -> None:
    assert parse(_sort="id", _order="asc,desc").order_by == (("id", False),)
    assert parse(_order="desc,asc").order_by == (("id", True),)


def test_order_alone_applies_to_the_default_sort() -> None:
    assert parse(_order="desc").order_by == (("id", True),)


# --- filters ---------------------------------------------------------------------------------


def test_field_filters_parse_by_the_fields_rule() -> None:
    query = parse(
        ("id", "3"),
        ("id", "5"),
        ("value_like", "+55 84"),
        ("currency", "U$"),
        ("currency", "R$"),
        ("monthyPrice_gte", "0.5"),
        ("setupPrice_lte", "10"),
        ("currency_ne", "EUR"),
        ("value_gte", "+1 212"),
        ("currency_like", "s"),
    )
    assert set(query.filters) == {
        Filter(BY_WIRE["id"], Op.EQ, (3, 5)),
        Filter(BY_WIRE["value"], Op.LIKE, ("5584",)),
        Filter(BY_WIRE["currency"], Op.EQ, ("U$", "R$")),
        Filter(BY_WIRE["monthyPrice"], Op.GTE, (Decimal("0.50"),)),
        Filter(BY_WIRE["setupPrice"], Op.LTE, (Decimal("10.00"),)),
        Filter(BY_WIRE["currency"], Op.NE, ("EUR",)),
        Filter(BY_WIRE["value"], Op.GTE, ("1212",)),
        Filter(BY_WIRE["currency"], Op.LIKE, ("s",)),
    }


def test_value_equality_compares_digits() -> None:
    assert parse(value="+55 (84) 91234-4321").filters == (
        Filter(BY_WIRE["value"], Op.EQ, ("5584912344321",)),
    )


@pytest.mark.parametrize("text", ["usd", "+", " ", "3.40", "%_", "\x00"])
def test_q_takes_any_text(text: str) -> None:
    assert parse(q=text).search == text


@pytest.mark.parametrize("name", ["currency", "currency_ne", "currency_gte", "currency_like"])
def test_a_text_filter_with_a_nul_character_is_400(name: str) -> None:
    # Changed by issue 9: ``currency`` with a NUL matched nothing; every filter now says why.
    assert "NUL" in bad_parameters(**{name: "U$\x00"})[name]


def test_unknown_parameters_are_ignored() -> None:
    assert parse(foo="bar", _embed="x", monthlyPrice_gte="1") == parse()


@pytest.mark.parametrize(
    "name",
    ["_page", "_limit", "_start", "_end", "_sort", "q", "setupPrice_lte", "value_like", "_cursor"],
)
def test_a_repeated_single_valued_parameter_is_400(name: str) -> None:
    assert name in bad_parameters((name, "1"), (name, "2"))


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("id", (1, 2)),
        ("id_ne", (1, 2)),
        ("currency", ("1", "2")),
        ("monthyPrice_ne", (Decimal("1.00"), Decimal("2.00"))),
        ("value", ("1", "2")),
    ],
)
def test_equality_and_inequality_filters_may_repeat(name: str, values: tuple[object]) -> None:
    (only,) = parse((name, "1"), (name, "2")).filters
    assert only.values == values


# --- links -----------------------------------------------------------------------------------

BASE = "http://api.test/numbers"


def links(header: str | None) -> dict[str, str]:
    assert header is not None
    parts = (part.split("; rel=") for part in header.split(", "))
    return {rel.strip('"'): url.strip("<>") for url, rel in parts}


def test_page_links_have_first_next_last_on_the_first_page() -> None:
    args = MultiDict({"_page": "1", "_limit": "10"})
    found = links(link_header(BASE, args, parse(_page="1", _limit="10"), total=25, has_next=True))
    assert found == {
        "first": f"{BASE}?_limit=10&_page=1",
        "next": f"{BASE}?_limit=10&_page=2",
        "last": f"{BASE}?_limit=10&_page=3",
    }


def test_page_links_keep_every_other_parameter() -> None:
    args = MultiDict([("_limit", "10"), ("_page", "2"), ("currency", "U$"), ("currency", "R$")])
    query = parse_list_query(args, max_page_size=MAX_PAGE_SIZE)
    found = links(link_header(BASE, args, query, total=35, has_next=True))
    assert found["prev"] == f"{BASE}?_limit=10&currency=U%24&currency=R%24&_page=1"
    assert found["next"].endswith("_page=3")
    assert found["last"].endswith("_page=4")


def test_page_link_prev_from_past_the_end_points_at_the_last_page() -> None:
    args = MultiDict({"_page": "9", "_limit": "10"})
    found = links(link_header(BASE, args, parse(_page="9", _limit="10"), total=25, has_next=False))
    assert found["prev"].endswith("_page=3")
    assert "next" not in found


def test_slice_links_move_start_and_end_by_the_slice_size() -> None:
    args = MultiDict({"_start": "10", "_end": "20"})
    found = links(link_header(BASE, args, parse(_start="10", _end="20"), total=45, has_next=True))
    assert found == {
        "first": f"{BASE}?_start=0&_end=10",
        "prev": f"{BASE}?_start=0&_end=10",
        "next": f"{BASE}?_start=20&_end=30",
        "last": f"{BASE}?_start=35&_end=45",
    }


def test_slice_links_by_limit_keep_the_limit() -> None:
    args = MultiDict({"_start": "3", "_limit": "3"})
    found = links(link_header(BASE, args, parse(_start="3", _limit="3"), total=10, has_next=True))
    assert found["next"] == f"{BASE}?_limit=3&_start=6"
    assert found["prev"] == f"{BASE}?_limit=3&_start=0"


def test_every_row_over_the_maximum_has_a_next_link() -> None:
    found = links(link_header(BASE, MultiDict(), parse(), total=1500, has_next=True))
    assert found["next"] == f"{BASE}?_start=1000&_end=2000"
    assert found["last"] == f"{BASE}?_start=1000&_end=2000"


@pytest.mark.parametrize("total", [0, 1, 1000])
def test_no_link_when_everything_fits_or_nothing_matches(total: int) -> None:
    assert link_header(BASE, MultiDict(), parse(), total=total, has_next=False) is None


def test_no_page_link_when_one_page_holds_every_match() -> None:
    query = parse(_page="1", _limit="10")
    assert link_header(BASE, MultiDict(), query, total=10, has_next=False) is None


# --- keyset pages ----------------------------------------------------------------------------


def test_cursor_parameter_opts_into_keyset_pages_of_ten_by_default() -> None:
    first = parse(_cursor="")
    assert (first.keyset, first.cursor, first.limit) == (True, None, 10)
    assert parse().keyset is False


@pytest.mark.parametrize("other", ["_page", "_start", "_end"])
def test_a_cursor_with_a_position_of_another_kind_is_400_saying_why(other: str) -> None:
    detail = bad_parameters(_cursor="", **{other: "2"})["_cursor"]
    assert f"cannot be combined with {other}" in detail


def test_a_cursor_takes_limit_and_filters() -> None:
    query = parse(_cursor="", _limit="3", currency="U$", q="84")
    assert (query.limit, query.search) == (3, "84")


def test_a_cursor_from_another_sort_is_400() -> None:
    token = encode(Cursor("after", (Decimal("1.00"), 5)), (("monthly_price", False), ("id", False)))
    assert "_cursor" in bad_parameters(_cursor=token, _sort="setupPrice")
    assert parse(_cursor=token, _sort="monthyPrice").cursor == Cursor("after", (Decimal("1.00"), 5))


def test_cursor_links_carry_cursors_after_and_before_the_page() -> None:
    args = MultiDict({"_cursor": "", "_limit": "2"})
    query = parse_list_query(args, max_page_size=MAX_PAGE_SIZE)
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


@pytest.mark.parametrize("depth", [500, 5000, 100_000])
def test_a_deeply_nested_cursor_is_refused_as_not_issued(depth: int) -> None:
    # Longer than any cursor the API writes: refused before it is parsed, at any depth.
    text = base64.urlsafe_b64encode(("[" * depth + "]" * depth).encode()).decode()
    with pytest.raises(InvalidCursor, match="not a cursor issued by this API"):
        decode(text, (("id", False),))
