"""CORS for the frontend, which runs on another origin in development.

Written here rather than taken from Flask-CORS: the policy is a dozen lines, and owning it keeps
the exposed headers and the preflight answer exactly as the API contract needs.
"""

from __future__ import annotations

from flask import Flask, Response, request

ALLOWED_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
ALLOWED_HEADERS = "Content-Type, Authorization, If-Match, If-None-Match, X-Request-ID"
#: Every response header a browser client reads (fetch hides the others from scripts).
EXPOSED_HEADERS = (
    "X-Total-Count, X-Total-Count-Exact, Link, Location, ETag, X-Request-ID, Retry-After, "
    "WWW-Authenticate, Preference-Applied"
)
PREFLIGHT_MAX_AGE = "600"


def init_app(app: Flask, origins: tuple[str, ...]) -> None:
    """Answer preflights and add CORS headers for ``origins`` (``*`` allows any)."""
    allow_any = "*" in origins
    allowed = frozenset(origins)

    def allowed_origin() -> str | None:
        origin = request.headers.get("Origin")
        if origin is None:
            return None
        if allow_any:
            return "*"
        return origin if origin in allowed else None

    def preflight() -> Response | None:
        if request.method != "OPTIONS" or "Access-Control-Request-Method" not in request.headers:
            return None
        response = app.response_class(status=204)
        if request.url_rule is not None and allowed_origin() is not None:
            response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
            response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
            response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
        return response

    def add_headers(response: Response) -> Response:
        origin = allowed_origin()
        if not allow_any:
            response.vary.add("Origin")
        if origin is not None:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        return response

    app.before_request(preflight)
    app.after_request(add_headers)
