"""RFC 9457 problem details: the one error shape of the API, and the handlers that render it.

Views raise the domain errors below; Werkzeug's routing errors and unexpected exceptions are
converted here, so every error leaves the service as ``application/problem+json``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, current_app, request
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException, InternalServerError

from service import database

PROBLEM_JSON = "application/problem+json"
_TYPE_BASE = "https://telecom-numbers.example/problems/"

log = logging.getLogger(__name__)


class Problem(Exception):
    """An error the client can act on; rendered as problem+json with ``status``."""

    status: int = 500
    type_slug: str | None = None  # None: "about:blank", the HTTP status says it all

    def __init__(
        self,
        detail: str,
        *,
        members: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.members = dict(members or {})
        self.headers = dict(headers or {})


class FieldError(dict[str, str]):
    """One failing field of a request body (``pointer``) or query string (``parameter``)."""

    @classmethod
    def at(cls, pointer: str, detail: str) -> FieldError:
        """An error for the body member at JSON pointer ``pointer`` (without the leading ``#``)."""
        return cls(pointer=f"#{pointer}", detail=detail)

    @classmethod
    def member(cls, name: str, detail: str) -> FieldError:
        """An error for the top-level body member ``name`` (escaped as RFC 6901 asks)."""
        return cls.at("/" + name.replace("~", "~0").replace("/", "~1"), detail)

    @classmethod
    def param(cls, name: str, detail: str) -> FieldError:
        """An error for the query parameter ``name``."""
        return cls(parameter=name, detail=detail)


class ValidationFailed(Problem):
    """The JSON body is well-formed but breaks one or more field rules (422)."""

    status = 422
    type_slug = "validation-failed"

    def __init__(self, errors: Sequence[FieldError]) -> None:
        fields = ", ".join(e.get("pointer", "#").removeprefix("#/") or "body" for e in errors)
        super().__init__(
            f"The request body has invalid fields: {fields}.", members={"errors": list(errors)}
        )


class InvalidQuery(Problem):
    """One or more query parameters have values the API cannot use (400)."""

    status = 400
    type_slug = "invalid-query"

    def __init__(self, errors: Sequence[FieldError]) -> None:
        names = ", ".join(e["parameter"] for e in errors)
        super().__init__(f"Invalid query parameters: {names}.", members={"errors": list(errors)})


class MalformedJson(Problem):
    """The body is not parseable JSON (400)."""

    status = 400
    type_slug = "malformed-json"


class UnsupportedBodyType(Problem):
    """The body's Content-Type is missing or not one the endpoint accepts (415)."""

    status = 415


class InvalidHost(Problem):
    """The Host header is missing, malformed, or not a name this API answers to (400)."""

    status = 400
    type_slug = "invalid-host"


class ResourceNotFound(Problem):
    """The addressed resource does not exist (404)."""

    status = 404


class NumberConflict(Problem):
    """Another number already holds these digits (409); ``existingId`` names it."""

    status = 409
    type_slug = "duplicate-number"

    def __init__(self, value: str, existing_id: int | None) -> None:
        holder = f"number {existing_id}" if existing_id is not None else "another number"
        super().__init__(
            f"The number {value!r} is already on sale as {holder}; "
            "numbers are unique by their digits, whatever their formatting.",
            members={"existingId": existing_id} if existing_id is not None else None,
        )


class ConcurrentUpdate(Problem):
    """Other writes kept changing the number while this one was applied (409); retry."""

    status = 409
    type_slug = "concurrent-update"


class StaleEtag(Problem):
    """If-Match named a version that is no longer current (412)."""

    status = 412
    type_slug = "stale-etag"


class AuthenticationFailed(Problem):
    """No valid credentials (401), with the RFC 6750 ``WWW-Authenticate: Bearer`` challenge.

    ``error`` is RFC 6750's code (``invalid_token`` for a bad or expired token); without it the
    challenge is bare, as RFC 6750 asks when the request carried no credentials at all.
    """

    status = 401
    type_slug = "unauthorized"
    realm = "telecom-numbers"

    def __init__(
        self,
        detail: str,
        *,
        type_slug: str | None = None,
        error: str | None = None,
        error_description: str | None = None,
    ) -> None:
        challenge = f'Bearer realm="{self.realm}"'
        if error is not None:
            challenge += f', error="{error}"'
        if error_description is not None:
            # A quoted-string: RFC 6750 allows neither '"' nor '\\' in it.
            cleaned = error_description.replace('"', "'").replace("\\", "/")
            challenge += f', error_description="{cleaned}"'
        super().__init__(detail, headers={"WWW-Authenticate": challenge})
        if type_slug is not None:
            self.type_slug = type_slug


class RoleForbidden(Problem):
    """Authenticated, but the user's role does not allow this request (403)."""

    status = 403
    type_slug = "forbidden"


class TooManyAttempts(Problem):
    """Too many failed logins for one username (429), with ``Retry-After`` in seconds."""

    status = 429
    type_slug = "too-many-login-attempts"

    def __init__(self, detail: str, retry_after_seconds: int) -> None:
        super().__init__(
            detail,
            members={"retryAfter": retry_after_seconds},
            headers={"Retry-After": str(retry_after_seconds)},
        )


class DatabaseUnavailable(Problem):
    """The database cannot be reached right now (503, with Retry-After)."""

    status = 503
    type_slug = "database-unavailable"
    retry_after_seconds = 5

    def __init__(self, detail: str = "The database is unavailable; retry shortly.") -> None:
        super().__init__(detail, headers={"Retry-After": str(self.retry_after_seconds)})


class DatabaseRefusesWrites(Problem):
    """The database is read-only or full (503): no Retry-After, an operator has to fix it."""

    status = 503
    type_slug = "database-refuses-writes"

    def __init__(self) -> None:
        super().__init__(
            "The database refuses writes (it is read-only or full); reads still work. "
            "Retrying will not help until an operator makes it writable again."
        )


#: What a database call raises when it fails: SQLAlchemy's wrapper of the driver's error, the
#: pool's timeout, or an unwrapped socket error. Which of them are outages, which refusals to
#: write and which bugs is decided by ``service.database`` alone.
DATABASE_ERRORS: tuple[type[Exception], ...] = (
    sa_exc.DBAPIError,
    sa_exc.TimeoutError,
    OSError,  # refused, reset, timed out (TimeoutError), unresolvable host (socket.gaierror)
)


def problem_response(
    status: int,
    detail: str,
    *,
    type_slug: str | None = None,
    title: str | None = None,
    members: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Render one problem+json response; the single place where the error shape is defined."""
    body: dict[str, Any] = {
        "type": _TYPE_BASE + type_slug if type_slug else "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    body.update(members or {})
    response: Response = current_app.json.response(body)  # type: ignore[assignment]
    response.status_code = status
    response.mimetype = PROBLEM_JSON
    response.headers.update(headers or {})
    return response


def _render_problem(error: Problem) -> Response:
    return problem_response(
        error.status,
        error.detail,
        type_slug=error.type_slug,
        members=error.members,
        headers=error.headers,
    )


def _render_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    # Keep the headers Werkzeug computed, such as Allow on a 405.
    headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
    detail = error.description or HTTPStatus(status).description
    if status == 405:
        allowed = headers.get("Allow", "")
        detail = f"This URL accepts only: {allowed}."
    return problem_response(status, detail, headers=headers)


def _render_database_error(error: Exception) -> Response:
    if database.refuses_writes(error):
        _report_refused_writes(error)
        return _render_problem(DatabaseRefusesWrites())
    if database.is_outage(error):
        log.warning("database unavailable: %s", _cause(error))
        return _render_problem(DatabaseUnavailable())
    log.error("database error on %s %s", request.method, request.path, exc_info=error)
    return _server_error()


class _RefusedWrites:
    """Logs the database's refusal to write at ERROR once, not on every write that meets it."""

    reported = False


def _report_refused_writes(error: Exception) -> None:
    if _RefusedWrites.reported:
        log.debug("database refuses writes: %s", _cause(error))
        return
    _RefusedWrites.reported = True
    log.error(
        "the database refuses writes (%s); writes get 503 until an operator makes it "
        "writable (logged once; /health/ready says so meanwhile)",
        _cause(error),
    )


def _cause(error: Exception) -> str:
    # The driver's error alone: SQLAlchemy's message adds the statement and its parameters,
    # which are the clients' data and do not belong in a warning logged on every request.
    cause = database.driver_error(error)
    return f"{type(cause).__name__}: {cause}"


def database_accepts_writes() -> None:
    """The database accepted a write probe: log the next refusal at ERROR again."""
    _RefusedWrites.reported = False


def _server_error() -> Response:
    return problem_response(
        500, "The server failed to handle this request; it has been logged with its request id."
    )


def _render_server_error(error: InternalServerError) -> Response:
    # Flask has already logged the traceback (with the request id) in log_exception.
    original = error.original_exception
    if isinstance(original, Exception) and (
        database.is_outage(original) or database.refuses_writes(original)
    ):
        return _render_database_error(original)
    return _server_error()


def init_app(app: Flask) -> None:
    """Register the handlers that turn every error into problem+json."""
    app.register_error_handler(Problem, _render_problem)
    app.register_error_handler(HTTPException, _render_http_exception)
    for error_class in DATABASE_ERRORS:
        app.register_error_handler(error_class, _render_database_error)
    app.register_error_handler(InternalServerError, _render_server_error)
