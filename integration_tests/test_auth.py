"""Authentication and roles, in process, and against a real server with two workers (throttle).

This module starts its own apps because it needs settings of its own: a one-second user
cache (so revocation is observable quickly) and a short throttle window. It knows the apps'
SECRET_KEY (to forge an expired token) and database (to drive the ``users`` CLI as an operator
would).
Every test makes its own users, so none depends on another.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from integration_tests.conftest import AppFactory, ServerFactory
from integration_tests.in_process import InProcessApp, app_settings
from integration_tests.server import ADMIN, SECRET_KEY, log_in
from service import create_app
from service.auth.tokens import issue_token, read_token
from service.models import Role

CACHE_SECONDS = 1
THROTTLE_FAILURES = 3
THROTTLE_WINDOW = 8  # long enough for slow hashing on a busy CI machine


@pytest.fixture(scope="module")
def app(in_process: AppFactory) -> Iterator[InProcessApp]:
    """An app of this module's own: a one-second user cache makes revocation observable."""
    with in_process(env={"USER_CACHE_SECONDS": str(CACHE_SECONDS)}) as running:
        yield running


@pytest.fixture
def api(app: InProcessApp) -> Iterator[httpx.Client]:
    """A client without credentials (each test logs in as it needs)."""
    with app.client() as client:
        yield client


def users_cli(database_url: str, *args: str, password: str | None = None) -> str:
    """Run the ``flask --app service users ARGS`` command in process; the password on stdin."""
    app = create_app(app_settings(database_url))
    result = app.test_cli_runner().invoke(
        args=["users", *args], input=(password + "\n") if password is not None else ""
    )
    assert result.exit_code == 0, result.output
    return result.output


def users_cli_process(database_url: str, *args: str, password: str | None = None) -> str:
    """Run ``flask --app service users ARGS`` as an operator would; the password on stdin."""
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "service", "users", *args],
        env={**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": SECRET_KEY},
        input=(password + "\n") if password is not None else "",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def new_user(database_url: str, role: Role) -> tuple[str, str]:
    """A new user with ``role``, made with the CLI; its username and password."""
    username, password = f"user-{secrets.token_hex(4)}", secrets.token_urlsafe(12)
    users_cli(database_url, "create", username, "--role", role.value, password=password)
    return username, password


def login(client: httpx.Client, username: str, password: str) -> httpx.Response:
    return client.post("/auth/token", json={"username": username, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def new_number(client: httpx.Client, token: str) -> int:
    value = f"+1 98{secrets.randbelow(10**10):010d}"
    body = {"value": value, "monthyPrice": "0.03", "setupPrice": "3.40", "currency": "U$"}
    response = client.post("/numbers", json=body, headers=bearer(token))
    assert response.status_code == 201, response.text
    number_id: int = response.json()["id"]
    return number_id


def test_login_returns_a_bearer_token_that_opens_the_numbers(api: httpx.Client) -> None:
    response = login(api, *ADMIN)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 28800
    assert response.headers["cache-control"] == "no-store"
    assert api.get("/numbers", headers=bearer(body["access_token"])).status_code == 200


def test_the_token_carries_the_user_id_and_role(api: httpx.Client) -> None:
    claims = read_token(SECRET_KEY, log_in(api, *ADMIN))
    assert claims.role is Role.SUPERVISOR and claims.user_id >= 1


def test_wrong_username_and_wrong_password_get_the_same_401(
    api: httpx.Client, server_database_url: str
) -> None:
    username, _ = new_user(server_database_url, Role.VIEWER)
    wrong_password = login(api, username, "not-the-password")
    wrong_username = login(api, f"nobody-{secrets.token_hex(4)}", "not-the-password")
    for response in (wrong_password, wrong_username):
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert wrong_password.json() == wrong_username.json()


def test_logins_are_logged_without_the_password(
    api: httpx.Client, server_database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    username, password = new_user(server_database_url, Role.VIEWER)
    with caplog.at_level("INFO"):
        login(api, username, "wrong-" + password)
        log_in(api, username, password)
    log = caplog.text
    assert f"login failed for username {username!r}" in log
    assert f"login succeeded for user {username!r}" in log
    assert password not in log


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/numbers"), ("POST", "/numbers"), ("GET", "/numbers/1"), ("DELETE", "/numbers/1")],
)
def test_no_token_is_401_with_a_bearer_challenge(api: httpx.Client, method: str, path: str) -> None:
    response = api.request(method, path)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["content-type"] == "application/problem+json"


def test_a_tampered_token_is_401_saying_so(api: httpx.Client) -> None:
    token = log_in(api, *ADMIN)
    payload, signature = token.rsplit(".", 1)
    tampered = f"{payload}.{signature[::-1]}"
    response = api.get("/numbers", headers=bearer(tampered))
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert 'error="invalid_token"' in challenge and "signature" in challenge
    assert response.json()["type"].endswith("/invalid-token")


def test_an_expired_token_is_401_saying_so(api: httpx.Client) -> None:
    user_id = read_token(SECRET_KEY, log_in(api, *ADMIN)).user_id
    expired = issue_token(SECRET_KEY, user_id, Role.SUPERVISOR, 60, now=time.time() - 3600)
    response = api.get("/numbers", headers=bearer(expired))
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert 'error="invalid_token"' in challenge and "expired" in challenge
    assert response.json()["type"].endswith("/token-expired")


def test_a_viewer_reads_but_may_not_write(api: httpx.Client, server_database_url: str) -> None:
    number_id = new_number(api, log_in(api, *ADMIN))
    viewer = bearer(log_in(api, *new_user(server_database_url, Role.VIEWER)))
    assert api.get("/numbers", headers=viewer).status_code == 200
    assert api.get(f"/numbers/{number_id}", headers=viewer).status_code == 200
    body = {"value": "+1 987 654-3210", "monthyPrice": "1", "setupPrice": "1", "currency": "U$"}
    writes = [
        api.post("/numbers", json=body, headers=viewer),
        api.put(f"/numbers/{number_id}", json=body, headers=viewer),
        api.patch(f"/numbers/{number_id}", json={"setupPrice": "9"}, headers=viewer),
        api.delete(f"/numbers/{number_id}", headers=viewer),
    ]
    for response in writes:
        assert response.status_code == 403, response.request.method
        assert response.headers["content-type"] == "application/problem+json"
    assert api.get(f"/numbers/{number_id}", headers=viewer).json()["setupPrice"] == "3.40"


def wait_for_status(client: httpx.Client, token: str, expected: int, method: str = "GET") -> None:
    """Poll until a request with ``token`` gets ``expected``, within the cache window + slack."""
    deadline = time.monotonic() + CACHE_SECONDS + 3
    while True:
        status = client.request(method, "/numbers", headers=bearer(token)).status_code
        if status == expected or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert status == expected


def test_deactivation_reaches_issued_tokens_within_the_cache_window(
    api: httpx.Client, server_database_url: str
) -> None:
    username, password = new_user(server_database_url, Role.SUPERVISOR)
    token = log_in(api, username, password)
    assert api.get("/numbers", headers=bearer(token)).status_code == 200
    users_cli(server_database_url, "deactivate", username)
    started = time.monotonic()
    wait_for_status(api, token, 401)
    assert time.monotonic() - started <= CACHE_SECONDS + 3
    assert login(api, username, password).status_code == 401


def test_a_role_change_reaches_issued_tokens_within_the_cache_window(
    api: httpx.Client, server_database_url: str
) -> None:
    username, password = new_user(server_database_url, Role.SUPERVISOR)
    token = log_in(api, username, password)
    users_cli(server_database_url, "set-role", username, "viewer")
    # POST, not DELETE /numbers: a method no route has is 405 for everyone (issue 11 item 16).
    wait_for_status(api, token, 403, method="POST")


def test_set_password_replaces_the_old_one(api: httpx.Client, server_database_url: str) -> None:
    username, password = new_user(server_database_url, Role.VIEWER)
    users_cli(server_database_url, "set-password", username, password="a-brand-new-password")
    assert login(api, username, password).status_code == 401
    assert login(api, username, "a-brand-new-password").status_code == 200


def test_a_password_change_voids_the_tokens_issued_before_it(
    api: httpx.Client, server_database_url: str
) -> None:
    username, password = new_user(server_database_url, Role.SUPERVISOR)
    old = log_in(api, username, password)
    assert api.get("/numbers", headers=bearer(old)).status_code == 200

    users_cli(server_database_url, "set-password", username, password="a-brand-new-password")

    wait_for_status(api, old, 401)
    new = log_in(api, username, "a-brand-new-password")
    assert api.get("/numbers", headers=bearer(new)).status_code == 200


def test_tokens_from_before_a_deactivation_stay_void_after_reactivation(
    api: httpx.Client, server_database_url: str
) -> None:
    username, password = new_user(server_database_url, Role.VIEWER)
    old = log_in(api, username, password)
    users_cli(server_database_url, "deactivate", username)
    wait_for_status(api, old, 401)

    users_cli(server_database_url, "activate", username)
    time.sleep(CACHE_SECONDS + 0.2)

    assert api.get("/numbers", headers=bearer(old)).status_code == 401
    assert api.get("/numbers", headers=bearer(log_in(api, username, password))).status_code == 200


@pytest.fixture(scope="module")
def behind_a_proxy(in_process: AppFactory) -> Iterator[InProcessApp]:
    """An app behind one trusted proxy, so X-Forwarded-For names the client; 3 failures max."""
    env = {"TRUSTED_PROXIES": "1", "LOGIN_MAX_FAILURES": str(THROTTLE_FAILURES)}
    with in_process(env=env) as app:
        yield app


def login_from(app: InProcessApp, address: str, username: str, password: str) -> httpx.Response:
    with app.client(headers={"X-Forwarded-For": address}) as client:
        return login(client, username, password)


def test_a_guessing_client_is_throttled_and_the_owner_elsewhere_logs_in(
    behind_a_proxy: InProcessApp, server_database_url: str
) -> None:
    username, password = new_user(server_database_url, Role.SUPERVISOR)
    for _ in range(THROTTLE_FAILURES):
        assert login_from(behind_a_proxy, "203.0.113.7", username, "guess").status_code == 401

    attacker = login_from(behind_a_proxy, "203.0.113.7", username, password)
    owner = login_from(behind_a_proxy, "198.51.100.20", username, password)

    assert attacker.status_code == 429, attacker.text  # even with the right password
    assert int(attacker.headers["retry-after"]) >= 1
    assert owner.status_code == 200, owner.text


def test_users_list_shows_roles_and_state(server_database_url: str) -> None:
    username, _ = new_user(server_database_url, Role.VIEWER)
    listed = users_cli_process(server_database_url, "list")  # the real command, end to end
    line = next(x for x in listed.splitlines() if username in x)
    assert "viewer" in line and "yes" in line


@pytest.mark.parametrize("path", ["/health/live", "/health/ready"])
def test_health_probes_need_no_token(api: httpx.Client, path: str) -> None:
    assert api.get(path).status_code == 200


def test_a_cors_preflight_needs_no_token(api: httpx.Client) -> None:
    response = api.options(
        "/numbers/1",
        headers={
            "Origin": "http://frontend.example",
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "Authorization, Content-Type",
        },
    )
    assert response.status_code == 204
    assert "Authorization" in response.headers["access-control-allow-headers"]
    assert response.headers["access-control-allow-origin"] == "*"


def fresh_login(url: str, username: str, password: str) -> httpx.Response:
    """A login on a new connection, so that attempts spread over the server's workers."""
    with httpx.Client(base_url=url, timeout=30) as client:
        return login(client, username, password)


def test_the_throttle_holds_across_two_workers(
    start_server: ServerFactory, server_database_url: str
) -> None:
    throttled_server = {
        "WEB_CONCURRENCY": "2",
        "LOGIN_MAX_FAILURES": str(THROTTLE_FAILURES),
        "LOGIN_WINDOW_SECONDS": str(THROTTLE_WINDOW),
    }
    with start_server(env=throttled_server) as two_workers:
        username, password = new_user(server_database_url, Role.VIEWER)
        for _ in range(THROTTLE_FAILURES):
            assert fresh_login(two_workers.url, username, "wrong-password").status_code == 401
        blocked = [fresh_login(two_workers.url, username, password) for _ in range(4)]
        for response in blocked:  # even the right password, on whichever worker
            assert response.status_code == 429
            assert 1 <= int(response.headers["retry-after"]) <= THROTTLE_WINDOW
            assert response.headers["content-type"] == "application/problem+json"
        # Other users are not locked out.
        assert fresh_login(two_workers.url, *ADMIN).status_code == 200
        time.sleep(int(blocked[-1].headers["retry-after"]) + 0.5)
        assert fresh_login(two_workers.url, username, password).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"username": 1, "password": "admin-password"}', id="a number as username"),
        pytest.param(b'{"username": "\\ud800", "password": "x"}', id="lone surrogate username"),
        pytest.param(b'{"username": "admin", "password": "\\udfff"}', id="lone surrogate password"),
        pytest.param(
            ('{"username": "' + "\u0130" * 40 + '", "password": "x"}').encode(), id="İ x 40"
        ),
        pytest.param(b'{"username": "ad\\u0000min", "password": "x"}', id="NUL in username"),
    ],
)
def test_any_login_text_is_a_422_never_a_server_error(api: httpx.Client, body: bytes) -> None:
    response = api.post("/auth/token", content=body, headers={"Content-Type": "application/json"})

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
