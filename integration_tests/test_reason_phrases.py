"""What only the wire shows: status lines and the server's own headers, read off a socket.

Status lines carry their reason phrase (``HTTP/1.1 409 Conflict``): browser clients show
``statusText`` when they cannot read a body; Hypercorn gives h11 no reason, so without the fix in
``service/asgi.py`` every status line ends in a bare space. And a response has one ``Date``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from http import HTTPStatus

import httpx
import pytest

from integration_tests.api_client import create_number, number_body
from integration_tests.conftest import ServerFactory
from integration_tests.raw_http import exchange, json_request, request_head, status_line
from integration_tests.server import product_command

RawRequest = Callable[[httpx.Client, dict[str, str]], bytes]
UNKNOWN_ID = 2_000_000_000


def _expected(status: int) -> bytes:
    return f"HTTP/1.1 {status} {HTTPStatus(status).phrase}".encode("ascii")


def _delete_minimal(api: httpx.Client, auth: dict[str, str]) -> bytes:
    number = create_number(api)
    return request_head("DELETE", f"/numbers/{number['id']}", {**auth, "Prefer": "return=minimal"})


def _duplicate(api: httpx.Client, auth: dict[str, str]) -> bytes:
    return json_request("POST", "/numbers", number_body(value=create_number(api)["value"]), auth)


CASES: dict[int, RawRequest] = {
    200: lambda api, auth: request_head("GET", "/health/live"),
    201: lambda api, auth: json_request("POST", "/numbers", number_body(), auth),
    204: _delete_minimal,
    401: lambda api, auth: request_head("GET", "/numbers"),
    404: lambda api, auth: request_head("GET", f"/numbers/{UNKNOWN_ID}", auth),
    405: lambda api, auth: request_head("DELETE", "/numbers", auth),
    409: _duplicate,
}


@pytest.mark.parametrize("status", sorted(CASES))
def test_status_line_carries_the_reason_phrase(
    api: httpx.Client, served_url: str, token: str, status: int
) -> None:
    raw_request = CASES[status](api, {"Authorization": f"Bearer {token}"})

    assert status_line(exchange(served_url, raw_request)) == _expected(status)


def test_the_servers_own_error_carries_the_reason_phrase(served_url: str) -> None:
    # A request line no parser accepts is answered by the server, before the app sees it.
    response = exchange(served_url, b"NOT HTTP AT ALL\r\n\r\n")

    assert status_line(response) == _expected(400)


def _hypercorn_with_two_workers(port: int) -> list[str]:
    return [
        *(sys.executable, "-m", "hypercorn", "--workers", "2"),
        *("--bind", f"127.0.0.1:{port}", "service.asgi:app"),
    ]


@pytest.mark.parametrize(
    "command", [product_command, _hypercorn_with_two_workers], ids=["python-m-service", "hypercorn"]
)
def test_every_worker_sends_reason_phrases(
    start_server: ServerFactory, command: Callable[[int], list[str]]
) -> None:
    with start_server(env={"WEB_CONCURRENCY": "2"}, command=command) as server:
        # Whichever worker accepts a connection, its status line must carry the phrase.
        lines = {status_line(exchange(server.url, request_head("GET", "/nope"))) for _ in range(20)}

    assert lines == {_expected(401)}


@pytest.mark.parametrize("path", ["/numbers/{id}", "/docs", "/numbers"])
def test_a_response_carries_one_date_header(
    api: httpx.Client, served_url: str, token: str, path: str
) -> None:
    # Werkzeug dates conditional responses (a number, a docs file), and Hypercorn dates them all.
    path = path.format(id=create_number(api)["id"])
    raw = exchange(served_url, request_head("GET", path, {"Authorization": f"Bearer {token}"}))

    head = raw.split(b"\r\n\r\n", 1)[0].lower()
    assert head.count(b"\r\ndate:") == 1, head
