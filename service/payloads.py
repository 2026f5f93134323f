"""Reading JSON request bodies exactly: media type, size, syntax; number literals kept as text."""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from service.problems import MalformedJson, UnsupportedMediaType

JSON = "application/json"
MERGE_PATCH_JSON = "application/merge-patch+json"


class JsonNumber(str):
    """The literal text of a JSON number (``3.40``, ``12e-1``), never converted through float.

    Keeping the text lets the money rule see exactly what the client wrote.
    """

    __slots__ = ()


def _reject_constant(name: str) -> Any:
    raise ValueError(f'{name} is not valid JSON; send amounts as decimal strings such as "3.40"')


def loads(text: str | bytes) -> Any:
    """Parse JSON with numbers kept as :class:`JsonNumber` and NaN/Infinity rejected."""
    return json.loads(
        text, parse_float=JsonNumber, parse_int=JsonNumber, parse_constant=_reject_constant
    )


def read_json(accepted: tuple[str, ...] = (JSON,)) -> Any:
    """The request's JSON document, checked for media type (415), size (413) and syntax (400)."""
    mimetype = request.mimetype
    if mimetype not in accepted:
        sent = (
            f"Content-Type {request.content_type!r}" if request.content_type else "no Content-Type"
        )
        raise UnsupportedMediaType(
            f"The request has {sent}; send the body as {' or '.join(accepted)}.",
            headers={"Accept-Patch": ", ".join(accepted)} if request.method == "PATCH" else None,
        )
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge(f"The body must be at most {limit} bytes.")
    data = request.get_data(cache=True)
    if not data.strip():
        raise MalformedJson("The request body is empty; send a JSON object.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedJson(f"The body is not valid UTF-8 (byte {error.start}).") from None
    try:
        return loads(text)
    except json.JSONDecodeError as error:
        raise MalformedJson(
            f"The body is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}."
        ) from None
    except ValueError as error:
        raise MalformedJson(f"The body is not valid JSON: {error}") from None
