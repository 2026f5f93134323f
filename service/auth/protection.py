"""Default-deny: every route needs a Bearer token unless its view is marked :func:`public`.

The check is a ``before_request`` hook rather than a decorator on each protected view, so that
a new route is protected without anyone remembering to protect it; only an explicit ``@public``
opens one. Authorization follows the HTTP method: viewers may read (GET, HEAD), and every write
needs the supervisor role.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from flask import Flask, current_app, request
from werkzeug.exceptions import MethodNotAllowed

from service import database
from service.auth.cache import UserCache
from service.auth.tokens import TokenExpired, TokenInvalid, read_token
from service.auth.users import Principal, load_principal
from service.models import Role
from service.problems import AuthenticationFailed, RoleForbidden
from service.settings import Settings, current_settings

F = TypeVar("F", bound=Callable[..., Any])

_PUBLIC = "_auth_public"
_CACHE = "auth.user_cache"
#: Methods a viewer may use; everything else changes data and needs a supervisor.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def public(view: F) -> F:
    """Mark ``view`` as open to anyone, without a token (health probes, the login itself)."""
    setattr(view, _PUBLIC, True)
    return view


def is_public(view: Callable[..., Any] | None) -> bool:
    """True when ``view`` was marked with :func:`public`."""
    return bool(getattr(view, _PUBLIC, False))


def may(role: Role, method: str) -> bool:
    """Whether ``role`` may send a ``method`` request to a protected route."""
    return role is Role.SUPERVISOR or method in READ_METHODS


def _bearer_token() -> str:
    header = request.headers.get("Authorization")
    if not header:
        raise AuthenticationFailed(
            "This endpoint needs 'Authorization: Bearer <token>'; get a token from "
            "POST /auth/token.",
            type_slug="authentication-required",
        )
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthenticationFailed(
            "The Authorization header must be 'Bearer <token>'.",
            type_slug="invalid-token",
            error="invalid_request",
            error_description="The Authorization header must be: Bearer <token>",
        )
    return token


def _invalid_token(reason: str, type_slug: str = "invalid-token") -> AuthenticationFailed:
    return AuthenticationFailed(
        reason, type_slug=type_slug, error="invalid_token", error_description=reason
    )


def user_cache(app: Flask) -> UserCache:
    """The app's cache of user rows."""
    cache: UserCache = app.extensions[_CACHE]
    return cache


async def _principal(user_id: int) -> Principal | None:
    cache = user_cache(current_app)
    found, principal = cache.get(user_id)
    if not found:
        principal = await database.read(partial(load_principal, user_id=user_id))
        cache.put(user_id, principal)
    return principal


async def authenticate() -> None:
    """The ``before_request`` hook: 401 without a valid token, 403 when the role forbids."""
    view = current_app.view_functions.get(request.endpoint or "")
    if isinstance(request.routing_exception, MethodNotAllowed):
        return  # a method no route of this URL has: 405 with Allow, whoever asks
    if request.method == "OPTIONS" or is_public(view):
        # OPTIONS: CORS preflights carry no credentials, and the answer is only the allowed
        # methods. A URL that matches no route is not public: unauthenticated clients get 401,
        # not a map of which URLs exist.
        return
    token = _bearer_token()
    try:
        claims = read_token(current_settings().secret_key, token)
    except TokenExpired as error:
        raise _invalid_token(str(error), "token-expired") from None
    except TokenInvalid as error:
        raise _invalid_token(str(error)) from None
    user = await _principal(claims.user_id)
    if user is None or not user.active:
        raise _invalid_token("The token's user no longer exists or has been deactivated.")
    if claims.version != user.token_version:
        raise _invalid_token("The token was issued before a password change; log in again.")
    if not may(user.role, request.method):
        raise RoleForbidden(
            f"The {user.role.value} role may only read; {request.method} needs a supervisor."
        )


def init_app(app: Flask, settings: Settings) -> None:
    """Protect every route of ``app`` (register this after the CORS preflight hook)."""
    app.extensions[_CACHE] = UserCache(settings.user_cache_seconds)
    app.before_request(authenticate)
