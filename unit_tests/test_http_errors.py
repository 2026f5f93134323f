"""Client errors caught before the database is touched, all rendered as problem+json."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from flask import Flask

from service import create_app
from service.asgi_adapter import AsgiAdapter
from service.models import Role
from service.settings import MAX_BODY_BYTES, Settings
from unit_tests.asgi_client import Reply, call
from unit_tests.auth_fixtures import SignedInAdapter, sign_in

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
    reply: Reply
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
    needed = {"X-Total-Count", "X-Total-Count-Exact", "Link", "Location", "ETag", "X-Request-ID"}
    assert needed <= {h.strip() for h in exposed.split(",")}


@pytest.mark.parametrize("sent", ["has spaces", "x" * 129, "new\nline"])
def test_unsafe_request_ids_are_replaced(run: Run, asgi: AsgiAdapter, sent: str) -> None:
    reply = request(run, asgi, "GET", "/nowhere", headers=[("X-Request-ID", sent)])
    assert reply.headers["x-request-id"] != sent
    assert len(reply.headers["x-request-id"]) == 32


@pytest.fixture
def trusting_one_host() -> AsgiAdapter:
    """The app answering to api.example only, its requests signed in as a supervisor."""
    settings = Settings(database_url="sqlite+aiosqlite:///:memory:", trusted_hosts=("api.example",))
    app = create_app(settings)
    return SignedInAdapter(app, sign_in(app), max_body_bytes=MAX_BODY_BYTES)


@pytest.mark.parametrize("host", ["evil.example", "api.example.evil.example", "evil.example:80"])
def test_a_host_the_api_does_not_answer_to_is_a_400_problem(
    run: Run, trusting_one_host: AsgiAdapter, host: str
) -> None:
    reply = request(run, trusting_one_host, "GET", "/health/live", headers=[("Host", host)])
    problem = assert_problem(reply, 400)
    assert problem["type"].endswith("/invalid-host")


def test_a_trusted_host_with_a_port_is_served(run: Run, trusting_one_host: AsgiAdapter) -> None:
    reply = request(
        run, trusting_one_host, "GET", "/health/live", headers=[("Host", "api.example:8080")]
    )
    assert reply.status == 200


@pytest.mark.parametrize("host", ["bad host", "a/b", "[::1"])
def test_a_malformed_host_is_a_400_problem_even_when_any_host_is_allowed(
    run: Run, asgi: AsgiAdapter, host: str
) -> None:
    reply = request(run, asgi, "GET", "/numbers", headers=[("Host", host)])
    assert assert_problem(reply, 400)["type"].endswith("/invalid-host")


@pytest.mark.parametrize("path", ["/numbers//1", "/numbers/1//", "/health//live"])
def test_repeated_slashes_are_a_404_problem_not_a_redirect(
    run: Run, asgi: AsgiAdapter, path: str
) -> None:
    reply = request(run, asgi, "GET", path, headers=[("Host", "evil.example")])
    assert_problem(reply, 404)
    assert "location" not in reply.headers


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("TRACE", "/health/live"),
        ("TRACE", "/numbers"),
        ("PROPFIND", "/numbers/1"),
        ("TRACE", "/auth/token"),
    ],
)
@pytest.mark.parametrize("who", ["anonymous", "viewer", "supervisor"])
def test_a_method_no_route_has_is_405_with_allow_for_everyone(
    run: Run, app: Flask, method: str, path: str, who: str
) -> None:
    headers = []
    if who != "anonymous":
        role = Role.VIEWER if who == "viewer" else Role.SUPERVISOR
        headers = [("Authorization", f"Bearer {sign_in(app, role, user_id=7)}")]
    bridge = AsgiAdapter(app, max_body_bytes=MAX_BODY_BYTES)
    reply = request(run, bridge, method, path, headers=headers)
    assert_problem(reply, 405)
    assert "GET" in reply.headers["allow"] or "POST" in reply.headers["allow"]
