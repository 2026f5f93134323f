"""The API's documentation: the OpenAPI document at ``/openapi.json``, rendered at ``/docs``.

The document is written by hand in ``openapi.yaml`` and served from ``openapi.json``, which is
generated from it (``make openapi``) and checked equal by ``unit_tests/test_openapi.py``: the
service needs no YAML parser at run time. ``/docs`` is a static page that renders the document
with Swagger UI, vendored under ``static/swagger-ui/`` (no CDN, so it works offline and cannot
change under us) and served by this blueprint, which owns the service's only static files. All
are public: the documentation is how a client learns to log in.

Every file is read once per process, in a worker thread (never on the event loop), and then
served from memory with a strong ETag.
"""

from __future__ import annotations

import asyncio
import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue

from service.auth import public
from service.problems import ResourceNotFound

HERE = Path(__file__).parent
OPENAPI_JSON = HERE / "openapi.json"
STATIC = HERE / "static"
DOCS_PAGE = STATIC / "docs.html"
#: The files under /docs/static/, by their path there (listed once, at import).
ASSETS = {path.relative_to(STATIC).as_posix(): path for path in STATIC.rglob("*") if path.is_file()}
#: Swagger UI's files change only with a new vendored version: a day in caches, then revalidate.
ASSET_MAX_AGE_SECONDS = 24 * 3600

bp = Blueprint("docs", __name__)


@dataclass(frozen=True, slots=True)
class _File:
    data: bytes
    etag: str
    mimetype: str


_files: dict[Path, _File] = {}


def _read(path: Path) -> _File:
    data = path.read_bytes()
    mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return _File(data, hashlib.sha256(data).hexdigest()[:32], mimetype)


async def _load(path: Path) -> _File:
    """The file's bytes, ETag and media type, read off the event loop once per process."""
    loaded = _files.get(path)
    if loaded is None:
        # mimetypes reads the system's tables on first use: that is disk I/O too.
        loaded = _files[path] = await asyncio.to_thread(_read, path)
    return loaded


async def _serve(path: Path, max_age: int | None = None) -> ResponseReturnValue:
    file = await _load(path)
    response = Response(file.data, mimetype=file.mimetype)
    response.set_etag(file.etag)
    if max_age is None:
        response.cache_control.no_cache = True  # revalidate: it changes with each deployment
    else:
        response.cache_control.public = True
        response.cache_control.max_age = max_age
    return response.make_conditional(request)


@bp.get("/openapi.json")
@public
async def openapi_document() -> ResponseReturnValue:
    """This API's OpenAPI 3.1 document."""
    return await _serve(OPENAPI_JSON)


@bp.get("/docs")
@public
async def documentation_page() -> ResponseReturnValue:
    """The OpenAPI document rendered for people (Swagger UI)."""
    return await _serve(DOCS_PAGE)


@bp.get("/docs/static/<path:filename>")
@public
async def documentation_asset(filename: str) -> ResponseReturnValue:
    """A file the documentation page loads (the vendored Swagger UI)."""
    path = ASSETS.get(filename)
    if path is None:
        raise ResourceNotFound(f"There is no documentation file {filename!r}.")
    return await _serve(path, ASSET_MAX_AGE_SECONDS)
