"""Reading JSON request bodies exactly: media type, size, syntax; number literals kept as text."""

from __future__ import annotations

import json
from typing import Any

from flask import request

from service.problems import MalformedJson, UnsupportedBodyType

JSON = "application/json"
MERGE_PATCH_JSON = "application/merge-patch+json"


class JsonNumber(str):
    """The literal text of a JSON number (``3.40``, ``12e-1``), never converted through float.

    Keeping the text lets the money rule see exactly what the client wrote.
    """

    __slots__ = ()


def _reject_constant(name: str) -> Any:
    raise ValueError(f'{name} is not valid JSON; send amounts as decimal strings such as "3.40"')


class DuplicateKey(ValueError):
    """An object has the same member twice; which one was meant cannot be known."""


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    members: dict[str, Any] = {}
    for key, value in pairs:
        if key in members:
            raise DuplicateKey(f"the member {key!r} appears twice in one object; send it once")
        members[key] = value
    return members


def loads(text: str | bytes) -> Any:
    """Parse JSON exactly: numbers kept as text, NaN, Infinity and repeated members refused.

    Numbers become :class:`JsonNumber`; too deep a document raises ``RecursionError``.
    """
    return json.loads(
        text,
        parse_float=JsonNumber,
        parse_int=JsonNumber,
        parse_constant=_reject_constant,
        object_pairs_hook=_unique_members,
    )


def read_json(accepted: tuple[str, ...] = (JSON,)) -> Any:
    """The request's JSON document, checked for media type (415), size (413) and syntax (400)."""
    mimetype = request.mimetype
    if mimetype not in accepted:
        sent = (
            f"Content-Type {request.content_type!r}" if request.content_type else "no Content-Type"
        )
        raise UnsupportedBodyType(
            f"The request has {sent}; send the body as {' or '.join(accepted)}.",
            headers={"Accept-Patch": ", ".join(accepted)} if request.method == "PATCH" else None,
        )
    data = request.get_data(cache=True)  # MAX_CONTENT_LENGTH and the ASGI adapter bound its size
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
    except RecursionError:
        raise MalformedJson(
            "The body nests arrays or objects too deeply to be a document of this API."
        ) from None
