"""The list at scale: keyset cursors, the maintained total, the bounded filtered count."""

from __future__ import annotations

import base64
import itertools
import json
from typing import Any

import httpx
import pytest

from integration_tests.api_client import (
    create_number,
    error_parameters,
    expect_problem,
    ids_of,
    links_of,
    list_numbers,
    new_prefix,
    query_of,
)
from integration_tests.conftest import AppFactory, signed_in

_SUFFIXES = itertools.count()


def _make(api: httpx.Client, prefix: str, prices: list[str]) -> list[dict[str, Any]]:
    # Distinct suffixes, also across calls: three random digits would collide now and then.
    return [
        create_number(api, value=f"{prefix}{next(_SUFFIXES) % 1000:03d}", monthyPrice=price)
        for price in prices
    ]


def _follow(api: httpx.Client, url: str) -> httpx.Response:
    response = api.get(url)
    assert response.status_code == 200, response.text
    return response


def test_cursor_pages_walk_forward_and_back_without_gaps(api: httpx.Client) -> None:
    prefix = new_prefix()
    made = _make(api, prefix, ["1.00", "2.00", "2.00", "3.00", "2.00", "0.50", "9.99"])
    expected = [n["id"] for n in sorted(made, key=lambda n: (-float(n["monthyPrice"]), n["id"]))]

    first = list_numbers(
        api, value_like=prefix, _sort="monthyPrice", _order="desc", _limit=3, _cursor=""
    )
    assert first.status_code == 200
    assert first.headers["x-total-count"] == "7"
    seen, response, pages = ids_of(first), first, [first]
    while "next" in links_of(response):
        response = _follow(api, links_of(response)["next"])
        seen += ids_of(response)
        pages.append(response)
    assert seen == expected
    assert [len(ids_of(page)) for page in pages] == [3, 3, 1]
    assert "prev" not in links_of(first)

    back = _follow(api, links_of(pages[-1])["prev"])
    assert ids_of(back) == expected[3:6]
    last = _follow(api, links_of(first)["last"])
    assert ids_of(last) == expected[4:]
    assert "next" not in links_of(last)
    assert ids_of(_follow(api, links_of(last)["prev"])) == expected[1:4]


def test_cursor_links_keep_the_clients_parameters(api: httpx.Client) -> None:
    prefix = new_prefix()
    _make(api, prefix, ["1.00", "2.00", "3.00"])
    # The aliases sort and perPage are gone (issue 9): json-server's names.
    response = list_numbers(api, q=prefix, _sort="setupPrice", _limit=2, _cursor="")
    next_url = links_of(response)["next"]
    assert next_url.startswith("http")
    names = [name for name, _ in query_of(next_url)]
    assert {"q", "_sort", "_limit", "_cursor"} <= set(names)
    assert "_page" not in names


def test_rows_edited_between_cursor_pages_are_neither_skipped_nor_repeated(
    api: httpx.Client,
) -> None:
    prefix = new_prefix()
    made = _make(api, prefix, ["1.00"] * 6)
    first = list_numbers(api, value_like=prefix, _limit=3, _cursor="")
    # Edit a row of the first page and a row of the next one: ids, the sort key, never change.
    for number in (made[0], made[4]):
        assert api.patch(f"/numbers/{number['id']}", json={"monthyPrice": "7.00"}).is_success
    second = _follow(api, links_of(first)["next"])
    assert ids_of(first) + ids_of(second) == [n["id"] for n in made]


def test_a_cursor_from_another_sort_order_is_400(api: httpx.Client) -> None:
    prefix = new_prefix()
    _make(api, prefix, ["1.00", "2.00"])
    response = list_numbers(api, value_like=prefix, _sort="monthyPrice", _limit=1, _cursor="")
    cursor = dict(query_of(links_of(response)["next"]))["_cursor"]
    problem = expect_problem(list_numbers(api, _cursor=cursor, _sort="setupPrice"), 400)
    assert error_parameters(problem) == ["_cursor"]


def _crafted(*content: Any, raw: str | None = None) -> str:
    """A cursor in the API's own format (base64url JSON) holding whatever a client chose."""
    text = json.dumps(list(content)) if raw is None else raw
    return base64.urlsafe_b64encode(text.encode("utf-8", "surrogatepass")).decode().rstrip("=")


BY_ID = "id:asc"
BY_PRICE = {"_sort": "monthyPrice"}
BY_CURRENCY = {"_sort": "currency"}
PRICE_SPEC = "monthly_price:asc,id:asc"
CURRENCY_SPEC = "currency:asc,id:asc"


@pytest.mark.parametrize(
    ("cursor", "params"),
    [
        ("not-a-cursor", {}),
        (_crafted(BY_ID, "after", ["12345678901234567890"]), {}),  # past any id
        (_crafted(BY_ID, "after", ["05"]), {}),  # not how the API writes 5
        (_crafted(BY_ID, "after", [5]), {}),  # a number where the API writes text
        (_crafted(BY_ID, "sideways", ["5"]), {}),
        (_crafted(BY_ID, "after", ["5", "6"]), {}),
        (_crafted(BY_ID, "after"), {}),
        (_crafted(raw='{"spec": "id:asc"}'), {}),
        (_crafted(PRICE_SPEC, "after", ["1e30", "5"]), BY_PRICE),
        (_crafted(PRICE_SPEC, "after", ["1e999999", "5"]), BY_PRICE),
        (_crafted(PRICE_SPEC, "after", ["0.001", "5"]), BY_PRICE),
        (_crafted(PRICE_SPEC, "after", ["NaN", "5"]), BY_PRICE),
        (_crafted(CURRENCY_SPEC, "after", ["U\x00$", "5"]), BY_CURRENCY),
        (_crafted(raw=f'["{CURRENCY_SPEC}", "after", ["\\ud800", "5"]]'), BY_CURRENCY),
        # 2,000 deep: past any cursor's length, yet within the 8 KiB request line a proxy takes.
        (_crafted(raw="[" * 2000 + "]" * 2000), {}),
        (_crafted(raw="[" * 300 + "]" * 300), {}),
    ],
    ids=lambda value: value[:24] if isinstance(value, str) else str(value),
)
def test_a_cursor_the_api_did_not_issue_is_400(
    api: httpx.Client, cursor: str, params: dict[str, str]
) -> None:
    problem = expect_problem(list_numbers(api, _cursor=cursor, **params), 400)
    assert error_parameters(problem) == ["_cursor"]


def test_unfiltered_total_follows_creates_and_deletes(api: httpx.Client) -> None:
    def total() -> int:
        return int(list_numbers(api, _limit=1).headers["x-total-count"])

    before = total()
    number = create_number(api)
    assert total() == before + 1
    assert api.delete(f"/numbers/{number['id']}").status_code == 200
    assert total() == before


def test_filtered_totals_above_the_count_limit_say_they_are_capped(
    in_process: AppFactory,
) -> None:
    with in_process(env={"COUNT_LIMIT": "3"}) as app, signed_in(app) as api:
        prefix = new_prefix()
        _make(api, prefix, ["1.00", "2.00", "3.00"])
        exact = list_numbers(api, value_like=prefix, _limit=2)
        assert exact.headers["x-total-count"] == "3"
        assert "x-total-count-exact" not in exact.headers

        _make(api, prefix, ["4.00", "5.00"])
        capped = list_numbers(api, value_like=prefix, _limit=2)
        assert capped.headers["x-total-count"] == "3"
        assert capped.headers["x-total-count-exact"] == "false"
        # The next page is still offered, and paging reaches every row.
        seen, response = ids_of(capped), capped
        while "next" in links_of(response):
            response = _follow(api, links_of(response)["next"])
            seen += ids_of(response)
        assert len(seen) == 5


def test_a_window_past_the_count_limit_reports_at_least_the_rows_up_to_it(
    in_process: AppFactory,
) -> None:
    with in_process(env={"COUNT_LIMIT": "3"}) as app, signed_in(app) as api:
        prefix = new_prefix()
        ids = [n["id"] for n in _make(api, prefix, ["1.00"] * 8)]

        sliced = list_numbers(api, value_like=prefix, _start=4, _limit=2)
        assert ids_of(sliced) == ids[4:6]
        assert sliced.headers["x-total-count"] == "7"  # rows 1-6 shown so far, and a next one
        assert sliced.headers["x-total-count-exact"] == "false"
        assert ("_start", "2") in query_of(links_of(sliced)["prev"])
        # Walking back with prev from here meets every earlier row once.
        seen, response = ids_of(sliced), sliced
        while "prev" in links_of(response):
            response = _follow(api, links_of(response)["prev"])
            seen = ids_of(response) + seen
        assert seen == ids[:6]

        paged = list_numbers(api, value_like=prefix, _page=4, _limit=2)
        assert ids_of(paged) == ids[6:8]
        assert paged.headers["x-total-count"] == "8"
        assert ("_page", "3") in query_of(links_of(paged)["prev"])
        assert ("_page", "4") in query_of(links_of(paged)["last"])


def test_cursor_pages_skip_no_row_that_exists_throughout_while_others_are_deleted(
    api: httpx.Client,
) -> None:
    prefix = new_prefix()
    made = [
        create_number(api, value=f"{prefix}{i:03d}", monthyPrice=f"{i % 4}.00") for i in range(30)
    ]
    order = [n["id"] for n in sorted(made, key=lambda n: (n["monthyPrice"], n["id"]))]
    deleted: set[int] = set()
    seen: list[int] = []
    response = list_numbers(api, value_like=prefix, _sort="monthyPrice", _limit=5, _cursor="")
    step = 0
    while True:
        assert response.status_code == 200, response.text
        seen += ids_of(response)
        # Delete one row already read and one still ahead, as other supervisors might.
        behind, ahead = seen[step % len(seen)], order[min(len(order) - 1, len(seen) + 2)]
        for victim in {behind, ahead} - deleted:
            assert api.delete(f"/numbers/{victim}").status_code == 200
            deleted.add(victim)
        step += 1
        if "next" not in links_of(response):
            break
        response = _follow(api, links_of(response)["next"])

    survivors = [i for i in order if i not in deleted]
    assert [i for i in seen if i not in deleted] == survivors  # in order, none skipped
    assert len(seen) == len(set(seen))  # none repeated
