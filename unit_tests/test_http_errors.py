"""Client errors caught before the database is touched, all rendered as problem+json."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from service.asgi_adapter import AsgiAdapter
from unit_tests.asgi_client import Reply, call

Run = Callable[[Coroutine[Any, Any, Any]], Any]
VALID = (
    b'{"value": "+55 84 91234-4321", "monthyPrice": "0.03", "setupPrice": "3.40", "currency": "U$"}'
)


def request(
    run: Run,
    asgi: AsgiAdapter,
    method: str,
    path: str,
    body: bytes = b"",
    headers: list[tuple[str, str]] | None = None,
    query: bytes = b"",
) -> Reply:
    reply, _ = run(
        call(asgi, method, path, query=query, headers=headers or [], chunks=[body] if body else [])
    )
    return reply


def assert_problem(reply: Reply, status: int) -> dict[str, Any]:
    assert reply.status == status
    assert reply.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = reply.json()
    assert problem["status"] == status
    assert {"type", "title", "detail"} <= problem.keys()
    return problem


@pytest.mark.parametrize(
    "headers",
    [
        [],
        [("Content-Type", "text/plain")],
        [("Content-Type", "application/merge-patch+json")],
        [("Content-Type", "application/x-www-form-urlencoded")],
    ],
)
def test_post_needs_a_json_content_type(
    run: Run, asgi: AsgiAdapter, headers: list[tuple[str, str]]
) -> None:
    problem = assert_problem(request(run, asgi, "POST", "/numbers", VALID, headers), 415)
    assert "application/json" in problem["detail"]


def test_patch_415_advertises_the_accepted_types(run: Run, asgi: AsgiAdapter) -> None:
    reply = request(run, asgi, "PATCH", "/numbers/1", b"{}", [("Content-Type", "text/plain")])
    assert_problem(reply, 415)
    assert reply.headers["accept-patch"] == "application/json, application/merge-patch+json"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b'{"value": ', "not valid JSON"),
        (b'{"monthyPrice": NaN}', "NaN is not valid JSON"),
        (b'{"monthyPrice": Infinity}', "Infinity is not valid JSON"),
        (b"\xff\xfe", "UTF-8"),
        (b"   ", "empty"),
    ],
)
def test_malformed_json_is_400(run: Run, asgi: AsgiAdapter, body: bytes, fragment: str) -> None:
    reply = request(run, asgi, "POST", "/numbers", body, [("Content-Type", "application/json")])
    problem = assert_problem(reply, 400)
    assert fragment in problem["detail"]


def test_empty_body_is_400(run: Run, asgi: AsgiAdapter) -> None:
    reply = request(run, asgi, "POST", "/numbers", b"", [("Content-Type", "application/json")])
    assert "empty" in assert_problem(reply, 400)["detail"]


def test_charset_parameter_is_fine_and_validation_is_422(run: Run, asgi: AsgiAdapter) -> None:
    reply = request(
        run,
        asgi,
        "POST",
        "/numbers",
        b'{"value": 1}',
        [("Content-Type", "application/json; charset=utf-8")],
    )
    problem = assert_problem(reply, 422)
    pointers = {e["pointer"] for e in problem["errors"]}
    assert pointers == {"#/value", "#/monthyPrice", "#/setupPrice", "#/currency"}


def test_unknown_path_is_a_404_problem(run: Run, asgi: AsgiAdapter) -> None:
    assert_problem(request(run, asgi, "GET", "/nowhere"), 404)


def test_non_integer_id_is_a_404_problem(run: Run, asgi: AsgiAdapter) -> None:
    assert_problem(request(run, asgi, "GET", "/numbers/abc"), 404)


def test_wrong_method_is_a_405_problem_with_allow(run: Run, asgi: AsgiAdapter) -> None:
    reply = request(run, asgi, "DELETE", "/numbers")
    problem = assert_problem(reply, 405)
    allowed = {m.strip() for m in reply.headers["allow"].split(",")}
    assert {"GET", "HEAD", "POST", "OPTIONS"} <= allowed
    assert "GET" in problem["detail"]


def test_bad_query_parameters_are_a_400_problem_naming_them(run: Run, asgi: AsgiAdapter) -> None:
    problem = assert_problem(
        request(run, asgi, "GET", "/numbers", query=b"_limit=5000&_sort=price"), 400
    )
    assert {e["parameter"] for e in problem["errors"]} == {"_limit", "_sort"}


def test_preflight_is_answered_without_touching_the_view(run: Run, asgi: AsgiAdapter) -> None:
    reply = request(
        run,
        asgi,
        "OPTIONS",
        "/numbers/1",
        headers=[
            ("Origin", "http://localhost:3000"),
            ("Access-Control-Request-Method", "PATCH"),
            ("Access-Control-Request-Headers", "if-match, content-type"),
        ],
    )
    assert reply.status == 204
    assert reply.headers["access-control-allow-origin"] == "*"
    assert "PATCH" in reply.headers["access-control-allow-methods"]
    assert "If-Match" in reply.headers["access-control-allow-headers"]


def test_error_responses_carry_cors_headers(run: Run, asgi: AsgiAdapter) -> None:
    reply = request(run, asgi, "GET", "/nowhere", headers=[("Origin", "http://localhost:3000")])
    assert reply.headers["access-control-allow-origin"] == "*"
    exposed = reply.headers["access-control-expose-headers"]
    assert {"X-Total-Count", "Link", "ETag", "Location"} <= {h.strip() for h in exposed.split(",")}


@pytest.mark.parametrize("sent", ["has spaces", "x" * 129, "new\nline"])
def test_unsafe_request_ids_are_replaced(run: Run, asgi: AsgiAdapter, sent: str) -> None:
    reply = request(run, asgi, "GET", "/nowhere", headers=[("X-Request-ID", sent)])
    assert reply.headers["x-request-id"] != sent
    assert len(reply.headers["x-request-id"]) == 32
