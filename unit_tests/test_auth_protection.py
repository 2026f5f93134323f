"""Default-deny: every route needs a valid Bearer token unless explicitly public; roles apply."""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from flask import Flask

from service.asgi_adapter import AsgiAdapter
from service.auth.protection import is_public, may, public
from service.auth.tokens import issue_token
from service.models import Role
from service.settings import MAX_BODY_BYTES, Settings
from unit_tests.asgi_client import Reply, call
from unit_tests.auth_fixtures import sign_in

Run = Callable[[Coroutine[Any, Any, Any]], Any]
#: The only endpoints anyone may reach without a token.
PUBLIC_ENDPOINTS = {
    "health.live",
    "health.ready",
    "auth.issue_access_token",
    "docs.openapi_document",
    "docs.documentation_page",
    "docs.documentation_asset",
}


@pytest.fixture
def bare(app: Flask) -> AsgiAdapter:
    """The app behind the ASGI adapter, with no credentials added to requests."""
    return AsgiAdapter(app, max_body_bytes=MAX_BODY_BYTES)


def request(
    run: Run, adapter: AsgiAdapter, method: str, path: str, token: str | None = None
) -> Reply:
    headers = [("Authorization", f"Bearer {token}")] if token is not None else []
    reply: Reply = run(call(adapter, method, path, headers=headers))[0]
    return reply


def sample_path(rule: str) -> str:
    """A concrete URL for a rule (``/numbers/<int:number_id>`` -> ``/numbers/1``)."""
    return re.sub(r"<(?:int:)?[^>]+>", "1", rule)


def test_only_the_health_probes_the_login_and_the_documentation_are_public(app: Flask) -> None:
    public_endpoints = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if is_public(app.view_functions[rule.endpoint])
    }
    assert public_endpoints == PUBLIC_ENDPOINTS


def test_every_other_route_and_method_answers_401_without_a_token(
    app: Flask, bare: AsgiAdapter, run: Run
) -> None:
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        for method in sorted((rule.methods or set()) - {"OPTIONS"}):
            reply = request(run, bare, method, sample_path(rule.rule))
            assert reply.status == 401, (method, rule.rule)
            assert reply.headers["www-authenticate"].startswith("Bearer")
            checked += 1
    assert checked >= 7  # GET, HEAD, POST on /numbers; GET, HEAD, PUT, PATCH, DELETE on one


def test_a_new_route_is_protected_without_anyone_asking(
    app: Flask, bare: AsgiAdapter, run: Run
) -> None:
    @app.get("/t/new")
    async def new_route() -> dict[str, str]:
        return {"open": "yes"}

    assert request(run, bare, "GET", "/t/new").status == 401


def test_public_marks_a_view_open(app: Flask, bare: AsgiAdapter, run: Run) -> None:
    @app.get("/t/open")
    @public
    async def open_route() -> dict[str, str]:
        return {"open": "yes"}

    assert request(run, bare, "GET", "/t/open").status == 200


def test_liveness_needs_no_token(bare: AsgiAdapter, run: Run) -> None:
    reply = request(run, bare, "GET", "/health/live")
    assert reply.status == 200 and reply.json() == {"status": "ok"}


def test_an_unknown_url_is_401_not_a_map_of_what_exists(bare: AsgiAdapter, run: Run) -> None:
    assert request(run, bare, "GET", "/nowhere").status == 401


def test_a_cors_preflight_needs_no_token(bare: AsgiAdapter, run: Run) -> None:
    headers = [
        ("Origin", "http://frontend.example"),
        ("Access-Control-Request-Method", "DELETE"),
        ("Access-Control-Request-Headers", "Authorization"),
    ]
    reply, _ = run(call(bare, "OPTIONS", "/numbers/1", headers=headers))
    assert reply.status == 204
    assert "Authorization" in reply.headers["access-control-allow-headers"]


def test_no_token_is_401_with_a_bare_bearer_challenge(bare: AsgiAdapter, run: Run) -> None:
    reply = request(run, bare, "GET", "/numbers")
    assert reply.status == 401
    assert reply.headers["content-type"] == "application/problem+json"
    assert reply.headers["www-authenticate"] == 'Bearer realm="telecom-numbers"'
    assert "POST /auth/token" in reply.json()["detail"]


@pytest.mark.parametrize("header", ["Basic YWRtaW46YWRtaW4=", "Bearer", "Bearer   ", "Token abc"])
def test_a_header_that_is_not_bearer_token_is_401(bare: AsgiAdapter, run: Run, header: str) -> None:
    reply, _ = run(call(bare, "GET", "/numbers", headers=[("Authorization", header)]))
    assert reply.status == 401
    assert 'error="invalid_request"' in reply.headers["www-authenticate"]


def test_a_tampered_token_is_401_saying_invalid(app: Flask, bare: AsgiAdapter, run: Run) -> None:
    token = sign_in(app)
    reply = request(
        run, bare, "GET", "/numbers", token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    )
    assert reply.status == 401
    assert 'error="invalid_token"' in reply.headers["www-authenticate"]
    assert "signature" in reply.headers["www-authenticate"]
    assert reply.json()["type"].endswith("/invalid-token")


def test_an_expired_token_is_401_saying_expired(
    app: Flask, settings: Settings, bare: AsgiAdapter, run: Run
) -> None:
    sign_in(app, user_id=5)
    token = issue_token(settings.secret_key, 5, Role.SUPERVISOR, 60, now=1_000_000)
    reply = request(run, bare, "GET", "/numbers", token)
    assert reply.status == 401
    assert 'error="invalid_token"' in reply.headers["www-authenticate"]
    assert "expired" in reply.headers["www-authenticate"]
    assert reply.json()["type"].endswith("/token-expired")


def test_a_deactivated_users_token_is_401(app: Flask, bare: AsgiAdapter, run: Run) -> None:
    token = sign_in(app, user_id=9, active=False)
    reply = request(run, bare, "GET", "/numbers", token)
    assert reply.status == 401
    assert "deactivated" in reply.json()["detail"]


def test_the_role_comes_from_the_user_row_not_the_token(
    app: Flask, settings: Settings, bare: AsgiAdapter, run: Run
) -> None:
    sign_in(app, Role.VIEWER, user_id=3)  # demoted after the token below was issued
    token = issue_token(settings.secret_key, 3, Role.SUPERVISOR, 60)
    assert request(run, bare, "DELETE", "/numbers/1", token).status == 403


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_a_viewer_may_not_write(app: Flask, bare: AsgiAdapter, run: Run, method: str) -> None:
    token = sign_in(app, Role.VIEWER, user_id=2)
    path = "/numbers" if method == "POST" else "/numbers/1"
    reply = request(run, bare, method, path, token)
    assert reply.status == 403
    assert reply.headers["content-type"] == "application/problem+json"
    assert "supervisor" in reply.json()["detail"]


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_viewer_may_read(app: Flask, bare: AsgiAdapter, run: Run, method: str) -> None:
    @app.route("/t/read", methods=["GET"])
    async def read() -> dict[str, str]:
        return {"read": "ok"}

    token = sign_in(app, Role.VIEWER, user_id=2)
    assert request(run, bare, method, "/t/read", token).status == 200


@pytest.mark.parametrize(
    ("role", "method", "allowed"),
    [
        (Role.SUPERVISOR, "GET", True),
        (Role.SUPERVISOR, "POST", True),
        (Role.SUPERVISOR, "DELETE", True),
        (Role.VIEWER, "GET", True),
        (Role.VIEWER, "HEAD", True),
        (Role.VIEWER, "POST", False),
        (Role.VIEWER, "PUT", False),
        (Role.VIEWER, "PATCH", False),
        (Role.VIEWER, "DELETE", False),
    ],
)
def test_role_policy(role: Role, method: str, allowed: bool) -> None:
    assert may(role, method) is allowed
