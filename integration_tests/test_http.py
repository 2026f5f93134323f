"""Cross-cutting HTTP behaviour: routing errors as problem+json, request ids, CORS."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from integration_tests.api_client import create_number, expect_problem, number_body
from integration_tests.conftest import AppFactory, signed_in
from integration_tests.in_process import InProcessApp

ALLOWED_ORIGIN = "http://allowed.example"
EXPOSED = (
    "X-Total-Count",
    "X-Total-Count-Exact",
    "Link",
    "Location",
    "ETag",
    "X-Request-ID",
)
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
REQUEST_HEADERS = ("Content-Type", "Authorization", "If-Match", "If-None-Match")


# --- routing errors --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/nope", "/numbers/1/extra", "/health"])
def test_unknown_path_is_404_problem(api: httpx.Client, path: str) -> None:
    expect_problem(api.get(path), 404)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/numbers", {"GET", "HEAD", "POST", "OPTIONS"}),
        ("PUT", "/numbers", {"GET", "HEAD", "POST", "OPTIONS"}),
        ("POST", "/numbers/1", {"GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"}),
        ("POST", "/health/live", {"GET", "HEAD", "OPTIONS"}),
    ],
)
def test_wrong_method_is_405_problem_with_allow(
    api: httpx.Client, method: str, path: str, allowed: set[str]
) -> None:
    response = api.request(method, path, json={})

    expect_problem(response, 405)
    assert {m.strip() for m in response.headers["allow"].split(",")} == allowed


@pytest.mark.parametrize("path", ["/numbers", "/numbers/1", "/health/live"])
def test_a_plain_options_lists_the_methods_without_a_body_or_content_type(
    api: httpx.Client, path: str
) -> None:
    response = api.options(path)

    assert response.status_code == 200
    assert "GET" in {m.strip() for m in response.headers["allow"].split(",")}
    assert response.content == b""
    assert "content-type" not in response.headers


# --- request ids -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/health/live", "/numbers?_limit=1", "/nope"])
def test_request_id_sent_by_the_client_is_echoed(api: httpx.Client, path: str) -> None:
    response = api.get(path, headers={"X-Request-ID": "frontend-1234.abc"})

    assert response.headers["x-request-id"] == "frontend-1234.abc"


def test_request_id_is_generated_when_not_sent(api: httpx.Client) -> None:
    first = api.get("/health/live").headers["x-request-id"]
    second = api.get("/health/live").headers["x-request-id"]

    assert first and second and first != second


@pytest.mark.parametrize("unsafe", ["has spaces", "x" * 200, "line\tbreak"])
def test_unsafe_request_id_is_replaced(api: httpx.Client, unsafe: str) -> None:
    response = api.get("/health/live", headers={"X-Request-ID": unsafe})

    assert response.headers["x-request-id"] not in ("", unsafe)


# --- CORS ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def default_cors(in_process: AppFactory) -> Iterator[InProcessApp]:
    """An app with CORS_ORIGINS unset: the development default, any origin."""
    with in_process(env={"CORS_ORIGINS": None}) as app:
        yield app


@pytest.fixture(scope="module")
def restricted_cors(in_process: AppFactory) -> Iterator[InProcessApp]:
    """An app that allows one origin only."""
    with in_process(env={"CORS_ORIGINS": ALLOWED_ORIGIN}) as app:
        yield app


def _items(header: str) -> set[str]:
    return {item.strip().lower() for item in header.split(",")}


def _preflight(app: InProcessApp, origin: str, method: str = "PATCH") -> httpx.Response:
    with app.client() as client:
        return client.options(
            "/numbers/1",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": "content-type, if-match",
            },
        )


def test_preflight_from_any_origin_is_answered_by_default(default_cors: InProcessApp) -> None:
    response = _preflight(default_cors, "http://localhost:5173")

    assert 200 <= response.status_code < 300
    assert response.headers["access-control-allow-origin"] in ("*", "http://localhost:5173")
    assert _items(response.headers["access-control-allow-methods"]) >= _items(",".join(METHODS))
    assert _items(response.headers["access-control-allow-headers"]) >= _items(
        ",".join(REQUEST_HEADERS)
    )


def test_responses_expose_the_headers_the_frontend_reads(default_cors: InProcessApp) -> None:
    with signed_in(default_cors, headers={"Origin": "http://localhost:5173"}) as api:
        created = api.post("/numbers", json=number_body())
        listed = api.get("/numbers", params={"_limit": 1})

    for response in (created, listed):
        assert response.headers["access-control-allow-origin"] in ("*", "http://localhost:5173")
        assert _items(response.headers["access-control-expose-headers"]) >= _items(
            ",".join(EXPOSED)
        )


def test_error_responses_carry_cors_headers(default_cors: InProcessApp) -> None:
    with signed_in(default_cors, headers={"Origin": "http://localhost:5173"}) as api:
        response = api.post("/numbers", json={"value": "nope"})

    expect_problem(response, 422)
    assert "access-control-allow-origin" in response.headers


def test_allowed_origin_gets_cors_headers(restricted_cors: InProcessApp) -> None:
    with signed_in(restricted_cors, headers={"Origin": ALLOWED_ORIGIN}) as api:
        response = api.get("/numbers", params={"_limit": 1})
        preflight = _preflight(restricted_cors, ALLOWED_ORIGIN)

    assert response.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "origin" in _items(response.headers["vary"])
    assert _items(response.headers["access-control-expose-headers"]) >= _items(",".join(EXPOSED))
    assert 200 <= preflight.status_code < 300
    assert preflight.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert _items(preflight.headers["access-control-allow-methods"]) >= _items(",".join(METHODS))


def test_disallowed_origin_gets_no_cors_headers(restricted_cors: InProcessApp) -> None:
    with signed_in(restricted_cors, headers={"Origin": "http://evil.example"}) as api:
        response = api.get("/numbers", params={"_limit": 1})
        number = create_number(api)
    preflight = _preflight(restricted_cors, "http://evil.example")

    assert response.status_code == 200
    assert number["id"]
    for answer in (response, preflight):
        assert not [h for h in answer.headers if h.startswith("access-control-")], answer.headers
