"""The API's documentation: the OpenAPI document at ``/openapi.json``, rendered at ``/docs``.

The document is written by hand in ``openapi.yaml`` and served from ``openapi.json``, which is
generated from it and checked equal by ``unit_tests/test_openapi.py``: the service needs no YAML
parser at run time. ``/docs`` is a static page that renders the document with Swagger UI, vendored
under ``static/swagger-ui/`` (no CDN, so it works offline and cannot change under us) and served
by this blueprint, which owns the service's only static files. All three are public: the
documentation is how a client learns to log in.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from flask import Blueprint, Response, request, send_from_directory
from flask.typing import ResponseReturnValue

from service.auth import public

HERE = Path(__file__).parent
OPENAPI_JSON = HERE / "openapi.json"
STATIC = HERE / "static"
DOCS_PAGE = STATIC / "docs.html"

bp = Blueprint("docs", __name__)


@cache
def _read(path: Path) -> tuple[bytes, str]:
    """A file's bytes and a strong ETag for them, read once per process."""
    data = path.read_bytes()
    return data, hashlib.sha256(data).hexdigest()[:32]


def _serve(path: Path, mimetype: str) -> ResponseReturnValue:
    data, etag = _read(path)
    response = Response(data, mimetype=mimetype)
    response.set_etag(etag)
    response.cache_control.no_cache = True  # revalidate: both change with each deployment
    return response.make_conditional(request)


# Plain (not async) views: they await nothing, both files are served from memory.
@bp.get("/openapi.json")
@public
def openapi_document() -> ResponseReturnValue:
    """This API's OpenAPI 3.1 document."""
    return _serve(OPENAPI_JSON, "application/json")


@bp.get("/docs")
@public
def documentation_page() -> ResponseReturnValue:
    """The OpenAPI document rendered for people (Swagger UI)."""
    return _serve(DOCS_PAGE, "text/html")


@bp.get("/docs/static/<path:filename>")
@public
def documentation_asset(filename: str) -> ResponseReturnValue:
    """A file the documentation page loads (the vendored Swagger UI)."""
    return send_from_directory(STATIC, filename)
