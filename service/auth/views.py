"""``POST /auth/token``: trade a username and password for a Bearer token."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, request
from flask.typing import ResponseReturnValue

from service.auth import throttle
from service.auth.passwords import MAX_PASSWORD_LENGTH, verify_password
from service.auth.protection import public
from service.auth.tokens import issue_token
from service.auth.users import InvalidUsername, check_username, find_user
from service.database import session_scope
from service.models import MAX_USERNAME_LENGTH, Role
from service.payloads import JsonNumber, read_json
from service.problems import AuthenticationFailed, FieldError, TooManyAttempts, ValidationFailed
from service.settings import current_settings

bp = Blueprint("auth", __name__, url_prefix="/auth")
log = logging.getLogger(__name__)

#: The same words for a wrong username and a wrong password: no user enumeration.
_BAD_CREDENTIALS = "The username or password is incorrect."


@dataclass(frozen=True, slots=True)
class Credentials:
    """A login request's username (normalized) and password."""

    username: str
    password: str

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, password=<hidden>)"


def parse_credentials(body: Any) -> Credentials:
    """The credentials in a login body; 422 naming every bad field.

    The username is checked against the naming rule after it is normalized, so nothing that no
    user can have (too long once lower-cased, a NUL, a lone surrogate) reaches the database.
    """
    if not isinstance(body, dict):
        raise ValidationFailed([FieldError.at("", "Send a JSON object: username, password.")])
    errors: list[FieldError] = []
    username, password = _text(body, "username", errors), _text(body, "password", errors)
    if len(password) > MAX_PASSWORD_LENGTH:
        errors.append(
            FieldError.at("/password", f"password is too long (over {MAX_PASSWORD_LENGTH}).")
        )
    if username:
        try:
            username = check_username(username[: 4 * MAX_USERNAME_LENGTH])
        except InvalidUsername as error:
            errors.append(FieldError.at("/username", str(error)))
    if errors:
        raise ValidationFailed(errors)
    return Credentials(username, password)


def _text(body: dict[str, Any], name: str, errors: list[FieldError]) -> str:
    """The non-empty text member ``name`` of ``body``, or "" with an error recorded."""
    value = body.get(name)
    if not isinstance(value, str) or isinstance(value, JsonNumber) or not value.strip():
        errors.append(FieldError.at(f"/{name}", f"{name} is required, a non-empty string."))
        return ""
    if _has_lone_surrogate(value):
        errors.append(FieldError.at(f"/{name}", f"{name} must be valid Unicode text."))
        return ""
    return value


def _has_lone_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(c) <= 0xDFFF for c in text)


@bp.post("/token")
@public
async def issue_access_token() -> ResponseReturnValue:
    """Exchange a username and password for a Bearer token (OAuth 2 style response)."""
    credentials = parse_credentials(read_json())
    settings = current_settings()
    limit = throttle.Limit(
        settings.login_max_failures,
        settings.login_window_seconds,
        settings.login_max_failures_per_username,
    )
    username, now = credentials.username, datetime.now(UTC)
    # The peer's address, or the trusted proxies' X-Forwarded-For (ProxyFix, TRUSTED_PROXIES).
    client = (request.remote_addr or "-")[:64]

    async with session_scope() as session:
        attempt_id = await throttle.record_attempt(session, username, client, now)
    async with session_scope() as session:
        wait = await throttle.seconds_blocked(session, username, client, attempt_id, limit, now)
        user = None if wait else await find_user(session, username)
    if wait:
        log.warning("login throttled for %r from %s (retry in %ds)", username, client, wait)
        raise TooManyAttempts(
            f"Too many failed logins for this username from here; try again in {wait} seconds.",
            wait,
        )

    # The same work whatever went wrong: a hash is checked even when the user does not exist.
    matches = await verify_password(user.password_hash if user else None, credentials.password)
    async with session_scope() as session:
        if user is not None and user.active and matches:
            await throttle.forget_failures(session, username, client)
        else:
            await throttle.prune(session, limit, now)
    if user is None or not user.active or not matches:
        reason = "no such user" if user is None else "inactive user" if matches else "bad password"
        log.warning("login failed for username %r from %s: %s", username, client, reason)
        raise AuthenticationFailed(_BAD_CREDENTIALS, type_slug="invalid-credentials")

    log.info("login succeeded for user %r (id %d) from %s", username, user.id, client)
    role = Role(user.role)
    token = issue_token(
        settings.secret_key, user.id, role, settings.token_ttl_seconds, version=user.token_version
    )
    body = {"access_token": token, "token_type": "Bearer", "expires_in": settings.token_ttl_seconds}
    # RFC 6749 5.1: responses carrying tokens must not be cached.
    return body, 200, {"Cache-Control": "no-store", "Pragma": "no-cache"}
