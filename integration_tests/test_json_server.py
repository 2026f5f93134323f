"""The list against json-server 0.17.4, the frontend's mock, on the same rows (issue 9).

The API (the real ASGI app, in process) runs on a fresh database of this module's own; the rows
below are created through it, and json-server serves the API's own answers for them (same ids,
same JSON). Every query of :data:`COMPARED` goes to both: they must answer the same ids in the
same order, the same ``X-Total-Count`` where json-server sends one and the same ``Link`` rels
where json-server sends a ``Link``. Where the API is deliberately different, :data:`DIFFERENCES`
says why; each of those queries is tested for the API's answer, computed here from the rows, and
shown to differ from json-server's, so the list stays honest.

json-server's own rules (``lib/server/router/plural.js``): filters compare the query text with
the field's ``toString()`` (``_gte``/``_lte`` with JavaScript's ``<=``, so text against text),
``_like`` is a case-insensitive regular expression, ``q`` a lower-case substring of any field
(``id`` included), ``_sort`` is lodash's stable ``orderBy`` (ties keep the file's id order), and
``X-Total-Count`` comes only with ``_page``, ``_limit`` or ``_end``; ``Link`` only with ``_page``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from integration_tests.api_client import digits_of, links_of
from integration_tests.databases import fresh_database
from integration_tests.in_process import in_process_app
from integration_tests.json_server import NotInstalled, check_installed, run_json_server
from integration_tests.server import ADMIN, log_in

#: json-server comes from npm (``npm ci`` here, in ``.ci/run``); the Docker test image has no Node.
pytestmark = pytest.mark.reference_client

Row = dict[str, Any]

#: (value, monthyPrice, setupPrice, currency), created in this order: ids 1, 2, ...
#: Outside EUR, values share one shape (text order is digit order) and prices are below 10
#: (text order is numeric order), so json-server sorts and bounds them as the API does. The EUR
#: rows are where the two part: prices from 9.50 to 100.00 and values formatted otherwise
#: ("+1 305 ..." sorts before "+1-212-..." as text, after it by digits; "123.4567" hides
#: "1234" from a regular expression). Every price, setup price and currency is tied.
ROWS: tuple[tuple[str, str, str, str], ...] = (
    ("+55 84 91234-0001", "0.03", "3.40", "U$"),
    ("+55 84 91234-0002", "0.50", "3.40", "R$"),
    ("+55 84 92000-1111", "0.03", "1.00", "U$"),
    ("+55 84 93555-0042", "1.00", "3.40", "USD"),
    ("+55 84 91234-5678", "9.99", "0.00", "BRL"),
    ("+55 84 94444-2222", "0.50", "5.00", "U$"),
    ("+55 (84) 3201-5555", "2.00", "3.40", "BRL"),
    ("+55 84 95000-7777", "0.03", "1.00", "R$"),
    ("+55 84 96111-8888", "4.25", "0.00", "USD"),
    ("+55 84 91000-0500", "1.00", "5.00", "U$"),
    ("+1-212-555-0199", "9.50", "2.50", "EUR"),
    ("+55 84 97222-1212", "2.00", "1.00", "R$"),
    ("+55 84 98765-4321", "0.03", "3.40", "USD"),
    ("+1 305 555 0142", "10.00", "2.50", "EUR"),
    ("+55 84 92000-2000", "4.25", "5.00", "U$"),
    ("+55 84 93555-6060", "9.99", "3.40", "BRL"),
    ("+351.21.123.4567", "100.00", "0.03", "EUR"),
    ("+55 84 94444-7000", "0.50", "1.00", "USD"),
    ("+55 84 95000-1313", "2.00", "0.00", "U$"),
    ("+44 20 7946 0958", "25.00", "2.50", "EUR"),
    ("+55 84 96111-2468", "1.00", "3.40", "R$"),
    ("+55 84 97222-8080", "0.03", "5.00", "BRL"),
    ("+55 84 98765-1010", "4.25", "1.00", "U$"),
    ("+55 84 99000-6565", "9.50", "3.40", "R$"),
    ("+55 84 91234-9191", "0.50", "3.40", "USD"),
    ("+55 (84) 3300-4141", "1.00", "2.50", "U$"),
)

#: Queries both must answer alike, written as sent but unencoded (each value is percent-encoded
#: whole, so "+" is a plus and " " a space). Each is a test case named by its text.
COMPARED: tuple[str, ...] = (
    # every row, as json-server answers when nothing pages
    "",
    # _page, 10 rows without _limit
    "_page=1",
    "_page=2",
    "_page=3",
    "_page=2&_limit=5",
    "_page=6&_limit=5",
    "_page=1&_limit=100",
    # paging through a sorted result, to its last (partial) page
    "_page=1&_limit=4&_sort=setupPrice&_order=desc",
    "_page=2&_limit=4&_sort=setupPrice&_order=desc",
    "_page=7&_limit=4&_sort=setupPrice&_order=desc",
    # paging through a filtered and sorted result
    "_page=1&_limit=3&currency=U$&_sort=monthyPrice",
    "_page=2&_limit=3&currency=U$&_sort=monthyPrice",
    "_page=3&_limit=3&currency=U$&_sort=monthyPrice",
    "_page=2&_limit=2&q=usd&_sort=value&_order=desc",
    # slices: _start with _end or _limit, _limit or _end alone
    "_start=0&_end=5",
    "_start=5&_end=10&_sort=setupPrice",
    "_start=20&_end=40",
    "_start=3&_limit=4",
    "_limit=7",
    "_end=3",
    "_start=4&_end=2",
    "_end=0",
    "_start=1&_end=4&_limit=10",
    "_page=2&_limit=5&_start=1&_end=3",
    # react-admin's getList: a slice, uppercase order, a filter
    "_end=10&_order=ASC&_sort=id&_start=0",
    "_end=10&_order=DESC&_sort=monthyPrice&_start=0&currency=R$",
    "_start=2&_limit=3&currency=U$&_sort=monthyPrice&_order=desc",
    # sorting: each field, ties broken by ascending id in both directions, several fields
    "_sort=id&_order=desc",
    "_sort=setupPrice",
    "_sort=setupPrice&_order=desc",
    "_sort=currency&_order=Desc",
    "_sort=currency,setupPrice&_order=asc,desc",
    "_sort=currency,monthyPrice&_order=desc&currency_ne=EUR",
    "_sort=monthyPrice&currency_ne=EUR",
    "_sort=monthyPrice&_order=DESC&currency_ne=EUR",
    "_sort=value&currency_ne=EUR",
    "_sort=value&_order=desc&currency_ne=EUR&_limit=6",
    "_sort=currency&_order=desc,asc",
    "_order=ASC",
    # field filters
    "id=3&id=7&id=12",
    "id=4",
    "id_ne=1&id_ne=2&_limit=5",
    "id_gte=5&id_lte=12",
    "value=+55 84 91234-0001",
    "value=+55 84 91234-0001&value=+55 (84) 3201-5555",
    "value_ne=+55 84 91234-0001&_start=0&_end=3",
    "value_gte=+55 84 93000-0000",
    "value_lte=+55 84 92000-1111",
    "value_like=91234",
    "value_like=84&_page=2&_limit=4",
    "value_like=3201-5555",
    "value_like=91234-000",
    "value_like=84 9",
    "value_like=(84)",
    "monthyPrice=0.03",
    "monthyPrice=0.03&monthyPrice=4.25",
    "monthyPrice_ne=0.03&currency=U$",
    "setupPrice=3.40&currency=U$",
    "setupPrice_gte=2.50",
    "setupPrice_lte=1.00&_sort=setupPrice&_order=desc",
    "monthyPrice_gte=0.50&monthyPrice_lte=4.25&currency_ne=EUR",
    "setupPrice_ne=3.40&setupPrice_ne=0.00",
    "setupPrice_ne=5.00&_sort=setupPrice&_page=2&_limit=4",
    "currency_gte=U$",
    "currency_lte=EUR&_sort=currency",
    "currency_gte=BRL&currency_lte=R$&_sort=currency,id&_order=desc",
    "currency=U$",
    "currency=U$&currency=R$&_sort=setupPrice",
    "currency=usd",
    "currency_ne=EUR&currency_ne=U$",
    "currency_like=us",
    "currency_like=R",
    "currency_like=brl&_page=1&_limit=2",
    # q: digits, letters, a price's text, nothing
    "q=91234",
    "q=84&_start=0&_end=5",
    "q=usd",
    "q=U",
    "q=r$",
    "q=Eur&_sort=setupPrice",
    "q=0.03",
    "q=zzz",
    "q=u&currency_ne=USD&_page=2&_limit=3",
    # parameters json-server does not know are ignored (jQuery's cache-buster _, _embed, ...)
    "_=1712345678901&_page=1",
    "foo=bar&_sort=setupPrice",
    "_embed=comments&_expand=user",
    # empty parameters: json-server ignores these (or they match everything)
    "value_like=",
    "q=",
    "_page=",
    "_limit=",
    "_sort=",
    "_order=",
    "_end=",
    "_start=&_end=3",
    "currency_like=",
    "monthyPrice_gte=",
    "setupPrice_gte=&_sort=setupPrice",
    "currency_ne=",
    "id_gte=",
    "value_like=&_page=1&_limit=10&_sort=&_order=",
    "q=&_start=0&_end=10&_sort=id&_order=ASC",
)


@dataclass(frozen=True)
class Answer:
    """What a client can tell from a list response: status, ids, total and Link rels."""

    status: int
    ids: list[int] | None = None  # None: the body is not a JSON array
    total: str | None = None  # X-Total-Count, when sent
    rels: frozenset[str] | None = None  # None: no Link, or an empty one
    #: The query parameters a 400 problem names.
    parameters: tuple[str, ...] = ()

    @classmethod
    def of(cls, response: httpx.Response) -> Answer:
        """The answer ``response`` gives."""
        try:
            body = response.json()
        except ValueError:  # json-server's JSONP, or its 500 page
            body = None
        errors = body.get("errors", ()) if isinstance(body, dict) else ()
        return cls(
            status=response.status_code,
            ids=[row["id"] for row in body] if isinstance(body, list) else None,
            total=response.headers.get("x-total-count"),
            rels=frozenset(links_of(response)) or None,
            parameters=tuple(error["parameter"] for error in errors),
        )


Expected = Callable[[list[Row]], Answer]


@dataclass(frozen=True)
class Difference:
    """A query where the API deliberately answers otherwise than json-server, and why."""

    query: str
    reason: str
    #: The API's answer, computed from the rows (id order).
    ours: Expected


def _amount(field: str) -> Callable[[Row], Decimal]:
    return lambda row: Decimal(row[field])


def _any(row: Row) -> bool:
    return True


def _rows(keep: Callable[[Row], bool], key: Callable[[Row], Any] | None = None) -> Expected:
    """The rows ``keep`` selects, sorted by ``key`` then id (id order without a key)."""

    def expected(rows: list[Row]) -> Answer:
        kept = [row for row in rows if keep(row)]
        if key is not None:
            kept.sort(key=lambda row: (key(row), row["id"]))
        return Answer(200, [row["id"] for row in kept])

    return expected


def _bad(parameter: str) -> Expected:
    return lambda rows: Answer(400, parameters=(parameter,))


def _searched(text: str) -> Callable[[Row], bool]:
    """Issue 9's ``q``: digits within the number's digits, or text within currency or a price."""
    folded = text.casefold()
    return lambda row: bool(
        (digits_of(text) and digits_of(text) in digits_of(row["value"]))
        or folded in row["currency"].casefold()
        or folded in row["monthyPrice"]
        or folded in row["setupPrice"]
    )


_AMOUNTS = "prices compare as amounts; json-server compares their text"
_DIGITS = "a number matches by its digits, formatting ignored; json-server matches its text"
_LITERAL = "currency_like is a literal substring; json-server makes it a regular expression"
_EMPTY = "an empty parameter is an absent one (issue 9); json-server matches it to no row"
_MALFORMED = "a malformed value is a 400 naming the parameter; json-server guesses or ignores it"

DIFFERENCES: tuple[Difference, ...] = (
    Difference(
        "_sort=monthyPrice",
        f"{_AMOUNTS}: '10.00' sorts before '9.50' as text",
        _rows(_any, _amount("monthyPrice")),
    ),
    Difference(
        "_sort=monthyPrice&_order=desc",
        f"{_AMOUNTS}: '9.99' sorts after '100.00' as text",
        _rows(_any, lambda row: -Decimal(row["monthyPrice"])),
    ),
    Difference(
        "monthyPrice_gte=9.00",
        f"{_AMOUNTS}: '10.00' < '9.00' as text",
        _rows(lambda row: Decimal(row["monthyPrice"]) >= Decimal("9.00")),
    ),
    Difference(
        "monthyPrice_lte=20.00",
        f"{_AMOUNTS}: '100.00' <= '20.00' as text",
        _rows(lambda row: Decimal(row["monthyPrice"]) <= Decimal("20.00")),
    ),
    Difference(
        "setupPrice=3.4",
        f"{_AMOUNTS}: 3.4 is the amount 3.40, but not the text '3.40'",
        _rows(lambda row: Decimal(row["setupPrice"]) == Decimal("3.4")),
    ),
    Difference(
        "_sort=value",
        f"{_DIGITS}: '+1 305 ...' sorts before '+1-212-...' as text",
        _rows(_any, lambda row: digits_of(row["value"])),
    ),
    Difference(
        "value_lte=+1 999 999 9999",
        f"{_DIGITS}: '+1-212-...' > '+1 999 ...' as text",
        _rows(lambda row: digits_of(row["value"]) <= "19999999999"),
    ),
    Difference(
        "value=5584912340001",
        f"{_DIGITS}: equality too, so no formatting needs to be guessed",
        _rows(lambda row: digits_of(row["value"]) == "5584912340001"),
    ),
    Difference(
        "value_like=5584",
        f"{_DIGITS}: the digits run across a space",
        _rows(lambda row: "5584" in digits_of(row["value"])),
    ),
    Difference(
        "value_like=1234",
        f"{_DIGITS}: '+351.21.123.4567' holds 1234 across a dot",
        _rows(lambda row: "1234" in digits_of(row["value"])),
    ),
    Difference(
        "value_like=+55",
        f"{_DIGITS}: '+55' is not even a regular expression, json-server answers 500",
        _rows(lambda row: "55" in digits_of(row["value"])),
    ),
    Difference(
        "q=5584",
        f"{_DIGITS}: q's digits run across a space",
        _rows(_searched("5584")),
    ),
    Difference(
        "q=+",
        f"{_DIGITS}: formatting characters are not searched; every number's text has a '+'",
        _rows(_searched("+")),
    ),
    Difference(
        "q= ",
        f"{_DIGITS}: formatting characters are not searched; json-server finds the spaces",
        _rows(_searched(" ")),
    ),
    Difference(
        "q=17",
        "q searches the number, its prices and its currency, as issue 9 defines it; json-server "
        "also searches the id",
        _rows(_searched("17")),
    ),
    Difference(
        "currency_like=U$",
        f"{_LITERAL}: '$' anchors the regular expression, so json-server finds no U$",
        _rows(lambda row: "u$" in row["currency"].casefold()),
    ),
    Difference(
        "currency_like=$",
        f"{_LITERAL}: '$' alone matches every currency as a regular expression",
        _rows(lambda row: "$" in row["currency"]),
    ),
    Difference("currency=", _EMPTY, _rows(_any)),
    Difference("value=", _EMPTY, _rows(_any)),
    Difference("id=", _EMPTY, _rows(_any)),
    Difference("setupPrice=", _EMPTY, _rows(_any)),
    Difference("monthyPrice_lte=", f"{_EMPTY} ('' >= '0.03' is false)", _rows(_any)),
    Difference("id_lte=", f"{_EMPTY} ('' >= 1 is false)", _rows(_any)),
    Difference(
        "_order=desc",
        "_order without _sort orders by id, as before issue 9; json-server ignores it",
        lambda rows: Answer(200, [row["id"] for row in reversed(rows)]),
    ),
    Difference(
        "_start=3",
        "_start alone is an offset, up to MAX_PAGE_SIZE rows; json-server ignores it",
        lambda rows: Answer(200, [row["id"] for row in rows[3:]]),
    ),
    Difference(
        "_page=9&_limit=5",
        "a page past the last links back to the first, previous and last pages; json-server "
        "sends an empty Link",
        lambda rows: Answer(200, [], rels=frozenset({"first", "prev", "last"})),
    ),
    Difference(
        "callback=numbers",
        "JSONP is not served (CORS serves browsers); json-server wraps the list in a script",
        _rows(_any),
    ),
    Difference("_page=0", f"{_MALFORMED} (page 1)", _bad("_page")),
    Difference("_page=abc", f"{_MALFORMED} (page 1)", _bad("_page")),
    Difference("_page=1&_limit=0", f"{_MALFORMED} (10 rows)", _bad("_limit")),
    Difference("_limit=0", f"{_MALFORMED} (no row)", _bad("_limit")),
    Difference("_limit=5abc", f"{_MALFORMED} (5 rows)", _bad("_limit")),
    Difference("_start=abc&_end=10", f"{_MALFORMED} (from 0)", _bad("_start")),
    Difference("_start=-1&_end=3", f"{_MALFORMED} (from the end)", _bad("_start")),
    Difference("_limit=2&_limit=3", f"{_MALFORMED} (the first)", _bad("_limit")),
    Difference("q=usd&q=brl", f"{_MALFORMED} (the first)", _bad("q")),
    Difference(
        "_limit=1001",
        "a window holds at most MAX_PAGE_SIZE (1000) rows; json-server answers any size",
        _bad("_limit"),
    ),
    Difference(
        "_start=5&_end=1006",
        "a window holds at most MAX_PAGE_SIZE (1000) rows; json-server answers any size",
        _bad("_end"),
    ),
    Difference("monthyPrice_gte=abc", f"{_MALFORMED} (compares the text)", _bad("monthyPrice_gte")),
    Difference("value_like=abc", f"{_MALFORMED} (a regular expression)", _bad("value_like")),
    Difference("_sort=color", f"{_MALFORMED} (no order)", _bad("_sort")),
    Difference("_sort=id&_order=up", f"{_MALFORMED} (ascending)", _bad("_order")),
    Difference(
        "monthyPrice_like=0.0",
        "_like exists for value and currency only (issue 9); json-server matches any field",
        _bad("monthyPrice_like"),
    ),
    Difference(
        "id_like=1",
        "_like exists for value and currency only; json-server has it on id too",
        _bad("id_like"),
    ),
)


def encode(query: str) -> str:
    """The query string of a table entry, each value percent-encoded whole."""
    if not query:
        return ""
    pairs = (item.partition("=") for item in query.split("&"))
    return "&".join(f"{quote(name, safe='')}={quote(value, safe='')}" for name, _, value in pairs)


@dataclass(frozen=True)
class Servers:
    """The API and json-server, serving the same rows."""

    api: httpx.Client
    mock: httpx.Client
    rows: list[Row]

    def both(self, query: str) -> tuple[httpx.Response, httpx.Response]:
        """The API's and json-server's responses to ``GET /numbers?query``."""
        path = f"/numbers?{encode(query)}"
        return self.api.get(path), self.mock.get(path)


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database of this module's own: on TEST_DATABASE_URL's server, else a SQLite file."""
    with fresh_database("json_server", tmp_path_factory.mktemp("json-server")) as url:
        yield url


@pytest.fixture(scope="module")
def servers(database_url: str) -> Iterator[Servers]:
    """The API with :data:`ROWS` created through it, and json-server on the API's answers."""
    missing = None
    try:
        check_installed()
    except NotInstalled as error:
        missing = str(error)
    if missing:
        pytest.fail(missing, pytrace=False)  # every test here fails, none is skipped
    with in_process_app(database_url) as app, app.client() as api:
        api.headers["Authorization"] = f"Bearer {log_in(api, *ADMIN)}"
        rows = []
        for value, monthly, setup, currency in ROWS:
            body = {"value": value, "monthyPrice": monthly, "setupPrice": setup}
            response = api.post("/numbers", json={**body, "currency": currency})
            assert response.status_code == 201, response.text
            rows.append(response.json())
        with (
            run_json_server({"numbers": rows}) as mock_url,
            httpx.Client(base_url=mock_url, timeout=10) as mock,
        ):
            yield Servers(api, mock, rows)


def test_json_server_serves_the_apis_own_rows(servers: Servers) -> None:
    assert [row["id"] for row in servers.rows] == list(range(1, len(ROWS) + 1))
    ours, theirs = servers.both("")
    assert ours.status_code == theirs.status_code == 200
    assert ours.json() == theirs.json() == servers.rows


@pytest.mark.parametrize("query", COMPARED, ids=lambda query: query or "no parameters")
def test_list_answers_as_json_server(servers: Servers, query: str) -> None:
    ours, theirs = servers.both(query)
    expected = Answer.of(theirs)
    assert expected.status == 200, theirs.text
    answer = Answer.of(ours)
    assert answer.status == 200, ours.text
    assert answer.ids == expected.ids
    if expected.total is not None:
        assert answer.total == expected.total
    if expected.rels is not None:
        assert answer.rels == expected.rels, ours.headers.get("link")


@pytest.mark.parametrize(
    "query",
    [
        "_page=1&_limit=4&_sort=setupPrice&_order=desc",
        "_page=1&_limit=3&currency_like=r&_sort=currency,setupPrice&_order=desc,asc",
        "_page=1&q=u",
    ],
)
def test_following_next_links_walks_the_same_pages(servers: Servers, query: str) -> None:
    ours, theirs = servers.both(query)
    pages = 1
    while True:
        assert Answer.of(ours).ids == Answer.of(theirs).ids
        assert links_of(ours).keys() == links_of(theirs).keys()
        if "next" not in links_of(theirs):
            break
        ours = servers.api.get(links_of(ours)["next"])
        theirs = servers.mock.get(links_of(theirs)["next"])
        pages += 1
    assert pages > 1


@pytest.mark.parametrize("difference", DIFFERENCES, ids=lambda difference: difference.query)
def test_deliberate_difference(servers: Servers, difference: Difference) -> None:
    ours, theirs = servers.both(difference.query)
    expected = difference.ours(servers.rows)
    answer = Answer.of(ours)
    assert (answer.status, answer.ids, answer.parameters) == (
        expected.status,
        expected.ids,
        expected.parameters,
    ), ours.text
    if expected.rels is not None:
        assert answer.rels == expected.rels
    mock = Answer.of(theirs)
    assert (mock.status, mock.ids, mock.rels) != (answer.status, answer.ids, answer.rels), (
        f"json-server answers {difference.query!r} as the API does: not a difference any more"
    )


def test_every_difference_is_a_query_the_comparison_leaves_out() -> None:
    assert not {d.query for d in DIFFERENCES} & set(COMPARED)
    assert len(COMPARED) >= 40
