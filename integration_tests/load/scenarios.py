"""The scenarios: what each one requests, as wrk Lua, and what the API is asked before them."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from integration_tests.load.wrk import lua_string

PAGE_SIZE = 100
#: The smaller page a table UI asks for (the comparison with the peers reports it).
SMALL_PAGE_SIZE = 50
#: A sorted, filtered table's first page as react-admin asks for it (10 rows). Both data sets
#: fill it (800 rows hold 16 matches), so the --compare rows ratio measures the database's work
#: and not the size of the answer; without a window the API would answer up to 1,000 rows.
SORTED_FILTERED = (
    "/numbers?_sort=monthyPrice&_order=desc&currency=U%24&value_like=84&_start=0&_end=10"
)


@dataclass(frozen=True, slots=True)
class Target:
    """What the scenarios need to know about the API they drive."""

    base_url: str
    rows: int
    token: str | None
    #: A ``_cursor`` URL (path and query) as deep as the deep page, when the API has cursors.
    deep_cursor_path: str | None
    #: Unique per wrk invocation on one database: keeps POSTed numbers unique.
    run_tag: int

    @property
    def deep_page(self) -> int:
        """The page before the last one."""
        return max(1, math.ceil(self.rows / PAGE_SIZE) - 1)

    def headers(self, content_type: str | None = None) -> dict[str, str]:
        """Headers for every request of a scenario: the token, and the body's type."""
        headers = {"Accept": "application/json"}
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        if content_type is not None:
            headers["Content-Type"] = content_type
        return headers


@dataclass(frozen=True, slots=True)
class Scenario:
    """One row of the table: a name, a label, and the wrk script for a target."""

    name: str
    label: str
    lua: Callable[[Target], str]
    content_type: str | None = None
    needs_cursor: bool = False
    #: List scenarios must keep half their 800-row throughput at 1,000,000 rows.
    is_list: bool = False
    #: A read without sort, filter or cursor: the peer fixtures serve it too.
    plain_read: bool = False


def _static(path: Callable[[Target], str]) -> Callable[[Target], str]:
    return lambda target: f"wrk.method = 'GET'\nwrk.path = {lua_string(path(target))}\n"


def _get_one(target: Target) -> str:
    return f"""
init = function(args) math.randomseed(os.time() * 1000 + thread_id) end
request = function()
  return wrk.format("GET", "/numbers/" .. math.random(1, {target.rows}))
end
"""


def _patch(target: Target) -> str:
    return f"""
init = function(args) math.randomseed(os.time() * 1000 + 500 + thread_id) end
request = function()
  local body = string.format('{{"monthyPrice": "%d.%02d"}}', math.random(0, 9), math.random(0, 99))
  return wrk.format("PATCH", "/numbers/" .. math.random(1, {target.rows}), nil, body)
end
"""


def _post(target: Target) -> str:
    # +86 is never seeded; the digits are 86, the run tag, the thread and a counter: unique.
    return f"""
local counter = 0
request = function()
  counter = counter + 1
  local body = string.format(
    '{{"value": "+86 %03d %02d %08d", "monthyPrice": "1.50", "setupPrice": "3.40",'
    .. ' "currency": "U$"}}', {target.run_tag % 1000}, thread_id % 100, counter)
  return wrk.format("POST", "/numbers", nil, body)
end
"""


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("get_one", "`GET /numbers/{id}` (random ids)", _get_one, plain_read=True),
    Scenario(
        "list_first",
        "`GET /numbers?_page=1&_limit=100`",
        _static(lambda t: f"/numbers?_page=1&_limit={PAGE_SIZE}"),
        is_list=True,
        plain_read=True,
    ),
    Scenario(
        "list_50",
        "`GET /numbers?_page=1&_limit=50`",
        _static(lambda t: f"/numbers?_page=1&_limit={SMALL_PAGE_SIZE}"),
        is_list=True,
        plain_read=True,
    ),
    Scenario(
        "list_deep",
        "deep page `_page=N-1&_limit=100`",
        _static(lambda t: f"/numbers?_page={t.deep_page}&_limit={PAGE_SIZE}"),
        is_list=True,
        plain_read=True,
    ),
    Scenario(
        "list_deep_cursor",
        "same depth through `_cursor`",
        _static(lambda t: t.deep_cursor_path or ""),
        needs_cursor=True,
        is_list=True,
    ),
    Scenario(
        "list_sorted_filtered",
        "`_sort=monthyPrice&_order=desc&currency=U$&value_like=84&_start=0&_end=10`",
        _static(lambda t: SORTED_FILTERED),
        is_list=True,
    ),
    # Writes last, PATCH before POST, so that no scenario reads rows another one added.
    Scenario(
        "patch",
        "`PATCH /numbers/{id}` (random ids)",
        _patch,
        content_type="application/merge-patch+json",
    ),
    Scenario("post", "`POST /numbers` (unique values)", _post, content_type="application/json"),
)


def find_deep_cursor(client: httpx.Client, deep_page: int) -> tuple[str | None, bool | None]:
    """A ``_cursor`` URL for the page before the last, and whether it holds the deep page's rows.

    Follows the API's own links (``last``, then its ``prev``), never builds a cursor: they are
    opaque. (None, None) when the API does not offer cursors.
    """
    first = client.get("/numbers", params={"_limit": PAGE_SIZE, "_cursor": ""})
    last = first.links.get("last", {}).get("url", "")
    if first.status_code != 200 or not _cursor_of(last):
        return None, None
    previous = client.get(last).links.get("prev", {}).get("url", "")
    if not _cursor_of(previous):
        return None, None
    parts = urlsplit(previous)
    path = f"{parts.path}?{parts.query}"
    by_cursor = [number["id"] for number in client.get(path).json()]
    by_page = client.get("/numbers", params={"_page": deep_page, "_limit": PAGE_SIZE}).json()
    return path, by_cursor == [number["id"] for number in by_page]


def _cursor_of(url: str) -> str:
    for pair in urlsplit(url).query.split("&"):
        name, _, value = pair.partition("=")
        if name == "_cursor":
            return value
    return ""


def plain_answers(client: httpx.Client, rows: int, refused: dict[str, str]) -> dict[str, Any]:
    """What the API answers to plain reads that every variant serves, for comparing variants.

    Per path: the status, the media type, ``X-Total-Count`` and the JSON body; per token of
    ``refused`` (what makes it invalid -> the token), the status of a read that sends it.
    """
    paths = ("/numbers/1", f"/numbers/{rows}", f"/numbers?_page=1&_limit={SMALL_PAGE_SIZE}")
    answers = {}
    for path in paths:
        response = client.get(path)
        answers[path] = {
            "status": response.status_code,
            "type": response.headers.get("Content-Type", "").partition(";")[0].strip(),
            "total": response.headers.get("X-Total-Count"),
            "body": response.json() if response.status_code == 200 else None,
        }
    for reason, token in refused.items():
        response = client.get("/numbers/1", headers={"Authorization": f"Bearer {token}"})
        answers[f"/numbers/1 with {reason}"] = {"status": response.status_code}
    return answers


def differences(
    expected: dict[str, dict[str, Any]], actual: dict[str, dict[str, Any]]
) -> list[str]:
    """Where ``actual`` answers differ from ``expected`` (the first differing aspect per path)."""
    found = []
    for path, want in expected.items():
        got = actual.get(path, {})
        for aspect in want:
            if got.get(aspect) != want[aspect]:
                shown = str(got.get(aspect))[:200]
                found.append(f"{path}: {aspect} {shown} instead of {str(want[aspect])[:200]}")
                break
    return found
