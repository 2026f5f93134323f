"""Concurrent writers: the unique constraint, If-Match races, and stable pages while rows change."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from integration_tests.api_client import (
    create_number,
    digits_of,
    expect_problem,
    ids_of,
    list_numbers,
    new_prefix,
    new_value,
    number_body,
)
from integration_tests.conftest import Connect

ROUNDS = 5


def _at_once(
    api: httpx.Client, connect: Connect, *requests: Callable[[httpx.Client], httpx.Response]
) -> list[httpx.Response]:
    """Send the requests from one thread and client each, released together by a barrier."""
    barrier = threading.Barrier(len(requests))

    def send(request: Callable[[httpx.Client], httpx.Response]) -> httpx.Response:
        with connect(headers=api.headers) as client:
            client.get("/health/live")  # connect before the barrier
            barrier.wait(timeout=10)
            return request(client)

    with ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(send, requests))


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_concurrent_creates_of_one_number_give_one_201_and_one_409(
    api: httpx.Client, connect: Connect, round_: int
) -> None:
    value = new_value()
    other_format = "+" + digits_of(value)

    responses = _at_once(
        api,
        connect,
        lambda c: c.post("/numbers", json=number_body(value=value)),
        lambda c: c.post("/numbers", json=number_body(value=other_format)),
    )

    assert sorted(r.status_code for r in responses) == [201, 409], [r.text for r in responses]
    created = next(r for r in responses if r.status_code == 201).json()
    conflict = expect_problem(next(r for r in responses if r.status_code == 409), 409)
    assert conflict["existingId"] == created["id"]
    assert ids_of(list_numbers(api, value_like=value)) == [created["id"]]


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_concurrent_patches_with_one_if_match_give_one_200_and_one_412(
    api: httpx.Client, connect: Connect, round_: int
) -> None:
    number = create_number(api, monthyPrice="1.00")
    etag = api.get(f"/numbers/{number['id']}").headers["etag"]

    def patch(price: str) -> Callable[[httpx.Client], httpx.Response]:
        return lambda c: c.patch(
            f"/numbers/{number['id']}", json={"monthyPrice": price}, headers={"If-Match": etag}
        )

    responses = _at_once(api, connect, patch("2.00"), patch("3.00"))

    assert sorted(r.status_code for r in responses) == [200, 412], [r.text for r in responses]
    winner = next(r for r in responses if r.status_code == 200)
    expect_problem(next(r for r in responses if r.status_code == 412), 412)
    current = api.get(f"/numbers/{number['id']}")
    assert current.json() == winner.json()
    assert current.headers["etag"] == winner.headers["etag"]


@pytest.mark.parametrize(
    "sort",
    [
        pytest.param({}, id="default order"),
        # Every row has the same currency: only the id tie-break keeps the order total.
        pytest.param({"_sort": "currency"}, id="sorted by a column with ties"),
    ],
)
def test_pages_never_overlap_or_skip_while_rows_are_edited(
    api: httpx.Client, sort: dict[str, str]
) -> None:
    prefix = new_prefix()
    ids = [
        create_number(api, value=f"{prefix}{i:03d}", currency="EUR", monthyPrice="1.00")["id"]
        for i in range(24)
    ]
    seen: list[int] = []
    page = 1
    while True:
        response = list_numbers(api, value_like=prefix, _limit=5, _page=page, **sort)
        assert response.status_code == 200
        if not response.json():
            break
        seen += ids_of(response)
        # Edit rows on pages already read and on pages still to come.
        for number_id in (ids[(page * 7) % len(ids)], ids[(page * 11 + 3) % len(ids)], seen[0]):
            patched = api.patch(f"/numbers/{number_id}", json={"monthyPrice": f"{page}.{page:02d}"})
            assert patched.status_code == 200, patched.text
        page += 1

    assert seen == ids


def test_blind_patches_racing_on_one_number_lose_no_update(
    api: httpx.Client, connect: Connect
) -> None:
    number = create_number(api, monthyPrice="1.00")
    patches = [
        (lambda price: lambda c: c.patch(f"/numbers/{number['id']}", json={"monthyPrice": price}))(
            f"{i + 2}.00"
        )
        for i in range(20)
    ]

    responses = _at_once(api, connect, *patches)

    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {200, 409}, [r.text for r in responses]
    for conflict in (r for r in responses if r.status_code == 409):
        assert expect_problem(conflict, 409)["type"].endswith("/concurrent-update")
    applied = statuses.count(200)
    # Every applied patch bumped the version once: none was lost, none half-applied.
    assert api.get(f"/numbers/{number['id']}").headers["etag"] == f'"{number["id"]}.{applied + 1}"'
